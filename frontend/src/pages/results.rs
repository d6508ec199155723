//! The shared result viewer: the paper's tables (paper beside measured), every run in a
//! table that filters, sorts, groups seeds, compares and exports, and the
//! accuracy–robustness–Lipschitz figure. Everything on screen is in the URL.

use astute_api::RunList;
use astute_api::table::{Format, Table};
use leptos::prelude::*;

use super::{query_param, set_query_params};
use crate::api;
use crate::components::{PaperTable, loaded, quantity};
use crate::export;
use crate::query;
use crate::run_rows::{COLUMNS, Row, grid, group_seeds};

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

#[component]
fn Runs() -> impl IntoView {
    let runs = LocalResource::new(|| api::get::<RunList>("/api/runs?limit=500"));
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
    let table = loaded(runs, move |list: RunList| {
        let set_params = set_params_table.clone();
        let all: Vec<Row> = list.runs.iter().map(Row::of).collect();
        let total = list.total;
        let set_sort = set_params.clone();
        let set_compare = set_params.clone();
        move || {
            let filter = filter().ok().flatten();
            let mut rows: Vec<&Row> = all
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
                    let (a, b) = (a.field(&sort_key), b.field(&sort_key));
                    let order = match (a.number(), b.number()) {
                        (Some(x), Some(y)) => x.total_cmp(&y),
                        _ => a.text(4).cmp(&b.text(4)),
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
                    let id = row.id.clone();
                    let single = row.single;
                    let is_chosen = chosen.contains(&id);
                    let set_compare = set_compare.clone();
                    let toggle_id = id.clone();
                    let chosen_now = chosen.clone();
                    let cells = COLUMNS
                        .iter()
                        .map(|&c| {
                            let value = row.field(c);
                            if c == "id" && single {
                                return view! { <td><a href=format!("/runs/{id}")>{id.clone()}</a></td> }.into_any();
                            }
                            view! { <td class=if value.number().is_some() { "num" } else { "" }>{value.text(2)}</td> }.into_any()
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
            let shown: Vec<Row> = rows.iter().map(|r| (*r).clone()).collect();
            let exports = Format::ALL
                .into_iter()
                .map(|format| {
                    let shown = shown.clone();
                    view! {
                        <button on:click=move |_| {
                            export::download(&format!("astute-runs.{}", format.extension()), format, &grid(&shown).render(format));
                        }>{format!("Export {}", format.label())}</button>
                    }
                })
                .collect_view();
            let compared: Vec<Row> = all
                .iter()
                .filter(|r| chosen.contains(&r.id))
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
fn Compare(runs: Vec<Row>) -> impl IntoView {
    let differing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|&c| c != "id" && runs.iter().any(|r| r.field(c) != runs[0].field(c)))
        .collect();
    let header = runs
        .iter()
        .map(|r| {
            let id = r.id.clone();
            view! { <th scope="col"><a href=format!("/runs/{id}")>{id.clone()}</a></th> }
        })
        .collect_view();
    let body = differing
        .iter()
        .map(|&field| {
            let cells = runs
                .iter()
                .map(|r| view! { <td>{r.field(field).text(2)}</td> })
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
    let (attack, set_attack) = signal("pgd");
    let source = move || {
        let mut query = vec![format!("attack={}", attack.get())];
        query.extend(
            dataset
                .get()
                .map(|d| format!("dataset={}", api::encode(&d))),
        );
        format!("/api/plots/tradeoff.svg?{}", query.join("&"))
    };
    view! {
        <label>
            "Robust axis: "
            <select on:change=move |e| set_attack.set(if event_target_value(&e) == "autoattack" { "autoattack" } else { "pgd" })>
                <option value="pgd" selected>"PGD-10 (the paper's)"</option>
                <option value="autoattack">"AutoAttack (runs evaluated with it)"</option>
            </select>
        </label>
        <figure class="figure">
            <object class="plot" type="image/svg+xml" data=source aria-label="Test accuracy against adversarial test accuracy, one point per finished run; each point links to its run">
                "Test accuracy against adversarial accuracy of every finished run."
            </object>
            <figcaption>
                "Each point is a finished run: test accuracy (x) against test accuracy under the chosen attack (y), labelled with its network, method and local Lipschitz constant L; the larger the marker, the larger L. Click a point to open its run. In the paper, the more robust methods are also the smoother ones (smaller L)."
            </figcaption>
        </figure>
    }
}
