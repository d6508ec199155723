//! The shared result viewer: the paper's tables (paper beside measured), every run in a
//! table that filters, sorts, groups seeds, compares and exports, and the
//! accuracy–robustness–Lipschitz figure. Everything on screen is in the URL.

mod runs;

use std::collections::BTreeSet;

use astute_api::RunList;
use astute_api::table::{Format, Table};
use leptos::prelude::*;

use super::{query_param, set_query_params};
use crate::api;
use crate::components::{PaperTable, loaded};
use crate::export;
use crate::figure::Figure;

#[component]
pub fn Results() -> impl IntoView {
    let view_name = query_param("view");
    let table_number = query_param("table");
    super::page_title(move || match view_name.get().as_deref() {
        Some("runs") => "All runs".into(),
        Some("plot") => "Trade-off figure".into(),
        _ => format!("Table {}", table_number.get().unwrap_or_else(|| "2".into())),
    });
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
            Some("runs") => view! { <runs::Runs/> }.into_any(),
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
        async move { api::get::<Table>(&format!("/api/tables/{}", api::encode(&n))).await }
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
    view! {
        <div class="toolbar" role="group" aria-label="Table">{buttons}</div>
        {loaded(table, |t: Table| {
            // Written here by the same renderer as the server's downloads, from the rows
            // on screen.
            let downloads = Format::TEXT
                .into_iter()
                .map(|format| {
                    let text = t.render(format);
                    let name = format!("astute-table-{}.{}", t.number, format.extension());
                    view! {
                        " " <button class="link" on:click=move |_| export::download(&name, format, &text)>
                            {format.label()}
                        </button>
                    }
                })
                .collect_view();
            let json = format!("/api/tables/{}?format=json", t.number);
            // A table nobody has measured yet says how to measure it.
            let unmeasured = t.rows.iter().all(|r| r.runs.is_empty() && r.untrained.is_empty());
            let command = format!("astute reproduce --table {} --scale cpu", t.number);
            let what = if t.number == 1 {
                "queues its separation measurements"
            } else {
                "queues its runs (two seeds per row)"
            };
            view! {
                {unmeasured.then(|| view! {
                    <p class="hint" role="status">
                        "Nothing measured for this table yet. On a machine with the data, "
                        <code>{command}</code> " " {what}
                        " in this store and works through them; every cell fills as they finish."
                    </p>
                })}
                <p class="hint">"Download this table: " {downloads} " " <a href=json download>"JSON"</a></p>
                <PaperTable table=t/>
            }
        })}
    }
}

/// The filters of the trade-off figure, each a URL parameter the figure's endpoint takes.
const FIGURE_FILTERS: [(&str, &str); 3] = [
    ("dataset", "Dataset"),
    ("architecture", "Network"),
    ("method", "Method"),
];

#[component]
fn TradeoffFigure() -> impl IntoView {
    let finished = LocalResource::new(|| api::get::<RunList>("/api/runs?status=done&limit=500"));
    let attack = query_param("attack");
    let filters = FIGURE_FILTERS.map(|(name, label)| (name, label, query_param(name)));
    let set_params = set_query_params();
    let source = move || {
        let mut query = vec![format!(
            "attack={}",
            api::encode(&attack.get().unwrap_or_else(|| "pgd".into()))
        )];
        for (name, _, value) in filters {
            query.extend(value.get().map(|v| format!("{name}={}", api::encode(&v))));
        }
        format!("/api/plots/tradeoff.svg?{}", query.join("&"))
    };
    let set_attack = set_params.clone();
    let selects = loaded(finished, move |list: RunList| {
        filters
            .into_iter()
            .map(|(name, label, current)| {
                let values: BTreeSet<String> = list
                    .runs
                    .iter()
                    .map(|r| match name {
                        "dataset" => r.dataset.to_string(),
                        "architecture" => r.architecture.to_string(),
                        _ => r.method.to_string(),
                    })
                    .collect();
                let set_params = set_params.clone();
                let options = values
                    .into_iter()
                    .map(|value| {
                        let (is_current, text) = (value.clone(), value.clone());
                        view! {
                            <option value=value selected=move || current.get().as_deref() == Some(is_current.as_str())>{text}</option>
                        }
                    })
                    .collect_view();
                view! {
                    <label>{label}
                        <select name=name on:change=move |e| set_params(&[(name, event_target_value(&e))])>
                            <option value="" selected=move || current.get().is_none()>"all"</option>
                            {options}
                        </select>
                    </label>
                }
            })
            .collect_view()
    });
    view! {
        <div class="toolbar figure-filters">
            <label>"Robust axis"
                <select name="attack" on:change=move |e| set_attack(&[("attack", event_target_value(&e))])>
                    <option value="pgd" selected=move || attack.get().as_deref() != Some("autoattack")>"PGD-10 (the paper's)"</option>
                    <option value="autoattack" selected=move || attack.get().as_deref() == Some("autoattack")>"AutoAttack (runs evaluated with it)"</option>
                </select>
            </label>
            {selects}
        </div>
        <Figure src=Signal::derive(source) name="astute-tradeoff" interactive=true
            alt="Test accuracy against adversarial test accuracy, one point per finished run; each point links to its run">
            "Each point is a finished run: test accuracy (x) against test accuracy under the chosen attack (y); colour is the method, the label its network, method and local Lipschitz constant L, and the larger the marker, the larger L. Click a point to open its run. In the paper, the more robust methods are also the smoother ones (smaller L)."
        </Figure>
    }
}
