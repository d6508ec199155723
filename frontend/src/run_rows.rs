//! The runs table's rows: each run's fields by column (the names the filter language
//! uses), and runs grouped by setting with the mean ± std of their metrics. The one place
//! that reads a [`RunSummary`] field by name: a field renamed in `astute-api` fails to
//! compile here.

use std::collections::{BTreeMap, BTreeSet};

use astute_api::RunSummary;
use astute_api::table::{Grid, Stat};

use crate::components::{count, rate};

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
    "adv_train_acc",
    "adv_test_acc",
    "autoattack_test_acc",
    "gap",
    "adv_gap",
    "train_lipschitz",
    "test_lipschitz",
    "masking",
];
/// The columns left out until a visitor chooses them: the train-side numbers the gaps
/// already summarise.
const HIDDEN_BY_DEFAULT: &[&str] = &["adv_train_acc", "train_lipschitz"];

/// The columns shown until a visitor chooses.
pub fn default_columns() -> Vec<&'static str> {
    COLUMNS
        .iter()
        .copied()
        .filter(|c| !HIDDEN_BY_DEFAULT.contains(c))
        .collect()
}
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
    "adv_train_acc",
    "adv_test_acc",
    "autoattack_test_acc",
    "gap",
    "adv_gap",
    "train_lipschitz",
    "test_lipschitz",
];

/// One cell of the table.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Missing,
    Text(String),
    /// A dataset, and the paper's dataset it stands in for (the name the tables use): a
    /// filter on either name finds it.
    Dataset {
        name: String,
        stands_in_for: Option<String>,
    },
    Integer(u64),
    Number(f64),
    /// A setting as it was written (ε 0.005, dropout 0.5): shown in full, never rounded.
    Setting(f64),
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
            Self::Number(v) | Self::Setting(v) => Some(*v),
            Self::Mean(stat) => Some(stat.mean),
            Self::Missing | Self::Text(_) | Self::Dataset { .. } => None,
        }
    }

    /// The value as the filter language reads it (numbers in full).
    pub fn raw(&self) -> Option<String> {
        match self {
            Self::Missing => None,
            Self::Text(text) | Self::Dataset { name: text, .. } => Some(text.clone()),
            Self::Integer(n) => Some(n.to_string()),
            Self::Number(v) | Self::Setting(v) => Some(v.to_string()),
            Self::Mean(stat) => Some(stat.mean.to_string()),
        }
    }

    /// Every name an equality or `~` filter may match: a stand-in dataset also answers to
    /// the dataset it stands in for.
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::Dataset {
                name,
                stands_in_for,
            } => std::iter::once(name.clone())
                .chain(stands_in_for.clone())
                .collect(),
            other => other.raw().into_iter().collect(),
        }
    }

    /// The value as shown: numbers with `decimals` places, a group's mean ± std.
    pub fn text(&self, decimals: usize) -> String {
        match self {
            Self::Missing => String::new(),
            Self::Text(text) => text.clone(),
            Self::Dataset {
                name,
                stands_in_for: Some(paper),
            } => format!("{name} (as {paper})"),
            Self::Dataset { name, .. } => name.clone(),
            Self::Integer(n) => n.to_string(),
            Self::Number(v) => format!("{v:.decimals$}"),
            Self::Setting(v) => v.to_string(),
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
                    "dataset" => Field::Dataset {
                        name: run.dataset.to_string(),
                        stands_in_for: run.stands_in_for.map(|d| d.to_string()),
                    },
                    "architecture" => text(run.architecture.to_string()),
                    "method" => text(run.method.to_string()),
                    "dropout" => Field::Setting(rate(run.dropout)),
                    "epsilon" => Field::Setting(run.epsilon),
                    "epochs" => Field::Integer(run.epochs.max(0) as u64),
                    "seed" => Field::Integer(run.seed),
                    "status" => text(run.status.to_string()),
                    "scale" => run.scale.clone().map_or(Field::Missing, text),
                    "trained" => trained(run),
                    "train_acc" => Field::optional(run.train_acc),
                    "test_acc" => Field::optional(run.test_acc),
                    "adv_train_acc" => Field::optional(run.adv_train_acc),
                    "adv_test_acc" => Field::optional(run.adv_test_acc),
                    "autoattack_test_acc" => Field::optional(run.autoattack_test_acc),
                    "gap" => Field::optional(run.gap()),
                    "adv_gap" => Field::optional(run.adv_gap()),
                    "train_lipschitz" => Field::optional(run.train_lipschitz),
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
            fields.insert("seed", Field::Text(count(members.len() as u32, "seed")));
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

/// The columns a `cols` URL parameter (names, comma-separated) chooses, in the table's
/// order and always with `id`; the default ones without it. Unknown names are left out.
pub fn chosen_columns(param: Option<&str>) -> Vec<&'static str> {
    let Some(param) = param.filter(|p| !p.is_empty()) else {
        return default_columns();
    };
    let wanted: BTreeSet<&str> = param.split(',').map(str::trim).collect();
    COLUMNS
        .iter()
        .copied()
        .filter(|&c| c == "id" || wanted.contains(c))
        .collect()
}

/// The `cols` URL parameter for `columns` (empty for the default ones).
pub fn columns_param(columns: &[&str]) -> String {
    let chosen: BTreeSet<&str> = columns.iter().copied().collect();
    let default: BTreeSet<&str> = default_columns().into_iter().collect();
    if chosen == default {
        return String::new();
    }
    let in_order: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| chosen.contains(c))
        .collect();
    in_order.join(",")
}

