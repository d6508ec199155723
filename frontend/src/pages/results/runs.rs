//! Every run in one table, as researchers use W&B's: a filter applied as one types, the
//! columns one chooses (kept in the URL), columns equal in every row stated once above
//! it, sorting, seeds grouped with every metric's mean ± std, exports, and the selected
//! runs compared side by side with their training curves overlaid.

use std::time::Duration;

use astute_api::table::Format;
use astute_api::{MAX_OVERLAID_RUNS, RunList};
use leptos::prelude::*;

use super::super::{query_param, set_query_params};
use crate::api;
use crate::components::{count, loaded, quantity};
use crate::export;
use crate::figure::Figure;
use crate::query;
use crate::run_rows::{
    COLUMNS, Field, Row, chosen_columns, columns_param, constant_columns, grid, group_seeds,
};

/// How long the filter waits after the last keystroke before it applies.
const FILTER_DELAY: Duration = Duration::from_millis(250);

#[component]
pub fn Runs() -> impl IntoView {
    let runs = LocalResource::new(|| api::get::<RunList>("/api/runs?limit=500"));
    let filter_text = query_param("q");
    let sort = query_param("sort");
    let descending = query_param("desc");
    let grouped = query_param("group");
    let compare = query_param("compare");
    let columns_chosen = query_param("cols");
    let set_params = set_query_params();

    let filter = move || query::parse(&filter_text.get().unwrap_or_default(), COLUMNS);
    let shown_columns = move || chosen_columns(columns_chosen.get().as_deref());
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
    let pending_filter = StoredValue::new(None::<TimeoutHandle>);
    let set_group = set_params.clone();
    let toolbar = view! {
        <div class="toolbar runs-toolbar">
            <label class="grow">"Filter "
                <input type="search" class="filter" spellcheck="false"
                    placeholder="dataset = mnist and gap > 1"
                    prop:value=move || filter_text.get().unwrap_or_default()
                    on:input=move |e| {
                        let text = event_target_value(&e);
                        if let Some(waiting) = pending_filter.get_value() {
                            waiting.clear();
                        }
                        let set_filter = set_filter.clone();
                        let apply = move || set_filter(&[("q", text)]);
                        pending_filter.set_value(set_timeout_with_handle(apply, FILTER_DELAY).ok());
                    }/>
            </label>
            <label class="check">
                <input type="checkbox" prop:checked=move || grouped.get().is_some()
                    on:change=move |e| set_group(&[("group", if event_target_checked(&e) { "1".into() } else { String::new() })])/>
                "Group seeds (mean ± std)"
            </label>
        </div>
        <ColumnChooser shown=Signal::derive(shown_columns) set_params=set_params.clone()/>
        <p class="hint">"Fields: " {COLUMNS.join(", ")} ". Operators: = != < <= > >= ~ (contains), combined with and, or, not and parentheses. A stand-in dataset also answers to the paper's name (dataset = mnist)."</p>
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
            let chosen_columns = shown_columns();
            let folded = constant_columns(&rows, &chosen_columns);
            let columns: Vec<&'static str> = chosen_columns
                .iter()
                .copied()
                .filter(|c| !folded.iter().any(|(f, _)| f == c))
                .collect();
            let header = columns
                .iter()
                .map(|&c| {
                    let set_sort = set_sort.clone();
                    let active = sort_key == c && sort.get().is_some();
                    let next_desc = active && !desc;
                    let mark = if active { if desc { " ▼" } else { " ▲" } } else { "" };
                    let aria = if active { if desc { "descending" } else { "ascending" } } else { "none" };
                    view! {
                        <th scope="col" aria-sort=aria data-column=c>
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
                    let cells = columns
                        .iter()
                        .map(|&c| {
                            let value = row.field(c);
                            if c == "id" && single {
                                return view! { <td data-column=c><a href=format!("/runs/{id}")>{id.clone()}</a></td> }.into_any();
                            }
                            // A stand-in's paper name on a line of its own keeps the column narrow.
                            if let Field::Dataset { name, stands_in_for: Some(paper) } = value {
                                return view! { <td data-column=c>{name.clone()}<span class="stands-in">{format!("as {paper}")}</span></td> }.into_any();
                            }
                            view! { <td data-column=c class=if value.number().is_some() { "num" } else { "" }>{value.text(2)}</td> }.into_any()
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
            let loaded_note = if total > all.len() as i64 {
                format!(" (the {} most recent are loaded)", all.len())
            } else {
                String::new()
            };
            let shown = if grouped.get().is_some() {
                count(rows.len() as u32, "group")
            } else {
                format!("{} shown", rows.len())
            };
            view! {
                <p class="count" aria-live="polite">{format!("{shown} of {}{loaded_note}", count(total as f64, "run"))}</p>
                <SameInEveryRow folded=folded/>
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

/// Which columns the table shows: a checkbox each, kept in the URL's `cols`.
#[component]
fn ColumnChooser(
    shown: Signal<Vec<&'static str>>,
    set_params: impl Fn(&[(&str, String)]) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let reset = set_params.clone();
    let boxes = COLUMNS
        .iter()
        .copied()
        .filter(|&c| c != "id")
        .map(|c| {
            let set_params = set_params.clone();
            view! {
                <label class="check">
                    <input type="checkbox" name=c prop:checked=move || shown.get().contains(&c)
                        on:change=move |e| {
                            let mut columns = shown.get_untracked();
                            columns.retain(|&k| k != c);
                            if event_target_checked(&e) {
                                columns.push(c);
                            }
                            set_params(&[("cols", columns_param(&columns))]);
                        }/>
                    {quantity(c).to_owned()}
                </label>
            }
        })
        .collect_view();
    view! {
        <details class="column-chooser">
            <summary>{move || format!("Columns: {} of {}", shown.get().len(), COLUMNS.len())}</summary>
            <div class="choices">{boxes}</div>
            <button class="link" on:click=move |_| reset(&[("cols", String::new())])>"Default columns"</button>
        </details>
    }
}

/// The columns folded out of the table, stated once: the values every row shares, and
/// what no row has.
#[component]
fn SameInEveryRow(folded: Vec<(&'static str, String)>) -> impl IntoView {
    let (missing, same): (Vec<_>, Vec<_>) = folded.into_iter().partition(|(_, v)| v.is_empty());
    let same: Vec<String> = same
        .into_iter()
        .map(|(c, v)| format!("{}: {v}", quantity(c)))
        .collect();
    let missing: Vec<&str> = missing.into_iter().map(|(c, _)| quantity(c)).collect();
    view! {
        <p class="same-in-every-row">
            {(!same.is_empty()).then(|| view! { <span>"Every row shown: " <strong>{same.join(" · ")}</strong>". "</span> })}
            {(!missing.is_empty()).then(|| view! { <span class="hint">"No row shown has: " {missing.join(", ")} "."</span> })}
        </p>
    }
}

/// The selected runs side by side, only the fields in which they differ, with their
/// training curves overlaid.
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
    let overlaid: Vec<&str> = runs
        .iter()
        .take(MAX_OVERLAID_RUNS)
        .map(|r| r.id.as_str())
        .collect();
    let curves = format!("/api/plots/loss.svg?runs={}", overlaid.join(","));
    let left_out = runs.len().saturating_sub(MAX_OVERLAID_RUNS);
    view! {
        <div class="table-wrap compare">
            <table>
                <caption>{format!("Comparing {} runs: only what differs", runs.len())}</caption>
                <thead><tr><th scope="col">"Field"</th>{header}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
        <Figure src=curves name="astute-training-loss" alt="Mean training loss per epoch of each compared run">
            {format!("Mean training loss per epoch, one line per compared run{}.", if left_out > 0 { format!(" (the first {MAX_OVERLAID_RUNS}; {left_out} more are not drawn)") } else { String::new() })}
        </Figure>
    }
}
