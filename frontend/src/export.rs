//! The runs table as a file: CSV, Markdown or LaTeX, of exactly the rows and columns on
//! screen, and the browser download that hands it over.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Markdown,
    Latex,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Csv, Format::Markdown, Format::Latex];

    pub fn label(self) -> &'static str {
        match self {
            Self::Csv => "CSV",
            Self::Markdown => "Markdown",
            Self::Latex => "LaTeX",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Markdown => "md",
            Self::Latex => "tex",
        }
    }

    fn mime(self) -> &'static str {
        match self {
            Self::Csv => "text/csv",
            Self::Markdown => "text/markdown",
            Self::Latex => "application/x-tex",
        }
    }
}

/// A cell as text: numbers with `decimals` places, missing values empty.
pub fn cell(value: &Value, decimals: usize) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => format!("{:.decimals$}", n.as_f64().unwrap_or(f64::NAN)),
        other => other.to_string(),
    }
}

/// `rows` (JSON objects) rendered with `columns` as the header.
pub fn render(format: Format, columns: &[&str], rows: &[&Value]) -> String {
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|c| cell(&row[*c], 2)).collect())
        .collect();
    let mut out = String::new();
    match format {
        Format::Csv => {
            let line = |cells: Vec<String>| {
                cells
                    .into_iter()
                    .map(|c| csv_field(&c))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            out.push_str(&line(columns.iter().map(|c| c.to_string()).collect()));
            out.push('\n');
            for cells in table {
                out.push_str(&line(cells));
                out.push('\n');
            }
        }
        Format::Markdown => {
            out.push_str(&format!("| {} |\n", columns.join(" | ")));
            out.push_str(&format!("|{}\n", "---|".repeat(columns.len())));
            for cells in table {
                let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
                out.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
        }
        Format::Latex => {
            out.push_str(&format!(
                "\\begin{{tabular}}{{{}}}\n\\toprule\n",
                "l".repeat(columns.len())
            ));
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .map(|c| latex_escape(c))
                    .collect::<Vec<_>>()
                    .join(" & ")
                    + " \\\\\n"
            };
            out.push_str(&line(columns.iter().map(|c| c.to_string()).collect()));
            out.push_str("\\midrule\n");
            for cells in table {
                out.push_str(&line(cells));
            }
            out.push_str("\\bottomrule\n\\end{tabular}\n");
        }
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn latex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Hands `text` to the browser as a file download named `name`.
pub fn download(name: &str, format: Format, text: &str) {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(format.mime());
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let link = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    if let Some(link) = link {
        link.set_href(&url);
        link.set_download(name);
        link.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_quotes_what_needs_quoting_and_rounds_floats() {
        let a = json!({"method": "trades:6", "adv": 71.456, "note": "a, \"b\""});
        let b = json!({"method": "at", "adv": null, "note": "plain"});
        let text = render(Format::Csv, &["method", "adv", "note"], &[&a, &b]);
        assert_eq!(
            text,
            "method,adv,note\ntrades:6,71.46,\"a, \"\"b\"\"\"\nat,,plain\n"
        );
    }

    #[test]
    fn markdown_and_latex_escape_their_special_characters() {
        let a = json!({"dataset": "fashion-mnist", "x": "a|b_c"});
        let md = render(Format::Markdown, &["dataset", "x"], &[&a]);
        assert_eq!(
            md,
            "| dataset | x |\n|---|---|\n| fashion-mnist | a\\|b_c |\n"
        );
        let tex = render(Format::Latex, &["dataset", "x"], &[&a]);
        assert!(tex.contains("fashion-mnist & a|b\\_c \\\\\n"), "{tex}");
        assert!(tex.starts_with("\\begin{tabular}{ll}"));
        assert!(tex.ends_with("\\end{tabular}\n"));
    }

    #[test]
    fn integers_stay_integers() {
        assert_eq!(cell(&json!(3), 2), "3");
        assert_eq!(cell(&json!(2.5), 1), "2.5");
    }
}
