//! Datasets: what is on this machine, how separated each one is (Table 1, Figure 3), and
//! its closest differently-labelled pairs as images. `?d=` picks the dataset shown. A
//! visitor's own files are measured in the browser ([`own_data`]).

mod dropped_files;
mod own_data;

use astute_api::table::Table;
use astute_api::{
    DatasetEntry, DatasetId, JobState, Metric, SeparationRecord, SeparationSpec, Split, Status,
};
use leptos::prelude::*;

use super::{query_param, set_query_params};
use crate::api;
use crate::components::{Failed, PaperTable, loaded, number};
use crate::figure::Figure;
use own_data::OwnData;

#[component]
pub fn Datasets() -> impl IntoView {
    let catalog = LocalResource::new(|| api::get::<Vec<DatasetEntry>>("/api/datasets"));
    let table = LocalResource::new(|| api::get::<Table>("/api/tables/1"));
    let selected = query_param("d");
    let set_params = set_query_params();
    let chosen = move || selected.get().unwrap_or_else(|| "fashion-mnist".to_owned());
    super::page_title(move || format!("Datasets: {}", chosen()));

    let list = loaded(catalog, move |datasets: Vec<DatasetEntry>| {
        let set_params = set_params.clone();
        let rows = datasets
            .into_iter()
            .map(|d| {
                let id = d.id.to_string();
                let available = d.available;
                let shape = d.shape.map(|x| x.to_string()).join("×");
                let set_params = set_params.clone();
                let pick = id.clone();
                let current = id.clone();
                let pressed = id.clone();
                view! {
                    <tr class:current=move || chosen() == current>
                        <th scope="row">
                            <button class="link" aria-pressed=move || (chosen() == pressed).to_string()
                                on:click=move |_| set_params(&[("d", pick.clone())])>
                                {id.clone()}
                            </button>
                        </th>
                        <td>{d.title}</td>
                        <td>{shape}</td>
                        <td>{d.classes}</td>
                        <td>{number(Some(f64::from(d.epsilon)), 3)}</td>
                        <td>{d.architecture.to_string()}</td>
                        <td class=if available { "yes" } else { "no" }>
                            {if available { "✓ here" } else { "✗ missing" }}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table>
                    <caption>"Datasets known to Astute (" <code>"astute datasets"</code> " tells how to get the missing ones)"</caption>
                    <thead><tr>
                        <th scope="col">"Dataset"</th><th scope="col">"Name"</th><th scope="col">"Shape"</th>
                        <th scope="col">"Classes"</th><th scope="col">"ε (ℓ∞)"</th>
                        <th scope="col">"Network"</th><th scope="col">"Available"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    });

    view! {
        <h1>"Datasets and their separation"</h1>
        <p class="lede">
            "The paper's first claim: differently labelled images lie far apart in ℓ∞. Below, the
             exact distance from every image to the nearest training image of another class."
        </p>
        {list}
        {loaded(table, |t| view! { <PaperTable table=t/> })}
        {move || match chosen().parse::<DatasetId>() {
            Ok(dataset) => view! { <Separation dataset catalog/> }.into_any(),
            Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
        }}
        <OwnData/>
    }
}

/// The latest separation report of `dataset`: histogram, closest pairs (named by class,
/// from the `catalog`), and a button to measure it (again) when this server has it.
#[component]
fn Separation(
    dataset: DatasetId,
    catalog: LocalResource<api::Answer<Vec<DatasetEntry>>>,
) -> impl IntoView {
    let entry = move || {
        catalog
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|e| e.id == dataset))
    };
    let report = LocalResource::new(move || async move {
        let list: Vec<SeparationRecord> =
            api::get(&format!("/api/separations?dataset={dataset}")).await?;
        match list.into_iter().find(|s| s.status == Status::Done) {
            Some(s) => api::get::<SeparationRecord>(&format!("/api/separations/{}", s.id))
                .await
                .map(Some),
            None => Ok(None),
        }
    });
    let title = dataset;
    view! {
        <section aria-labelledby="separation-title">
            <h2 id="separation-title">{format!("Separation of {title}")}</h2>
            {loaded(report, move |found: Option<SeparationRecord>| {
                let (class_names, available) = entry()
                    .map_or((Vec::new(), false), |e| (e.class_names, e.available));
                match found {
                    None => view! {
                        <p>"No separation report for this dataset yet."</p>
                        <Measure dataset available/>
                    }.into_any(),
                    Some(r) => view! { <Report report=r class_names/> <Measure dataset available/> }.into_any(),
                }
            })}
        </section>
    }
}

/// Class `label`'s name, or the label itself when the catalog has none.
fn class_name(names: &[String], label: impl Into<usize> + Copy + std::fmt::Display) -> String {
    names
        .get(label.into())
        .cloned()
        .unwrap_or_else(|| label.to_string())
}

#[component]
fn Report(report: SeparationRecord, class_names: Vec<String>) -> impl IntoView {
    let id = report.id.clone();
    let dataset = report.dataset;
    let parts = report
        .reports
        .unwrap_or_default()
        .into_iter()
        .map(|part| {
            let query_split = match part.split {
                Split::TrainTrain => "train",
                Split::TestTrain => "test",
            };
            let pairs = part
                .closest_pairs
                .iter()
                .take(6)
                .map(|pair| {
                    let image = |split: &str, index: usize| {
                        format!("/api/datasets/{dataset}/images/{split}/{index}")
                    };
                    let query = image(query_split, pair.query_index);
                    let train = image("train", pair.train_index);
                    let (query_class, train_class) = (
                        class_name(&class_names, pair.query_label),
                        class_name(&class_names, pair.train_label),
                    );
                    view! {
                        <figure class="pair">
                            <div class="pair-images">
                                <img src=query alt=format!("{query_split} image {} labelled {query_class}", pair.query_index)/>
                                <img src=train alt=format!("train image {} labelled {train_class}", pair.train_index)/>
                            </div>
                            <figcaption>
                                {format!("{query_class} vs {train_class} · distance {}", number(Some(pair.distance), 3))}
                            </figcaption>
                        </figure>
                    }
                })
                .collect_view();
            view! {
                <h3>{format!("{}: min {} · mean {} · median {} (r/ε = {})",
                    part.split, number(Some(part.min), 4), number(Some(part.mean), 4),
                    number(Some(part.median), 4), number(part.separation_over_epsilon, 2))}</h3>
                <p class="hint">"The closest differently-labelled pairs (query left, its nearest training image of another class right). Near-duplicates and mislabelled images show up here."</p>
                <div class="pairs">{pairs}</div>
            }
        })
        .collect_view();
    view! {
        <Figure src=format!("/api/separations/{id}/histogram.svg") name=format!("astute-separation-{dataset}")
            alt=format!("Histogram of the distance from each {dataset} image to the nearest training image of another class")>
            "Figure 3 for this dataset: how far each image is from the nearest one of another class. Bars left of 2ε would be points no classifier can defend."
        </Figure>
        {parts}
    }
}

/// Queues a new separation measurement (needs a token), when this server has `dataset`.
#[component]
fn Measure(dataset: DatasetId, available: bool) -> impl IntoView {
    let (outcome, set_outcome) = signal(None::<Result<String, api::Failure>>);
    let measure = Action::new_local(move |dataset: &DatasetId| {
        let spec = SeparationSpec {
            dataset: *dataset,
            metric: Metric::Linf,
        };
        async move { api::post::<_, JobState>("/api/separations", Some(&spec)).await }
    });
    Effect::new(move || {
        if let Some(result) = measure.value().get() {
            set_outcome.set(Some(result.map(|created| created.id)));
        }
    });
    if !available {
        return view! {
            <p class="hint">"This server does not have this dataset, so it cannot measure it (" <code>"astute datasets"</code> " tells how to get it)."</p>
        }
        .into_any();
    }
    view! {
        <p>
            <button on:click=move |_| { measure.dispatch(dataset); }
                disabled=move || measure.pending().get()>
                "Measure separation (ℓ∞, exact)"
            </button>
            {move || match outcome.get() {
                None => ().into_any(),
                Some(Ok(id)) => view! { <span class="ok">{format!(" Queued as {id}: reload in a few seconds.")}</span> }.into_any(),
                Some(Err(failure)) => view! { <Failed failure/> }.into_any(),
            }}
        </p>
    }
    .into_any()
}
