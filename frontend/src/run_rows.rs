//! The runs table's rows: each run's fields by column (the names the filter language
//! uses), and runs grouped by setting with the mean ± std of their metrics. The one place
//! that reads a [`RunSummary`] field by name: a field renamed in `astute-api` fails to
//! compile here.

use std::collections::{BTreeMap, BTreeSet};

use astute_api::RunSummary;
use astute_api::table::{Grid, Stat};

/// The runs table's columns; also the fields a filter may name.
pub const COLUMNS: &[&str] = &[
    "id",
    "dataset",
    "architecture",
    "method",
    "dropout",
    "epsilon",
    "epochs",
    "seed",
    "status",
    "scale",
    "trained",
    "train_acc",
    "test_acc",
    "adv_test_acc",
    "autoattack_test_acc",
    "test_lipschitz",
    "masking",
];
/// What a seed group is keyed on: everything that defines the experiment but the seed.
const SETTING: &[&str] = &[
    "dataset",
    "architecture",
    "method",
    "dropout",
    "epsilon",
    "epochs",
    "scale",
];
const METRICS: &[&str] = &[
    "train_acc",
    "test_acc",
    "adv_test_acc",
    "autoattack_test_acc",
    "test_lipschitz",
];

/// One cell of the table.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Missing,
    Text(String),
    Integer(u64),
    Number(f64),
    /// A metric over a group of seeds.
    Mean(Stat),
}

impl Field {
    fn optional(value: Option<f64>) -> Self {
        value.map_or(Self::Missing, Self::Number)
    }

    /// The value as a number, when it is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Self::Integer(n) => Some(*n as f64),
            Self::Number(v) => Some(*v),
            Self::Mean(stat) => Some(stat.mean),
            Self::Missing | Self::Text(_) => None,
        }
    }

    /// The value as the filter language reads it (numbers in full).
    pub fn raw(&self) -> Option<String> {
        match self {
            Self::Missing => None,
            Self::Text(text) => Some(text.clone()),
            Self::Integer(n) => Some(n.to_string()),
            Self::Number(v) => Some(v.to_string()),
            Self::Mean(stat) => Some(stat.mean.to_string()),
        }
    }

    /// The value as shown: numbers with `decimals` places, a group's mean ± std.
    pub fn text(&self, decimals: usize) -> String {
        match self {
            Self::Missing => String::new(),
            Self::Text(text) => text.clone(),
            Self::Integer(n) => n.to_string(),
            Self::Number(v) => format!("{v:.decimals$}"),
            Self::Mean(stat) if stat.n > 1 => {
                format!("{:.decimals$} ± {:.decimals$}", stat.mean, stat.std)
            }
            Self::Mean(stat) => format!("{:.decimals$}", stat.mean),
        }
    }
}

/// A row of the table: one run, or a group of seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The run's id (a group's: its runs' ids, space-separated).
    pub id: String,
    /// Whether it is one run (a group has no page of its own).
    pub single: bool,
    fields: BTreeMap<&'static str, Field>,
}

impl Row {
    pub fn of(run: &RunSummary) -> Self {
        let text = |value: String| Field::Text(value);
        let fields = COLUMNS
            .iter()
            .map(|&column| {
                let field = match column {
                    "id" => text(run.id.clone()),
                    "dataset" => text(run.dataset.to_string()),
                    "architecture" => text(run.architecture.to_string()),
                    "method" => text(run.method.to_string()),
                    "dropout" => Field::Number(run.dropout),
                    "epsilon" => Field::Number(run.epsilon),
                    "epochs" => Field::Integer(run.epochs.max(0) as u64),
                    "seed" => Field::Integer(run.seed),
                    "status" => text(run.status.to_string()),
                    "scale" => run.scale.clone().map_or(Field::Missing, text),
                    "trained" => trained(run),
                    "train_acc" => Field::optional(run.train_acc),
                    "test_acc" => Field::optional(run.test_acc),
                    "adv_test_acc" => Field::optional(run.adv_test_acc),
                    "autoattack_test_acc" => Field::optional(run.autoattack_test_acc),
                    "test_lipschitz" => Field::optional(run.test_lipschitz),
                    "masking" => masking(&run.masking_raised),
                    other => unreachable!("column {other} has no field"),
                };
                (column, field)
            })
            .collect();
        Self {
            id: run.id.clone(),
            single: true,
            fields,
        }
    }