/// Columns whose cell reads the same in every one of two or more rows, with that text
/// (empty where no row has a value): the table states them once, above it, instead of
/// repeating them on every line. `id` never folds.
pub fn constant_columns(rows: &[&Row], columns: &[&'static str]) -> Vec<(&'static str, String)> {
    if rows.len() < 2 {
        return Vec::new();
    }
    columns
        .iter()
        .copied()
        .filter(|&c| c != "id")
        .filter_map(|c| {
            let first = rows[0].field(c).text(2);
            rows.iter()
                .all(|row| row.field(c).text(2) == first)
                .then_some((c, first))
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
        assert_eq!(natural.field("seed").text(2), "2 seeds");
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
            "id,dataset,architecture,method,dropout,epsilon,epochs,seed,status,scale,trained,train_acc,test_acc,adv_train_acc,adv_test_acc,autoattack_test_acc,gap,adv_gap,train_lipschitz,test_lipschitz,masking\n\
             a,fashion-mnist,cnn2,trades:6,0,0.1,3,0,done,cpu,,,71.46,,,,,,,,\n"
        );
    }

    #[test]
    fn gaps_are_train_minus_test_and_group_like_any_metric() {
        let measured = |id, seed, train, test, adv_train, adv_test| RunSummary {
            train_acc: Some(train),
            adv_train_acc: Some(adv_train),
            adv_test_acc: Some(adv_test),
            ..run(id, Method::At, seed, Some(test))
        };
        let rows: Vec<Row> = [
            measured("a", 0, 90.0, 85.0, 60.0, 50.0),
            measured("b", 1, 92.0, 85.0, 62.0, 50.0),
        ]
        .iter()
        .map(Row::of)
        .collect();
        assert_eq!(rows[0].field("gap").text(2), "5.00");
        assert_eq!(rows[1].field("adv_gap").text(2), "12.00");
        let groups = group_seeds(&rows.iter().collect::<Vec<_>>());
        // Gaps 5 and 7, adversarial gaps 10 and 12: means 6 and 11, sample std √2.
        assert_eq!(groups[0].field("gap").text(2), "6.00 ± 1.41");
        assert_eq!(groups[0].field("adv_gap").text(2), "11.00 ± 1.41");
        assert_eq!(groups[0].field("adv_train_acc").text(2), "61.00 ± 1.41");
    }

    #[test]
    fn a_rate_stored_as_a_widened_f32_reads_as_written() {
        let widened = RunSummary {
            dropout: f64::from(0.2f32),
            ..run("a", Method::Natural, 0, None)
        };
        assert_eq!(Row::of(&widened).field("dropout"), &Field::Setting(0.2));
    }

    #[test]
    fn the_url_chooses_columns_in_the_tables_order_and_keeps_the_id() {
        assert_eq!(chosen_columns(None), default_columns());
        assert_eq!(chosen_columns(Some("")), default_columns());
        assert!(!default_columns().contains(&"train_lipschitz"));
        assert_eq!(
            chosen_columns(Some("adv_gap,gap,no_such_column")),
            ["id", "gap", "adv_gap"]
        );
        assert_eq!(columns_param(&["id", "gap", "adv_gap"]), "id,gap,adv_gap");
        assert_eq!(columns_param(&default_columns()), "");
        for columns in [vec!["id", "train_lipschitz"], default_columns()] {
            let param = columns_param(&columns);
            assert_eq!(chosen_columns(Some(&param)), columns);
        }
    }

    #[test]
    fn columns_equal_in_every_row_fold_and_the_others_stay() {
        let rows: Vec<Row> = [
            run("a", Method::Natural, 0, Some(90.0)),
            run("b", Method::At, 1, Some(80.0)),
        ]
        .iter()
        .map(Row::of)
        .collect();
        let refs: Vec<&Row> = rows.iter().collect();
        let folded = constant_columns(
            &refs,
            &["id", "method", "epsilon", "scale", "test_acc", "masking"],
        );
        assert_eq!(
            folded,
            [
                ("epsilon", "0.1".to_owned()),
                ("scale", "cpu".to_owned()),
                ("masking", String::new())
            ]
        );
        // One row has nothing to compare against: nothing folds.
        assert!(constant_columns(&refs[..1], COLUMNS).is_empty());
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
