//! Pieces several pages use: loading and error states, the paper-vs-measured table, and
//! the names of the measured quantities.

use leptos::prelude::*;
use serde_json::Value;

use crate::api::{Answer, Failure};

/// What a page shows while its data loads, when it failed, and when it is there.
pub fn loaded<T, V>(
    resource: LocalResource<Answer<T>>,
    render: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    move || match resource.get() {
        None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Some(Err(failure)) => view! { <Failed failure/> }.into_any(),
        Some(Ok(value)) => render(value).into_any(),
    }
}

/// A failure, said in words, in the page.
#[component]
pub fn Failed(failure: Failure) -> impl IntoView {
    view! { <p class="error" role="alert">{failure.to_string()}</p> }
}

/// A human name for a measured quantity (a column of the tables and the runs list).
pub fn quantity(key: &str) -> &str {
    match key {
        "train_acc" => "Train acc. %",
        "test_acc" => "Test acc. %",
        "adv_test_acc" => "Adv. test acc. %",
        "adv_train_acc" => "Adv. train acc. %",
        "test_lipschitz" => "Test Lipschitz",
        "train_lipschitz" => "Train Lipschitz",
        "gap" => "Gap",
        "adv_gap" => "Adv. gap",
        "min_train_train" => "Min Train–Train",
        "min_test_train" => "Min Test–Train",
        "separation_over_epsilon" => "r / ε (2r = Train–Train min)",
        other => other,
    }
}

/// `value` with `decimals` places, or an en dash when it is missing.
pub fn number(value: &Value, decimals: usize) -> String {
    value
        .as_f64()
        .map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}"))
}

/// One of the paper's tables (`GET /api/tables/N`): for every published row, the
/// paper's number beside the measured mean ± std and the runs behind it.
#[component]
pub fn PaperTable(table: Value) -> impl IntoView {
    let decimals = table["decimals"].as_u64().unwrap_or(2) as usize;
    let columns = strings(&table["columns"]);
    let rows = table["rows"].as_array().cloned().unwrap_or_default();
    let separation = table["number"] == 1;
    let header = columns
        .iter()
        .map(|c| view! { <th scope="col">{quantity(c).to_owned()}</th> })
        .collect_view();
    let body = rows
        .into_iter()
        .map(|row| {
            let cells = row["cells"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|cell| {
                    let measured = &cell["measured"];
                    let shown = if measured.is_null() {
                        "–".to_owned()
                    } else {
                        let n = measured["n"].as_u64().unwrap_or(1);
                        let mean = number(&measured["mean"], decimals);
                        if n > 1 {
                            format!("{mean} ± {} (n={n})", number(&measured["std"], decimals))
                        } else {
                            mean
                        }
                    };
                    view! {
                        <td>
                            <span class="paper" title="published in the paper">
                                {number(&cell["paper"], decimals)}
                            </span>
                            <span class="measured" title="measured here">{shown}</span>
                        </td>
                    }
                })
                .collect_view();
            let runs = strings(&row["runs"]);
            let measured_on = strings(&row["measured_on"]);
            view! {
                <tr>
                    <th scope="row">
                        {setting(&row)}
                        {(!measured_on.is_empty()).then(|| view! {
                            <span class="stand-in">" measured on " {measured_on.join(", ")}</span>
                        })}
                        // Table 1's measurements are separation reports, shown by dataset.
                        {(separation && !runs.is_empty()).then(|| view! {
                            " " <a class="run-link" href=format!("/datasets?d={}", row["dataset"].as_str().unwrap_or(""))>"report"</a>
                        })}
                        {(!separation).then(|| runs.into_iter().enumerate().map(|(i, id)| view! {
                            " " <a class="run-link" href=format!("/runs/{id}")>{format!("run {}", i + 1)}</a>
                        }).collect_view())}
                    </th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="paper-table">
                <caption>
                    {format!("Table {}: {}", table["number"], table["title"].as_str().unwrap_or(""))}
                    <span class="legend">
                        " Each cell: " <span class="paper">"paper"</span> " "
                        <span class="measured">"measured here"</span>
                    </span>
                </caption>
                <thead><tr><th scope="col">"Setting"</th>{header}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

/// The strings of a JSON array (none when it is not one).
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A table row's setting in words: dataset, ε, network, method, dropout.
fn setting(row: &Value) -> String {
    let mut parts = vec![row["dataset"].as_str().unwrap_or("?").to_owned()];
    if let Some(e) = row["epsilon"].as_f64() {
        parts.push(format!("ε={e}"));
    }
    for key in ["architecture", "method"] {
        if let Some(v) = row[key].as_str() {
            parts.push(v.to_owned());
        }
    }
    if let Some(d) = row["dropout"].as_f64() {
        parts.push(format!("dropout {d}"));
    }
    parts.join(" · ")
}
