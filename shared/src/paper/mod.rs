//! The paper's published numbers (Tables 1–4), embedded so that every table Astute shows
//! can set the paper's value beside the measured one. The data is the paper's own
//! `tables.json`, read once into typed rows.

use std::str::FromStr;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{Map, Value};

use astute_api::NameError;

use crate::data::DatasetId;
use astute_api::Architecture;
use astute_api::Method;

const TABLES_JSON: &str = include_str!("tables.json");

/// One dataset of Table 1: ε and the minimum ℓ∞ distances between differently labelled
/// points, on pixels in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedSeparation {
    pub dataset: DatasetId,
    pub epsilon: f64,
    pub min_train_train: f64,
    pub min_test_train: f64,
}

impl PublishedSeparation {
    /// The headline number: separation r (half the Train–Train minimum) over ε.
    pub fn ratio_to_epsilon(&self) -> f64 {
        self.min_train_train / 2.0 / self.epsilon
    }
}

/// A row's metrics, in percent (accuracies, gaps) or as the Lipschitz constant; `None`
/// where the paper prints no value (Table 4 has no train accuracy).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PublishedMetrics {
    pub train_acc: Option<f64>,
    pub test_acc: Option<f64>,
    pub adv_test_acc: Option<f64>,
    pub test_lipschitz: Option<f64>,
    pub gap: Option<f64>,
    pub adv_gap: Option<f64>,
}

/// One trained model of Tables 2–4.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedRow {
    /// 2, 3 or 4.
    pub table: u8,
    /// The setting's name in the paper's data (`cnn1`, `cifar10_eps0.031`, ...).
    pub setting: String,
    pub dataset: DatasetId,
    pub epsilon: f64,
    /// Named only where the table's setting is the network (Table 2).
    pub architecture: Option<Architecture>,
    pub method: Method,
    /// The dropout rate of a `+dropout` row of Table 4, `None` for rows without dropout.
    pub dropout: Option<f32>,
    pub metrics: PublishedMetrics,
}

/// Everything the paper publishes that Astute measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paper {
    pub citation: String,
    pub notes: Vec<String>,
    pub separation: Vec<PublishedSeparation>,
    pub rows: Vec<PublishedRow>,
}

impl Paper {
    pub fn separation_of(&self, dataset: DatasetId) -> Option<&PublishedSeparation> {
        self.separation.iter().find(|s| s.dataset == dataset)
    }

    /// The rows of one table, in the paper's order.
    pub fn table(&self, table: u8) -> impl Iterator<Item = &PublishedRow> {
        self.rows.iter().filter(move |r| r.table == table)
    }

    /// The rows Astute measures for one table: the published ones, each LLR row followed
    /// by a twin for `llr-ref`, the reference code's LLR that made the paper's LLR
    /// numbers, so LLR as defined and LLR as run both stand beside those numbers.
    pub fn rows_measured(&self, table: u8) -> Vec<PublishedRow> {
        self.table(table)
            .flat_map(|row| {
                let twin = match row.method {
                    Method::Llr { lambda, .. } => Some(PublishedRow {
                        method: Method::LlrRef { lambda },
                        ..row.clone()
                    }),
                    _ => None,
                };
                std::iter::once(row.clone()).chain(twin)
            })
            .collect()
    }
}

/// The paper's numbers, parsed on first use.
pub fn published() -> &'static Paper {
    static PAPER: OnceLock<Paper> = OnceLock::new();
    PAPER.get_or_init(|| parse(TABLES_JSON).expect("the embedded tables.json is checked by tests"))
}

