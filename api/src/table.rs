//! The paper's tables with the measured numbers beside the published ones
//! (`GET /api/tables/{number}`), and the one renderer of tables as text: CSV, Markdown
//! and LaTeX, used by the server's downloads and the web app's exports alike.

use crate::{Architecture, DatasetId, MaskingCheck, Method};

/// Mean and sample standard deviation of a measured value over `n` runs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stat {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Stat {
    /// `None` for no values; the standard deviation of one value is 0.
    pub fn of(values: &[f64]) -> Option<Self> {
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

    /// "mean ± std (n=N)", or the mean alone for one run, with `decimals` places.
    pub fn display(&self, decimals: usize) -> String {
        let d = decimals;
        if self.n > 1 {
            format!("{:.d$} ± {:.d$} (n={})", self.mean, self.std, self.n)
        } else {
            format!("{:.d$}", self.mean)
        }
    }
}

/// One number of a row: the paper's and ours.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cell {
    pub paper: Option<f64>,
    pub measured: Option<Stat>,
}

/// One published setting and what was measured for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableRow {
    pub setting: String,
    pub dataset: DatasetId,
    pub epsilon: f64,
    pub architecture: Option<Architecture>,
    pub method: Option<Method>,
    pub dropout: Option<f64>,
    /// Ids of the runs (Table 1: measurements) behind the measured numbers.
    pub runs: Vec<String>,
    /// Gradient-masking checks raised by any of those runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masking: Vec<MaskingCheck>,
    /// Datasets the measured numbers come from when they are not `dataset` (stand-ins).
    pub measured_on: Vec<DatasetId>,
    /// Ids of the matching runs that did not train (train accuracy near chance): left out
    /// of the measured numbers unless the table was asked to include them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untrained: Vec<String>,
    /// Whether `untrained` runs are counted in the measured numbers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub untrained_included: bool,
    /// One cell per column of the table.
    pub cells: Vec<Cell>,
}

impl TableRow {
    /// The row's setting in words: dataset, ε, network, method, dropout.
    pub fn label(&self) -> String {
        let mut parts = vec![self.dataset.to_string(), format!("ε={}", self.epsilon)];
        parts.extend(self.architecture.map(|a| a.to_string()));
        parts.extend(self.method.map(|m| m.to_string()));
        parts.extend(self.dropout.map(|d| format!("dropout {d}")));
        parts.join(" · ")
    }

    /// The method, with the gradient-masking checks its runs raised and the runs that did
    /// not train.
    fn method_label(&self) -> String {
        let mut label = optional(self.method);
        if !self.masking.is_empty() {
            let raised: Vec<&str> = self.masking.iter().map(|c| c.headline()).collect();
            label.push_str(&format!(" (masking: {})", raised.join(", ")));
        }
        if let Some(note) = self.untrained_note() {
            label.push_str(&format!(" ({note})"));
        }
        label
    }

    /// "1 of 2 runs did not train, left out", or `None` when every run trained.
    pub fn untrained_note(&self) -> Option<String> {
        if self.untrained.is_empty() {
            return None;
        }
        let n = self.untrained.len();
        // Counted runs are among `runs` already.
        let (of, counted) = if self.untrained_included {
            (self.runs.len(), "counted")
        } else {
            (self.runs.len() + n, "left out")
        };
        let runs = if of == 1 { "run" } else { "runs" };
        Some(format!("{n} of {of} {runs} did not train, {counted}"))
    }

    fn dataset_label(&self) -> String {
        if self.measured_on.is_empty() {
            self.dataset.to_string()
        } else {
            let on: Vec<String> = self.measured_on.iter().map(|d| d.to_string()).collect();
            format!("{} (measured on {})", self.dataset, on.join(", "))
        }
    }
}

