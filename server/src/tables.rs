//! The paper's Tables 1–4 with the measured numbers beside the published ones: every
//! published row, matched to the finished runs of the same dataset, ε, architecture,
//! method and dropout, as mean ± standard deviation over those runs (seeds). Written as
//! JSON, CSV, Markdown or LaTeX.

use astute::data::DatasetId;
use astute::paper::{self, PublishedRow};
use astute::train::TrainConfig;
use serde::Serialize;

use crate::commands::row::RunRow;
use crate::separate::dataset_epsilon;
use crate::store::{RunSummary, SeparationRecord};

/// Mean and sample standard deviation of a measured value over `n` runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stat {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Stat {
    fn of(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Self { mean, std, n })
    }
}

/// One number of a row: the paper's and ours.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub paper: Option<f64>,
    pub measured: Option<Stat>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    pub setting: String,
    pub dataset: String,
    pub epsilon: f64,
    pub architecture: Option<String>,
    pub method: Option<String>,
    pub dropout: Option<f64>,
    /// Ids of the runs (Table 1: measurements) behind the measured numbers.
    pub runs: Vec<String>,
    /// Datasets the measured numbers come from when they are not `dataset` (stand-ins).
    pub measured_on: Vec<String>,
    /// One cell per column of the table.
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub number: u8,
    pub title: &'static str,
    /// Decimals in the human formats (the paper prints distances to 3, percentages to 2).
    pub decimals: usize,
    pub columns: Vec<&'static str>,
    pub rows: Vec<TableRow>,
}

/// The tables that exist.
pub const NUMBERS: [u8; 4] = [1, 2, 3, 4];

const RUN_COLUMNS: [&str; 6] = [
    "train_acc",
    "test_acc",
    "adv_test_acc",
    "test_lipschitz",
    "gap",
    "adv_gap",
];

fn run_values(row: &RunRow) -> [f64; 6] {
    let m = &row.metrics;
    [
        m.train.accuracy,
        m.test.accuracy,
        m.test.adversarial_accuracy,
        m.test.lipschitz,
        m.gap,
        m.adv_gap,
    ]
}

/// Whether a finished run measures the same thing as a published row: its dataset (or
/// the dataset it stands in for), ε, method and dropout, and the architecture (the row's,
/// or the dataset's default when the row names none; a stand-in keeps its own).
fn matches(published: &PublishedRow, run: &RunSummary) -> bool {
    let paper_dataset = published.dataset.to_string();
    let stand_in = run.stands_in_for.as_deref() == Some(paper_dataset.as_str());
    let architecture = match published.architecture {
        Some(a) => a.to_string() == run.architecture,
        None => {
            stand_in
                || TrainConfig::preset(published.dataset, published.method)
                    .architecture
                    .to_string()
                    == run.architecture
        }
    };
    (run.dataset == paper_dataset || stand_in)
        && architecture
        && run.method == published.method.to_string()
        && (run.epsilon - published.epsilon).abs() < 1e-6
        && (run.dropout - published.dropout.map_or(0.0, f64::from)).abs() < 1e-9
}

/// What has been measured: finished runs with their results, finished ℓ∞ separations.
#[derive(Default)]
pub struct Measured {
    pub runs: Vec<(RunSummary, RunRow)>,
    pub separations: Vec<SeparationRecord>,
}

/// Table `number` with what was `measured` beside the paper; `None` for a table the
/// paper does not have.
pub fn build(number: u8, measured: &Measured) -> Option<Table> {
    let paper = paper::published();
    let runs = &measured.runs;
    match number {
        1 => Some(Table {
            number,
            title: "Separation of real data: minimum ℓ∞ distance between differently labelled points",
            decimals: 3,
            columns: vec![
                "min_train_train",
                "min_test_train",
                "separation_over_epsilon",
            ],
            rows: separation_rows(&measured.separations),
        }),
        2..=4 => Some(Table {
            number,
            title: match number {
                2 => "MNIST: methods compared on two networks",
                3 => "CIFAR-10 and Restricted ImageNet: methods compared",
                _ => "Dropout: each method with and without",
            },
            decimals: 2,
            columns: RUN_COLUMNS.to_vec(),
            rows: paper
                .table(number)
                .map(|published| {
                    let matching: Vec<&(RunSummary, RunRow)> =
                        runs.iter().filter(|(s, _)| matches(published, s)).collect();
                    let values: Vec<[f64; 6]> =
                        matching.iter().map(|(_, r)| run_values(r)).collect();
                    let p = &published.metrics;
                    let paper_values = [
                        p.train_acc,
                        p.test_acc,
                        p.adv_test_acc,
                        p.test_lipschitz,
                        p.gap,
                        p.adv_gap,
                    ];
                    TableRow {
                        setting: published.setting.clone(),
                        dataset: published.dataset.to_string(),
                        epsilon: published.epsilon,
                        architecture: published.architecture.map(|a| a.to_string()),
                        method: Some(published.method.to_string()),
                        dropout: published.dropout.map(f64::from),
                        runs: matching.iter().map(|(s, _)| s.id.clone()).collect(),
                        measured_on: stand_ins(
                            matching.iter().map(|(s, _)| s.dataset.as_str()),
                            published.dataset,
                        ),
                        cells: paper_values
                            .iter()
                            .enumerate()
                            .map(|(k, &paper)| Cell {
                                paper,
                                measured: Stat::of(
                                    &values.iter().map(|v| v[k]).collect::<Vec<_>>(),
                                ),
                            })
                            .collect(),
                    }
                })
                .collect(),
        }),
        _ => None,
    }
}