    /// The field of `column` (missing for a column the row lacks).
    pub fn field(&self, column: &str) -> &Field {
        self.fields.get(column).unwrap_or(&Field::Missing)
    }
}

/// `no` for a run whose train accuracy stayed near chance, `yes` for one that trained
/// (missing until it has a train accuracy).
fn trained(run: &RunSummary) -> Field {
    match (run.train_acc, run.did_not_train) {
        (None, _) => Field::Missing,
        (Some(_), true) => Field::Text("no".into()),
        (Some(_), false) => Field::Text("yes".into()),
    }
}

/// The raised gradient-masking checks, comma-separated (missing when none was raised).
fn masking(raised: &[astute_api::MaskingCheck]) -> Field {
    if raised.is_empty() {
        return Field::Missing;
    }
    let names: Vec<&str> = raised.iter().map(|check| check.headline()).collect();
    Field::Text(names.join(", "))
}

/// Rows grouped by setting: one row per group with the metrics' mean ± std and `n` over
/// its runs that trained (as the paper's tables count them), and how many did.
pub fn group_seeds(rows: &[&Row]) -> Vec<Row> {
    let mut groups: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for row in rows {
        let key: Vec<String> = SETTING.iter().map(|c| row.field(c).text(6)).collect();
        groups.entry(key.join("|")).or_default().push(row);
    }
    groups
        .into_values()
        .map(|members| {
            let mut fields: BTreeMap<&'static str, Field> = SETTING
                .iter()
                .map(|&c| (c, members[0].field(c).clone()))
                .collect();
            fields.insert("seed", Field::Text(format!("{} seed(s)", members.len())));
            let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
            let statuses: BTreeSet<String> =
                members.iter().map(|m| m.field("status").text(0)).collect();
            fields.insert(
                "status",
                Field::Text(statuses.into_iter().collect::<Vec<_>>().join(", ")),
            );
            let untrained = |m: &&&Row| m.field("trained") == &Field::Text("no".into());
            let stuck = members.iter().filter(untrained).count();
            if stuck > 0 {
                fields.insert(
                    "trained",
                    Field::Text(format!("{} of {}", members.len() - stuck, members.len())),
                );
            } else if let Some(trained) = members.iter().find_map(|m| m.field("trained").raw()) {
                fields.insert("trained", Field::Text(trained));
            }
            for &metric in METRICS {
                let values: Vec<f64> = members
                    .iter()
                    .filter(|m| !untrained(m))
                    .filter_map(|m| m.field(metric).number())
                    .collect();
                if let Some(stat) = Stat::of(&values) {
                    fields.insert(metric, Field::Mean(stat));
                }
            }
            let flagged: BTreeSet<String> = members
                .iter()
                .filter_map(|m| m.field("masking").raw())
                .collect();
            if !flagged.is_empty() {
                let flagged: Vec<String> = flagged.into_iter().collect();
                fields.insert("masking", Field::Text(flagged.join("; ")));
            }
            let id = ids.join(" ");
            fields.insert("id", Field::Text(id.clone()));
            Row {
                id,
                single: false,
                fields,
            }
        })
        .collect()
}

/// `rows` as the runs table shows them, for export.
pub fn grid(rows: &[Row]) -> Grid {
    Grid {
        title: None,
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        label_columns: COLUMNS.len(),
        rows: rows
            .iter()
            .map(|row| COLUMNS.iter().map(|c| row.field(c).text(2)).collect())
            .collect(),
        notes: Vec::new(),
    }
}

/// A finished CNN2 run at ε 0.1 with no metrics, for tests to fill in (read as the API
/// sends it: what is left out is not measured).
#[cfg(test)]
pub fn finished_run(
    id: &str,
    dataset: astute_api::DatasetId,
    method: astute_api::Method,
    seed: u64,
) -> RunSummary {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "dataset": dataset,
        "architecture": "cnn2",
        "method": method,
        "dropout": 0.0,
        "epsilon": 0.1,
        "epochs": 3,
        "seed": seed,
        "status": "done",
        "created_at": 0,
        "epochs_done": 3,
        "attempts": 1,
    }))
    .expect("a finished run's summary")
}