/// Reads the paper's `tables.json` layout.
pub fn parse(json: &str) -> Result<Paper, String> {
    let root: Value = serde_json::from_str(json).map_err(|e| format!("tables.json: {e}"))?;
    let root = object(&root, "the top level")?;
    let citation = text(field(root, "paper")?, "paper")?.to_owned();
    let notes = array(field(root, "notes")?, "notes")?
        .iter()
        .map(|n| text(n, "notes").map(str::to_owned))
        .collect::<Result<_, _>>()?;

    let table1 = object(field(root, "table1_separation")?, "table1_separation")?;
    let separation = object(field(table1, "rows")?, "table1_separation.rows")?
        .iter()
        .map(|(name, values)| {
            let [epsilon, min_train_train, min_test_train] = numbers::<3>(values, name)?;
            Ok(PublishedSeparation {
                dataset: name.parse().map_err(|e: NameError| e.to_string())?,
                epsilon,
                min_train_train,
                min_test_train,
            })
        })
        .collect::<Result<_, String>>()?;

    let mut rows = Vec::new();
    for (table, key, names_key) in [
        (2, "table2_mnist_eps0.1", "methods"),
        (3, "table3", "methods"),
        (4, "table4_dropout", "rows"),
    ] {
        let entry = object(field(root, key)?, key)?;
        let names: Vec<&str> = array(field(entry, names_key)?, key)?
            .iter()
            .map(|n| text(n, key))
            .collect::<Result<_, _>>()?;
        for (setting, columns) in entry.iter().filter(|(k, _)| *k != names_key) {
            let columns = object(columns, setting)?;
            let context = Setting::parse(table, key, setting)?;
            for (i, name) in names.iter().enumerate() {
                let (method, dropout) = match name.strip_suffix("+dropout") {
                    Some(base) => (base, context.dropout),
                    None => (*name, None),
                };
                rows.push(PublishedRow {
                    table,
                    setting: setting.clone(),
                    dataset: context.dataset,
                    epsilon: context.epsilon,
                    architecture: context.architecture,
                    method: method.parse().map_err(|e: NameError| e.to_string())?,
                    dropout,
                    metrics: metrics_at(columns, i, names.len(), setting)?,
                });
            }
        }
    }
    Ok(Paper {
        citation,
        notes,
        separation,
        rows,
    })
}

/// What a setting's name says: `cnn1` (under `table2_mnist_eps0.1`), `cifar10_eps0.031`,
/// `svhn_eps0.031_dropout0.5`.
struct Setting {
    dataset: DatasetId,
    epsilon: f64,
    architecture: Option<Architecture>,
    dropout: Option<f32>,
}

impl Setting {
    fn parse(table: u8, table_key: &str, setting: &str) -> Result<Self, String> {
        let (described, architecture) = if table == 2 {
            (
                table_key.trim_start_matches("table2_"),
                Some(setting.parse().map_err(|e: NameError| e.to_string())?),
            )
        } else {
            (setting, None)
        };
        let (dataset, rest) = described
            .split_once("_eps")
            .ok_or_else(|| format!("{setting}: expected DATASET_epsE"))?;
        let (epsilon, dropout) = match rest.split_once("_dropout") {
            Some((eps, rate)) => (eps, Some(number_in(rate, setting)?)),
            None => (rest, None),
        };
        Ok(Self {
            dataset: dataset.parse().map_err(|e: NameError| e.to_string())?,
            epsilon: number_in(epsilon, setting)?,
            architecture,
            dropout,
        })
    }
}

fn metrics_at(
    columns: &Map<String, Value>,
    i: usize,
    rows: usize,
    setting: &str,
) -> Result<PublishedMetrics, String> {
    let column = |name: &str| -> Result<Option<f64>, String> {
        let Some(values) = columns.get(name) else {
            return Ok(None);
        };
        let values = array(values, name)?;
        if values.len() != rows {
            return Err(format!(
                "{setting}.{name}: {} values for {rows} rows",
                values.len()
            ));
        }
        values[i]
            .as_f64()
            .map(Some)
            .ok_or_else(|| format!("{setting}.{name}[{i}] is not a number"))
    };
    Ok(PublishedMetrics {
        train_acc: column("train_acc")?,
        test_acc: column("test_acc")?,
        adv_test_acc: column("adv_test_acc")?,
        test_lipschitz: column("test_lipschitz")?,
        gap: column("gap")?,
        adv_gap: column("adv_gap")?,
    })
}

fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Result<&'a Value, String> {
    object.get(key).ok_or_else(|| format!("missing '{key}'"))
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{what} is not an object"))
}

fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("{what} is not an array"))
}

fn text<'a>(value: &'a Value, what: &str) -> Result<&'a str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("{what}: expected text"))
}

