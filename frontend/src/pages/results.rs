//! The shared result viewer: the paper's tables (paper beside measured), every run in a
//! table that filters, sorts, groups seeds, compares and exports, and the
//! accuracy–robustness–Lipschitz figure. Everything on screen is in the URL.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde_json::{Value, json};

use super::{query_param, set_query_params};
use crate::api;
use crate::components::{PaperTable, loaded, number, quantity};
use crate::export::{self, Format};
use crate::query;

/// The runs table's columns; also the fields a filter may name.
const COLUMNS: &[&str] = &[
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
    "test_acc",
    "adv_test_acc",
    "test_lipschitz",
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
const METRICS: &[&str] = &["test_acc", "adv_test_acc", "test_lipschitz"];

#[component]
pub fn Results() -> impl IntoView {
    let view_name = query_param("view");
    let set_params = set_query_params();
    let tab = move |name: &'static str, label: &'static str| {
        let set_params = set_params.clone();
        let current = move || view_name.get().unwrap_or_else(|| "tables".into()) == name;
        view! {
            <button aria-pressed=move || current().to_string()
                class:active=current on:click=move |_| set_params(&[("view", name.to_owned())])>
                {label}
            </button>
        }
    };
    view! {
        <h1>"Results"</h1>
        <div role="group" class="tabs" aria-label="View">
            {tab("tables", "Paper tables")}
            {tab("runs", "All runs")}
            {tab("plot", "Trade-off figure")}
        </div>
        {move || match view_name.get().as_deref() {
            Some("runs") => view! { <Runs/> }.into_any(),
            Some("plot") => view! { <TradeoffFigure/> }.into_any(),
            _ => view! { <Tables/> }.into_any(),
        }}
    }
}

#[component]
fn Tables() -> impl IntoView {
    let number_param = query_param("table");
    let set_params = set_query_params();
    let chosen = move || number_param.get().unwrap_or_else(|| "2".into());
    let table = LocalResource::new(move || {
        let n = chosen();
        async move { api::get::<Value>(&format!("/api/tables/{}", api::encode(&n))).await }
    });
    let buttons = (1..=4)
        .map(|n| {
            let set_params = set_params.clone();
            view! {
                <button class:active=move || chosen() == n.to_string()
                    aria-pressed=move || (chosen() == n.to_string()).to_string()
                    on:click=move |_| set_params(&[("table", n.to_string())])>
                    {format!("Table {n}")}
                </button>
            }
        })
        .collect_view();
    let downloads = move || {
        let n = chosen();
        [("csv", "CSV"), ("md", "Markdown"), ("tex", "LaTeX"), ("json", "JSON")]
            .into_iter()
            .map(|(format, label)| view! { " " <a href=format!("/api/tables/{n}?format={format}") download>{label}</a> })
            .collect_view()
    };
    view! {
        <div class="toolbar" role="group" aria-label="Table">{buttons}</div>
        <p class="hint">"Download this table: " {downloads}</p>
        {loaded(table, |t| view! { <PaperTable table=t/> })}
    }
}

/// Runs grouped by setting: one row per group with the metrics' mean ± std and `n`.
fn group_seeds(rows: &[&Value]) -> Vec<Value> {
    let mut groups: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for row in rows {
        let key: Vec<String> = SETTING.iter().map(|f| row[*f].to_string()).collect();
        groups.entry(key.join("|")).or_default().push(row);
    }
    groups
        .into_values()
        .map(|members| {
            let mut grouped = json!({});
            for field in SETTING {
                grouped[*field] = members[0][*field].clone();
            }
            grouped["seed"] = json!(format!("{} seed(s)", members.len()));
            grouped["id"] = json!(
                members
                    .iter()
                    .filter_map(|m| m["id"].as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            grouped["status"] = json!(
                members
                    .iter()
                    .filter_map(|m| m["status"].as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for metric in METRICS {
                let values: Vec<f64> = members.iter().filter_map(|m| m[*metric].as_f64()).collect();
                if values.is_empty() {
                    continue;
                }
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                grouped[*metric] = json!(mean);
                if values.len() > 1 {
                    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                        / (values.len() - 1) as f64;
                    grouped[format!("{metric}_std")] = json!(var.sqrt());
                }
            }
            grouped
        })
        .collect()
}

#[component]
fn Runs() -> impl IntoView {
    let runs = LocalResource::new(|| api::get::<Value>("/api/runs?limit=500"));
    let filter_text = query_param("q");
    let sort = query_param("sort");
    let descending = query_param("desc");
    let grouped = query_param("group");
    let compare = query_param("compare");
    let set_params = set_query_params();

    let filter = move || query::parse(&filter_text.get().unwrap_or_default(), COLUMNS);
    let selected = move || -> Vec<String> {
        compare
            .get()
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };

    let set_filter = set_params.clone();
    let set_group = set_params.clone();
    let toolbar = view! {
        <div class="toolbar runs-toolbar">
            <label class="grow">"Filter "
                <input type="search" class="filter" spellcheck="false"
                    placeholder="dataset = fashion-mnist and adv_test_acc > 50"
                    prop:value=move || filter_text.get().unwrap_or_default()
                    on:change=move |e| set_filter(&[("q", event_target_value(&e))])/>
            </label>
            <label class="check">
                <input type="checkbox" prop:checked=move || grouped.get().is_some()
                    on:change=move |e| set_group(&[("group", if event_target_checked(&e) { "1".into() } else { String::new() })])/>
                "Group seeds (mean ± std)"
            </label>
        </div>
        <p class="hint">"Fields: " {COLUMNS.join(", ")} ". Operators: = != < <= > >= ~ (contains), combined with and, or, not and parentheses."</p>
        {move || filter().err().map(|e| view! { <p class="error" role="alert">{format!("Filter, {e}")}</p> })}
    };

    let set_params_table = set_params.clone();
    let table = loaded(runs, move |list: Value| {
        let set_params = set_params_table.clone();
        let all = list["runs"].as_array().cloned().unwrap_or_default();
        let total = list["total"].as_i64().unwrap_or(0);
        let set_sort = set_params.clone();
        let set_compare = set_params.clone();
        move || {
            let filter = filter().ok().flatten();
            let mut rows: Vec<&Value> = all
                .iter()
                .filter(|r| filter.as_ref().is_none_or(|f| f.accepts(r)))
                .collect();
            let groups;
            if grouped.get().is_some() {
                groups = group_seeds(&rows);
                rows = groups.iter().collect();
            }
            let sort_key = sort.get().unwrap_or_else(|| "id".into());
            let desc = descending.get().is_some();
            if sort.get().is_some() {
                rows.sort_by(|a, b| {
                    let (a, b) = (&a[sort_key.as_str()], &b[sort_key.as_str()]);
                    let order = match (a.as_f64(), b.as_f64()) {
                        (Some(x), Some(y)) => x.total_cmp(&y),
                        _ => export::cell(a, 4).cmp(&export::cell(b, 4)),
                    };
                    if desc { order.reverse() } else { order }
                });
            }
            let header = COLUMNS
                .iter()
                .map(|&c| {
                    let set_sort = set_sort.clone();
                    let active = sort_key == c && sort.get().is_some();
                    let next_desc = active && !desc;
                    let mark = if active { if desc { " ▼" } else { " ▲" } } else { "" };
                    let aria = if active { if desc { "descending" } else { "ascending" } } else { "none" };
                    view! {
                        <th scope="col" aria-sort=aria>
                            <button class="sort" on:click=move |_| set_sort(&[("sort", c.to_owned()), ("desc", if next_desc { "1".into() } else { String::new() })])>
                                {quantity(c).to_owned()}{mark}
                            </button>
                        </th>
                    }
                })
                .collect_view();
            let chosen = selected();
            let body = rows
                .iter()
                .map(|row| {
                    let id = row["id"].as_str().unwrap_or("").to_owned();
                    let single = !id.contains(' ');
                    let is_chosen = chosen.contains(&id);
                    let set_compare = set_compare.clone();
                    let toggle_id = id.clone();
                    let chosen_now = chosen.clone();
                    let cells = COLUMNS
                        .iter()
                        .map(|&c| {
                            let value = &row[c];
                            if c == "id" && single {
                                return view! { <td><a href=format!("/runs/{id}")>{id.clone()}</a></td> }.into_any();
                            }
                            let text = match (value.as_f64(), row[format!("{c}_std")].as_f64()) {
                                (Some(v), Some(s)) => format!("{v:.2} ± {s:.2}"),
                                _ => export::cell(value, 2),
                            };
                            view! { <td class=if value.is_number() { "num" } else { "" }>{text}</td> }.into_any()
                        })
                        .collect_view();
                    view! {
                        <tr class:chosen=is_chosen>
                            <td>{single.then(|| view! {
                                <input type="checkbox" aria-label=format!("compare run {id}") prop:checked=is_chosen
                                    on:change=move |e| {
                                        let mut list = chosen_now.clone();
                                        list.retain(|x| *x != toggle_id);
                                        if event_target_checked(&e) { list.push(toggle_id.clone()); }
                                        set_compare(&[("compare", list.join(","))]);
                                    }/>
                            })}</td>
                            {cells}
                        </tr>
                    }
                })
                .collect_view();
            let shown: Vec<Value> = rows.iter().map(|r| (*r).clone()).collect();
            let exports = Format::ALL
                .into_iter()
                .map(|format| {
                    let shown = shown.clone();
                    view! {
                        <button on:click=move |_| {
                            let refs: Vec<&Value> = shown.iter().collect();
                            export::download(&format!("astute-runs.{}", format.extension()), format, &export::render(format, COLUMNS, &refs));
                        }>{format!("Export {}", format.label())}</button>
                    }
                })
                .collect_view();
            let compared: Vec<Value> = all
                .iter()
                .filter(|r| chosen.iter().any(|c| r["id"].as_str() == Some(c)))
                .cloned()
                .collect();
            view! {
                <p class="count" aria-live="polite">{format!("{} {} of {} run(s){}", rows.len(), if grouped.get().is_some() { "group(s)" } else { "shown" }, total, if total > all.len() as i64 { format!(" (the {} most recent are loaded)", all.len()) } else { String::new() })}</p>
                <div class="toolbar">{exports}</div>
                {(compared.len() >= 2).then(|| view! { <Compare runs=compared/> })}
                <div class="table-wrap">
                    <table class="runs">
                        <thead><tr><th scope="col"><span class="sr-only">"Compare"</span></th>{header}</tr></thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
            }
        }
    });
    view! { {toolbar} {table} }
}

/// The selected runs side by side, only the fields in which they differ.
#[component]
fn Compare(runs: Vec<Value>) -> impl IntoView {
    let differing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|&c| c != "id" && runs.iter().any(|r| r[c] != runs[0][c]))
        .collect();
    let header = runs
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap_or("").to_owned();
            view! { <th scope="col"><a href=format!("/runs/{id}")>{id.clone()}</a></th> }
        })
        .collect_view();
    let body = differing
        .iter()
        .map(|&field| {
            let cells = runs
                .iter()
                .map(|r| view! { <td>{if r[field].is_f64() { number(&r[field], 2) } else { export::cell(&r[field], 2) }}</td> })
                .collect_view();
            view! { <tr><th scope="row">{quantity(field).to_owned()}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <div class="table-wrap compare">
            <table>
                <caption>{format!("Comparing {} runs: only what differs", runs.len())}</caption>
                <thead><tr><th scope="col">"Field"</th>{header}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[component]
fn TradeoffFigure() -> impl IntoView {
    let dataset = query_param("dataset");
    let source = move || match dataset.get() {
        Some(d) => format!("/api/plots/tradeoff.svg?dataset={}", api::encode(&d)),
        None => "/api/plots/tradeoff.svg".to_owned(),
    };
    view! {
        <figure class="figure">
            <object class="plot" type="image/svg+xml" data=source aria-label="Test accuracy against adversarial test accuracy, one point per finished run; each point links to its run">
                "Test accuracy against adversarial accuracy of every finished run."
            </object>
            <figcaption>
                "Each point is a finished run: test accuracy (x) against adversarial test accuracy (y), labelled with its network, method and local Lipschitz constant L; the larger the marker, the larger L. Click a point to open its run. In the paper, the more robust methods are also the smoother ones (smaller L)."
            </figcaption>
        </figure>
    }
}
