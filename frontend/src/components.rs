//! Pieces several pages use: loading and error states, the paper-vs-measured table, and
//! the names of the measured quantities.

use astute_api::table::Table;
use leptos::prelude::*;

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
        "adv_test_acc" => "PGD-10 test acc. %",
        "autoattack_test_acc" => "AutoAttack test acc. %",
        "pgd_on_autoattack_images" => "PGD-10 on the AutoAttack images %",
        "masking" => "Masking flags",
        "trained" => "Trained",
        "adv_train_acc" => "PGD-10 train acc. %",
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

/// A rate (dropout) as it was written: runs stored before rates were kept as decimals hold
/// an `f32` widened (0.2 as 0.20000000298023224).
pub fn rate(value: f64) -> f64 {
    astute_api::decimal(value as f32)
}

/// `value` with `decimals` places, or an en dash when it is missing.
pub fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}"))
}

/// `n` and `noun`, the noun in the plural unless `n` is one ("1 run", "2 runs", "0 runs").
pub fn count(n: impl Into<f64>, noun: &str) -> String {
    let n = n.into();
    format!("{n} {noun}{}", if n == 1.0 { "" } else { "s" })
}

/// One of the paper's tables (`GET /api/tables/N`): for every published row, the
/// paper's number beside the measured mean ± std and the runs behind it.
#[component]
pub fn PaperTable(table: Table) -> impl IntoView {
    let decimals = table.decimals;
    let separation = table.number == 1;
    let notes = table.notes;
    let header = table
        .columns
        .iter()
        .map(|c| view! { <th scope="col">{quantity(c).to_owned()}</th> })
        .collect_view();
    let body = table
        .rows
        .into_iter()
        .map(|row| {
            let cells = row
                .cells
                .iter()
                .map(|cell| {
                    let shown = cell
                        .measured
                        .map_or_else(|| "–".to_owned(), |s| s.display(decimals));
                    view! {
                        <td>
                            <span class="paper" title="published in the paper">
                                {number(cell.paper, decimals)}
                            </span>
                            <span class="measured" title="measured here">{shown}</span>
                        </td>
                    }
                })
                .collect_view();
            let measured_on: Vec<String> = row.measured_on.iter().map(|d| d.to_string()).collect();
            let dataset = row.dataset;
            let runs = row.runs.clone();
            let flags = row
                .masking
                .iter()
                .map(|check| view! {
                    " " <span class="badge failed" title="a gradient-masking check raised by a run of this row">
                        {format!("masking: {}", check.headline())}
                    </span>
                })
                .collect_view();
            let untrained_note = row.untrained_note();
            let untrained = row.untrained.clone();
            let included = row.untrained_included;
            view! {
                <tr>
                    <th scope="row">
                        {row.label()}
                        {(!measured_on.is_empty()).then(|| view! {
                            <span class="stand-in">" measured on " {measured_on.join(", ")}</span>
                        })}
                        {flags}
                        // Table 1's measurements are separation reports, shown by dataset.
                        {(separation && !runs.is_empty()).then(|| view! {
                            " " <a class="run-link" href=format!("/datasets?d={dataset}")>"report"</a>
                        })}
                        {(!separation).then(|| runs.into_iter().enumerate().map(|(i, id)| view! {
                            " " <a class="run-link" href=format!("/runs/{id}")>{format!("run {}", i + 1)}</a>
                        }).collect_view())}
                        {untrained_note.map(|note| view! {
                            " " <span class="badge failed" title="train accuracy within a few points of chance: a constant classifier">{note}</span>
                            // Counted runs are linked above already.
                            {(!included).then(|| untrained.into_iter().map(|id| view! {
                                " " <a class="run-link" href=format!("/runs/{id}")>{format!("run {id}")}</a>
                            }).collect_view())}
                        })}
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
                    {format!("Table {}: {}", table.number, table.title)}
                    <span class="legend">
                        " Each cell: " <span class="paper">"paper"</span> " "
                        <span class="measured">"measured here"</span>
                    </span>
                </caption>
                <thead><tr><th scope="col">"Setting"</th>{header}</tr></thead>
                <tbody>{body}</tbody>
            </table>
            {(!notes.is_empty()).then(|| view! {
                <ul class="table-notes">
                    {notes.into_iter().map(|note| view! { <li>{note}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// The in-browser engine's download while it lasts: its bytes so far and a progress bar
/// (nothing before or after).
#[component]
pub fn EngineDownload() -> impl IntoView {
    let download = crate::engine::download();
    move || {
        let d = download.get()?;
        let mb = |bytes: f64| format!("{:.1} MB", bytes / 1e6);
        let text = match (d.total, d.compressed) {
            // The browser compiles the module as it streams; the last of it takes a moment.
            (Some(total), _) if d.received >= total => {
                "Starting the engine (compiling its WebAssembly)…".to_owned()
            }
            (Some(total), Some(compressed)) => format!(
                "Downloading the engine: {} of {} ({} over the network)…",
                mb(d.received),
                mb(total),
                mb(compressed)
            ),
            (Some(total), None) => {
                format!(
                    "Downloading the engine: {} of {}…",
                    mb(d.received),
                    mb(total)
                )
            }
            (None, _) => format!("Downloading the engine: {}…", mb(d.received)),
        };
        Some(view! {
            <p class="backend engine-download" role="status" data-received=d.received>
                {text}
                {d.total.map(|total| view! { " " <progress max=total value=d.received aria-label="The engine's download"></progress> })}
            </p>
        })
    }
}

/// [`EngineDownload`] while the engine downloads, then a line saying it starts.
#[component]
pub fn EngineStarting() -> impl IntoView {
    let download = crate::engine::download();
    move || {
        if download.with(Option::is_some) {
            view! { <EngineDownload/> }.into_any()
        } else {
            view! { <p class="backend" role="status">"Starting the engine…"</p> }.into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn a_count_takes_the_plural_unless_it_is_one() {
        assert_eq!(count(1u32, "run"), "1 run");
        assert_eq!(count(2u32, "run"), "2 runs");
        assert_eq!(count(0u32, "epoch"), "0 epochs");
        assert_eq!(count(1.0, "seed"), "1 seed");
    }
}