#[cfg(test)]
mod tests {
    use super::*;
    use astute_api::{DatasetId, Method};

    fn run(id: &str, method: Method, seed: u64, test_acc: Option<f64>) -> RunSummary {
        RunSummary {
            test_acc,
            scale: Some("cpu".into()),
            ..finished_run(id, DatasetId::FashionMnist, method, seed)
        }
    }

    #[test]
    fn seeds_of_one_setting_group_with_mean_and_sample_std() {
        let runs = [
            run("a", Method::Natural, 0, Some(90.0)),
            run("b", Method::Natural, 1, Some(92.0)),
            run("c", Method::At, 0, Some(80.0)),
        ];
        let rows: Vec<Row> = runs.iter().map(Row::of).collect();
        let refs: Vec<&Row> = rows.iter().collect();
        let groups = group_seeds(&refs);
        assert_eq!(groups.len(), 2);
        let natural = groups.iter().find(|g| g.id == "a b").unwrap();
        assert!(!natural.single);
        assert_eq!(natural.field("seed").text(2), "2 seed(s)");
        // Mean 91, sample std √2 = 1.41.
        assert_eq!(natural.field("test_acc").text(2), "91.00 ± 1.41");
        assert_eq!(natural.field("adv_test_acc"), &Field::Missing);
        let at = groups.iter().find(|g| g.id == "c").unwrap();
        assert_eq!(at.field("test_acc").text(2), "80.00");
    }

    #[test]
    fn the_export_holds_the_shown_text() {
        let rows = vec![Row::of(&run(
            "a",
            Method::Trades { beta: 6.0 },
            0,
            Some(71.456),
        ))];
        let csv = grid(&rows).render(astute_api::table::Format::Csv);
        assert_eq!(
            csv,
            "id,dataset,architecture,method,dropout,epsilon,epochs,seed,status,scale,trained,train_acc,test_acc,adv_test_acc,autoattack_test_acc,test_lipschitz,masking\n\
             a,fashion-mnist,cnn2,trades:6,0.00,0.10,3,0,done,cpu,,,71.46,,,,\n"
        );
    }

    #[test]
    fn a_group_counts_only_its_runs_that_trained() {
        let stuck = RunSummary {
            train_acc: Some(10.0),
            did_not_train: true,
            ..run("a", Method::Natural, 0, Some(10.0))
        };
        let trained = |id, seed, accuracy| RunSummary {
            train_acc: Some(98.0),
            ..run(id, Method::Natural, seed, Some(accuracy))
        };
        let rows: Vec<Row> = [stuck, trained("b", 1, 96.0), trained("c", 2, 98.0)]
            .iter()
            .map(Row::of)
            .collect();
        let groups = group_seeds(&rows.iter().collect::<Vec<_>>());
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].field("trained").text(2), "2 of 3");
        // Mean 97 over b and c, not 68 over all three.
        assert_eq!(groups[0].field("test_acc").text(2), "97.00 ± 1.41");
    }

    #[test]
    fn a_run_that_did_not_train_says_so() {
        let stuck = RunSummary {
            train_acc: Some(10.0),
            did_not_train: true,
            ..run(
                "a",
                Method::Llr {
                    lambda: 4.0,
                    mu: 3.0,
                },
                0,
                Some(9.8),
            )
        };
        let trained = RunSummary {
            train_acc: Some(97.5),
            ..run("b", Method::Natural, 0, Some(96.0))
        };
        assert_eq!(Row::of(&stuck).field("trained").text(2), "no");
        assert_eq!(Row::of(&stuck).field("train_acc").text(2), "10.00");
        assert_eq!(Row::of(&trained).field("trained").text(2), "yes");
        let queued = run("c", Method::Natural, 0, None);
        assert_eq!(Row::of(&queued).field("trained"), &Field::Missing);
    }
}