fn numbers<const N: usize>(value: &Value, what: &str) -> Result<[f64; N], String> {
    let values = array(value, what)?;
    let parsed: Vec<f64> = values
        .iter()
        .map(|v| {
            v.as_f64()
                .ok_or_else(|| format!("{what}: expected numbers"))
        })
        .collect::<Result<_, _>>()?;
    parsed
        .try_into()
        .map_err(|v: Vec<f64>| format!("{what}: expected {N} numbers, found {}", v.len()))
}

fn number_in<T: FromStr>(s: &str, setting: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("{setting}: '{s}' is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(table: u8, setting: &str, method: &str, dropout: bool) -> &'static PublishedRow {
        let method: Method = method.parse().unwrap();
        published()
            .table(table)
            .find(|r| r.setting == setting && r.method == method && r.dropout.is_some() == dropout)
            .unwrap_or_else(|| panic!("no row {table} {setting} {method}"))
    }

    #[test]
    fn every_table_has_its_rows() {
        let paper = published();
        assert_eq!(paper.separation.len(), 4);
        // Tables 2 and 3: two settings × ten methods; Table 4: two settings × ten rows.
        for table in [2, 3, 4] {
            assert_eq!(paper.table(table).count(), 20, "table {table}");
        }
        // Tables 2 and 3 have an LLR row per setting, each measured as llr and llr-ref.
        let measured = paper.rows_measured(2);
        assert_eq!(measured.len(), 22);
        let llr = measured
            .iter()
            .position(|r| matches!(r.method, Method::Llr { .. }))
            .unwrap();
        assert_eq!(measured[llr + 1].method, Method::LlrRef { lambda: 4.0 });
        assert_eq!(measured[llr + 1].metrics, measured[llr].metrics);
        assert_eq!(paper.rows_measured(4).len(), 20);
    }

    #[test]
    fn values_match_the_paper() {
        // Read off the paper's PDF: Table 1, MNIST; Table 2, CNN1 natural and TRADES(6).
        let mnist = published().separation_of(DatasetId::Mnist).unwrap();
        assert_eq!((mnist.epsilon, mnist.min_train_train), (0.1, 0.737));
        assert!((mnist.ratio_to_epsilon() - 3.685).abs() < 1e-9);

        let natural = row(2, "cnn1", "natural", false);
        assert_eq!(natural.dataset, DatasetId::Mnist);
        assert_eq!(natural.architecture, Some(Architecture::Cnn1));
        assert_eq!(natural.metrics.test_acc, Some(99.2));
        assert_eq!(natural.metrics.test_lipschitz, Some(67.25));
        assert_eq!(
            row(2, "cnn1", "trades:6", false).metrics.adv_test_acc,
            Some(93.68)
        );

        let cifar = row(3, "cifar10_eps0.031", "trades:6", false);
        assert_eq!((cifar.dataset, cifar.epsilon), (DatasetId::Cifar10, 0.031));
        assert_eq!(cifar.metrics.adv_test_acc, Some(48.58));
    }

    #[test]
    fn dropout_rows_carry_their_rate() {
        let with = row(4, "svhn_eps0.031_dropout0.5", "trades:3", true);
        assert_eq!((with.dataset, with.dropout), (DatasetId::Svhn, Some(0.5)));
        assert_eq!(with.metrics.test_acc, Some(94.0));
        assert_eq!(with.metrics.train_acc, None);
        let without = row(4, "svhn_eps0.031_dropout0.5", "trades:3", false);
        assert_eq!(without.dropout, None);
        assert_eq!(without.metrics.test_acc, Some(91.85));
    }

    #[test]
    fn malformed_tables_are_errors_not_panics() {
        let mut broken: Value = serde_json::from_str(TABLES_JSON).unwrap();
        broken["table3"]["cifar10_eps0.031"]["test_acc"] = serde_json::json!([1.0, 2.0]);
        let error = parse(&broken.to_string()).unwrap_err();
        assert!(error.contains("test_acc: 2 values for 10 rows"), "{error}");
        assert!(parse("{").is_err());
        assert!(parse("{}").unwrap_err().contains("missing 'paper'"));
    }
}