/// One of the paper's tables, published beside measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Table {
    pub number: u8,
    pub title: String,
    /// Decimals in the human formats (the paper prints distances to 3, percentages to 2).
    pub decimals: usize,
    /// The measured quantities, one per cell of a row (`test_acc`, `min_train_train`, ...).
    pub columns: Vec<String>,
    pub rows: Vec<TableRow>,
    /// How the measured numbers were made, where the paper's protocol leaves a choice:
    /// the Lipschitz step, the stand-ins and their networks, the images AutoAttack saw.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Table {
    /// The table in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default(),
            Format::Csv => self.machine_grid().render(format),
            Format::Markdown | Format::Latex => self.human_grid().render(format),
        }
    }

    /// For programs: one line per row; per column the paper's value, the measured mean,
    /// std and n, numbers to 4 places.
    fn machine_grid(&self) -> Grid {
        let mut columns: Vec<String> = [
            "setting",
            "dataset",
            "measured_on",
            "epsilon",
            "architecture",
            "method",
            "dropout",
        ]
        .map(str::to_owned)
        .to_vec();
        for c in &self.columns {
            for part in ["paper", "measured_mean", "measured_std", "measured_n"] {
                columns.push(format!("{c}_{part}"));
            }
        }
        let number = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.4}"));
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let on: Vec<String> = row.measured_on.iter().map(|d| d.to_string()).collect();
                let mut fields = vec![
                    row.setting.clone(),
                    row.dataset.to_string(),
                    on.join(" "),
                    row.epsilon.to_string(),
                    optional(row.architecture),
                    optional(row.method),
                    optional(row.dropout),
                ];
                for cell in &row.cells {
                    fields.push(number(cell.paper));
                    fields.push(number(cell.measured.map(|s| s.mean)));
                    fields.push(number(cell.measured.map(|s| s.std)));
                    fields.push(cell.measured.map_or_else(String::new, |s| s.n.to_string()));
                }
                fields
            })
            .collect();
        Grid {
            title: None,
            label_columns: columns.len(),
            columns,
            rows,
            notes: Vec::new(),
        }
    }

    /// For people: the row's setting, then "paper / measured" per column.
    fn human_grid(&self) -> Grid {
        let d = self.decimals;
        let mut columns: Vec<String> = ["dataset", "ε", "architecture", "method", "dropout"]
            .map(str::to_owned)
            .to_vec();
        columns.extend(self.columns.iter().cloned());
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let mut fields = vec![
                    row.dataset_label(),
                    row.epsilon.to_string(),
                    optional(row.architecture),
                    row.method_label(),
                    optional(row.dropout),
                ];
                fields.extend(row.cells.iter().map(|cell| {
                    let paper = cell
                        .paper
                        .map_or_else(|| DASH.to_owned(), |v| format!("{v:.d$}"));
                    let measured = cell
                        .measured
                        .map_or_else(|| DASH.to_owned(), |s| s.display(d));
                    format!("{paper} / {measured}")
                }));
                fields
            })
            .collect();
        Grid {
            title: Some(format!(
                "Table {}: {} (paper / measured)",
                self.number, self.title
            )),
            label_columns: 5,
            columns,
            rows,
            notes: self.notes.clone(),
        }
    }
}

/// What a missing number is written as.
const DASH: &str = "–";

fn optional(value: Option<impl std::fmt::Display>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

/// The text formats a table is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
    Markdown,
    Latex,
}

impl Format {
    /// The text formats, for export menus.
    pub const TEXT: [Format; 3] = [Format::Csv, Format::Markdown, Format::Latex];
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Csv, Format::Markdown, Format::Latex, Format::Json];

    /// `json`, `csv`, `md` or `markdown`, `tex` or `latex`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(Self::Json),
            "csv" => Some(Self::Csv),
            "md" | "markdown" => Some(Self::Markdown),
            "tex" | "latex" => Some(Self::Latex),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::Csv => "CSV",
            Self::Markdown => "Markdown",
            Self::Latex => "LaTeX",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Markdown => "md",
            Self::Latex => "tex",
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

/// Rows of text under a header: what every table becomes before it is written out.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// A caption (Markdown and LaTeX only).
    pub title: Option<String>,
    pub columns: Vec<String>,
    /// The first columns, which name a row (left-aligned in LaTeX; the rest centred).
    pub label_columns: usize,
    pub rows: Vec<Vec<String>>,
    /// Sentences under the table (Markdown and LaTeX only).
    pub notes: Vec<String>,
}