/// Table 1's rows: the paper's datasets, then every other dataset measured here (with no
/// published numbers beside it).
fn separation_rows(separations: &[SeparationRecord]) -> Vec<TableRow> {
    let published = &paper::published().separation;
    let mut datasets: Vec<(String, f64, [Option<f64>; 3])> = published
        .iter()
        .map(|s| {
            let paper = [s.min_train_train, s.min_test_train, s.ratio_to_epsilon()];
            (s.dataset.to_string(), s.epsilon, paper.map(Some))
        })
        .collect();
    for record in separations {
        if !datasets.iter().any(|(d, ..)| *d == record.dataset)
            && let Ok(id) = record.dataset.parse::<DatasetId>()
        {
            datasets.push((record.dataset.clone(), dataset_epsilon(id), [None; 3]));
        }
    }
    datasets
        .into_iter()
        .map(|(dataset, epsilon, paper)| {
            let ours: Vec<&SeparationRecord> = separations
                .iter()
                .filter(|r| r.dataset == dataset)
                .collect();
            let train_train: Vec<f64> = ours.iter().filter_map(|r| r.min_train_train).collect();
            let test_train: Vec<f64> = ours.iter().filter_map(|r| r.min_test_train).collect();
            let ratios: Vec<f64> = train_train.iter().map(|m| m / 2.0 / epsilon).collect();
            TableRow {
                setting: dataset.clone(),
                dataset,
                epsilon,
                architecture: None,
                method: None,
                dropout: None,
                runs: ours.iter().map(|r| r.id.clone()).collect(),
                measured_on: Vec::new(),
                cells: paper
                    .into_iter()
                    .zip([&train_train, &test_train, &ratios])
                    .map(|(paper, values)| Cell {
                        paper,
                        measured: Stat::of(values),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The distinct datasets among `used` other than `paper`'s.
fn stand_ins<'a>(used: impl Iterator<Item = &'a str>, paper: DatasetId) -> Vec<String> {
    let paper = paper.to_string();
    let mut out: Vec<String> = used.filter(|d| *d != paper).map(str::to_owned).collect();
    out.sort();
    out.dedup();
    out
}

/// The text formats a table is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Markdown,
    Latex,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(Self::Json),
            "csv" => Some(Self::Csv),
            "md" | "markdown" => Some(Self::Markdown),
            "tex" | "latex" => Some(Self::Latex),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Markdown => "text/markdown; charset=utf-8",
            Self::Latex => "application/x-latex; charset=utf-8",
        }
    }
}

fn number(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.4}"))
}

/// How the human formats write numbers.
struct Style<'a> {
    decimals: usize,
    plus_minus: &'a str,
    dash: &'a str,
}

impl Style<'_> {
    /// "mean ± std (n)", the mean alone for one run, or a dash.
    fn measured(&self, stat: Option<Stat>) -> String {
        let d = self.decimals;
        match stat {
            Some(s) if s.n > 1 => {
                format!("{:.d$}{}{:.d$} (n={})", s.mean, self.plus_minus, s.std, s.n)
            }
            Some(s) => format!("{:.d$}", s.mean),
            None => self.dash.to_owned(),
        }
    }

    fn paper(&self, v: Option<f64>) -> String {
        let d = self.decimals;
        v.map_or_else(|| self.dash.to_owned(), |v| format!("{v:.d$}"))
    }
}

fn row_label(row: &TableRow) -> [String; 4] {
    let dataset = if row.measured_on.is_empty() {
        row.dataset.clone()
    } else {
        format!(
            "{} (measured on {})",
            row.dataset,
            row.measured_on.join(", ")
        )
    };
    [
        dataset,
        row.architecture.clone().unwrap_or_default(),
        row.method.clone().unwrap_or_default(),
        row.dropout.map_or_else(String::new, |d| d.to_string()),
    ]
}