impl Grid {
    /// The grid in a text format (JSON is not one: an array of objects keyed by column).
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Csv => self.csv(),
            Format::Markdown => self.markdown(),
            Format::Latex => self.latex(),
            Format::Json => {
                let objects: Vec<serde_json::Map<String, serde_json::Value>> = self
                    .rows
                    .iter()
                    .map(|row| {
                        self.columns
                            .iter()
                            .cloned()
                            .zip(row.iter().cloned().map(serde_json::Value::String))
                            .collect()
                    })
                    .collect();
                serde_json::to_string_pretty(&objects).unwrap_or_default()
            }
        }
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
    fn csv(&self) -> String {
        let line = |cells: &[String]| {
            let fields: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
            fields.join(",") + "\n"
        };
        let mut out = line(&self.columns);
        for row in &self.rows {
            out += &line(row);
        }
        out
    }

    fn markdown(&self) -> String {
        let line = |cells: &[String]| {
            let fields: Vec<String> = cells.iter().map(|c| markdown_escape(c)).collect();
            format!("| {} |\n", fields.join(" | "))
        };
        let mut out = self
            .title
            .as_ref()
            .map_or_else(String::new, |t| format!("**{}**\n\n", markdown_escape(t)));
        out += &line(&self.columns);
        out += &format!("|{}\n", "---|".repeat(self.columns.len()));
        for row in &self.rows {
            out += &line(row);
        }
        for note in &self.notes {
            out += &format!("\n{}\n", markdown_escape(note));
        }
        out
    }

    fn latex(&self) -> String {
        let line = |cells: &[String]| {
            let fields: Vec<String> = cells.iter().map(|c| latex_escape(c)).collect();
            fields.join(" & ") + " \\\\\n"
        };
        let labels = self.label_columns.min(self.columns.len());
        let mut out = self.title.as_ref().map_or_else(String::new, |t| {
            // A comment runs to the end of its line: the caption stays on one.
            format!("% {}\n", t.replace(['\n', '\r'], " "))
        });
        out += &format!(
            "\\begin{{tabular}}{{{}{}}}\n\\toprule\n",
            "l".repeat(labels),
            "c".repeat(self.columns.len() - labels)
        );
        out += &line(&self.columns);
        out += "\\midrule\n";
        for row in &self.rows {
            out += &line(row);
        }
        out += "\\bottomrule\n\\end{tabular}\n";
        for note in &self.notes {
            out += &format!("% {}\n", note.replace(['\n', '\r'], " "));
        }
        out
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn markdown_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Text as LaTeX typesets it: its ten special characters escaped, line breaks as spaces,
/// and the symbols the tables use (ε, ±, –, ×) in math mode.
fn latex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\textbackslash{}"),
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '\n' | '\r' => out.push(' '),
            'ε' => out.push_str("$\\epsilon$"),
            '±' => out.push_str("$\\pm$"),
            '×' => out.push_str("$\\times$"),
            '–' => out.push_str("--"),
            _ => out.push(c),
        }
    }
    out
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
        assert_eq!(s.display(2), "2.50 ± 1.29 (n=4)");
        assert_eq!(Stat::of(&[7.0]).unwrap().display(1), "7.0");
    }

    fn grid(cells: &[&str]) -> Grid {
        Grid {
            title: None,
            columns: vec!["a".into(), "b".into()],
            label_columns: 1,
            rows: vec![cells.iter().map(|c| c.to_string()).collect()],
            notes: Vec::new(),
        }
    }

    /// The special characters of each format, written by hand the way each format's own
    /// rules spell them.
    #[test]
    fn each_format_escapes_its_special_characters() {
        let g = grid(&["a, \"b\"", "x&y#z\\w_%"]);
        assert_eq!(g.render(Format::Csv), "a,b\n\"a, \"\"b\"\"\",x&y#z\\w_%\n");
        assert_eq!(
            g.render(Format::Markdown),
            "| a | b |\n|---|---|\n| a, \"b\" | x&y#z\\\\w_% |\n"
        );
        assert!(
            g.render(Format::Latex)
                .contains("a, \"b\" & x\\&y\\#z\\textbackslash{}w\\_\\% \\\\\n"),
            "{}",
            g.render(Format::Latex)
        );
        assert!(
            grid(&["p|q", "ε ± –"])
                .render(Format::Latex)
                .contains("p|q & $\\epsilon$ $\\pm$ -- \\\\")
        );
        assert!(
            grid(&["p|q", ""])
                .render(Format::Markdown)
                .contains("| p\\|q |  |")
        );
    }
}