/// A row for people: its label, then "paper / measured" per column.
fn human_fields(row: &TableRow, style: &Style<'_>) -> Vec<String> {
    let [dataset, architecture, method, dropout] = row_label(row);
    let mut fields = vec![
        dataset,
        row.epsilon.to_string(),
        architecture,
        method,
        dropout,
    ];
    fields.extend(row.cells.iter().map(|cell| {
        format!(
            "{} / {}",
            style.paper(cell.paper),
            style.measured(cell.measured)
        )
    }));
    fields
}

impl Table {
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default(),
            Format::Csv => self.csv(),
            Format::Markdown => self.markdown(),
            Format::Latex => self.latex(),
        }
    }

    /// One line per row; per column the paper's value, the measured mean, std and n.
    fn csv(&self) -> String {
        let mut header = vec![
            "setting".to_owned(),
            "dataset".into(),
            "measured_on".into(),
            "epsilon".into(),
            "architecture".into(),
            "method".into(),
            "dropout".into(),
        ];
        for c in &self.columns {
            for part in ["paper", "measured_mean", "measured_std", "measured_n"] {
                header.push(format!("{c}_{part}"));
            }
        }
        let mut out = header.join(",") + "\n";
        for row in &self.rows {
            let [_, architecture, method, dropout] = row_label(row);
            let mut fields = vec![
                row.setting.clone(),
                row.dataset.clone(),
                row.measured_on.join(" "),
                row.epsilon.to_string(),
                architecture,
                method,
                dropout,
            ];
            for cell in &row.cells {
                fields.push(number(cell.paper));
                fields.push(number(cell.measured.map(|s| s.mean)));
                fields.push(number(cell.measured.map(|s| s.std)));
                fields.push(cell.measured.map_or_else(String::new, |s| s.n.to_string()));
            }
            // No field holds a comma, quote or newline: names are identifiers, values numbers.
            out += &(fields.join(",") + "\n");
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!(
            "**Table {}.** {} (paper / measured)\n\n",
            self.number, self.title
        );
        let mut header = vec!["dataset", "ε", "architecture", "method", "dropout"];
        header.extend(self.columns.iter().copied());
        out += &format!("| {} |\n", header.join(" | "));
        out += &format!("|{}\n", "---|".repeat(header.len()));
        for row in &self.rows {
            let style = Style {
                decimals: self.decimals,
                plus_minus: " ± ",
                dash: "–",
            };
            let fields = human_fields(row, &style);
            out += &format!("| {} |\n", fields.join(" | "));
        }
        out
    }

    fn latex(&self) -> String {
        let escape = |s: &str| s.replace('_', "\\_").replace('%', "\\%");
        let mut out = format!(
            "% Table {}: {} (paper / measured)\n\\begin{{tabular}}{{lllll{}}}\n\\toprule\n",
            self.number,
            self.title,
            "c".repeat(self.columns.len())
        );
        let mut header: Vec<String> = [
            "dataset",
            "$\\epsilon$",
            "architecture",
            "method",
            "dropout",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        header.extend(self.columns.iter().map(|c| escape(c)));
        out += &format!("{} \\\\\n\\midrule\n", header.join(" & "));
        for row in &self.rows {
            let style = Style {
                decimals: self.decimals,
                plus_minus: " $\\pm$ ",
                dash: "--",
            };
            let fields: Vec<String> = human_fields(row, &style)
                .iter()
                .map(|f| escape(f))
                .collect();
            out += &format!("{} \\\\\n", fields.join(" & "));
        }
        out + "\\bottomrule\n\\end{tabular}\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std_by_hand() {
        let s = Stat::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.mean, 2.5);
        // Σ(x − 2.5)² = 5, over n − 1 = 3.
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(Stat::of(&[7.0]).unwrap().std, 0.0);
        assert!(Stat::of(&[]).is_none());
    }

    #[test]
    fn published_numbers_appear_in_every_format() {
        let table = build(2, &Measured::default()).unwrap();
        // Table 2, CNN1 natural: test accuracy 99.2 in the paper.
        let row = table
            .rows
            .iter()
            .find(|r| {
                r.architecture.as_deref() == Some("cnn1") && r.method.as_deref() == Some("natural")
            })
            .unwrap();
        assert_eq!(row.cells[1].paper, Some(99.2));
        assert!(row.cells[1].measured.is_none());
        assert!(table.render(Format::Csv).contains("99.2000"));
        assert!(table.render(Format::Markdown).contains("99.20 / –"));
        assert!(table.render(Format::Latex).contains("99.20 / --"));
        assert!(table.render(Format::Json).contains("99.2"));
        assert!(build(5, &Measured::default()).is_none());
    }
}
