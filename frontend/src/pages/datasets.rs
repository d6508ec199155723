//! Datasets: what is on this machine, how separated each one is (Table 1, Figure 3), and
//! its closest differently-labelled pairs as images. `?d=` picks the dataset shown.

use astute_api::table::Table;
use astute_api::{
    DatasetEntry, DatasetId, JobState, Metric, SeparationRecord, SeparationSpec, Split, Status,
};
use leptos::prelude::*;

use super::{query_param, set_query_params};
use crate::api;
use crate::components::{Failed, PaperTable, loaded, number};

#[component]
pub fn Datasets() -> impl IntoView {
    let catalog = LocalResource::new(|| api::get::<Vec<DatasetEntry>>("/api/datasets"));
    let table = LocalResource::new(|| api::get::<Table>("/api/tables/1"));
    let selected = query_param("d");
    let set_params = set_query_params();
    let chosen = move || selected.get().unwrap_or_else(|| "fashion-mnist".to_owned());

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
            Ok(dataset) => view! { <Separation dataset/> }.into_any(),
            Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
        }}
    }
}

/// The latest separation report of `dataset`: histogram, closest pairs, and a button to
/// measure it (again).
#[component]
fn Separation(dataset: DatasetId) -> impl IntoView {
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
            {loaded(report, move |found: Option<SeparationRecord>| match found {
                None => view! {
                    <p>"No separation report for this dataset yet."</p>
                    <Measure dataset/>
                }.into_any(),
                Some(r) => view! { <Report report=r/> <Measure dataset/> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn Report(report: SeparationRecord) -> impl IntoView {
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
                    view! {
                        <figure class="pair">
                            <div class="pair-images">
                                <img src=query alt=format!("{query_split} image {} labelled {}", pair.query_index, pair.query_label)/>
                                <img src=train alt=format!("train image {} labelled {}", pair.train_index, pair.train_label)/>
                            </div>
                            <figcaption>
                                {format!("labels {} vs {} · distance {}", pair.query_label, pair.train_label, number(Some(pair.distance), 3))}
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
        <figure class="figure">
            <img class="plot" src=format!("/api/separations/{id}/histogram.svg")
                alt=format!("Histogram of the distance from each {dataset} image to the nearest training image of another class")/>
            <figcaption>"Figure 3 for this dataset: how far each image is from the nearest one of another class. Bars left of 2ε would be points no classifier can defend."</figcaption>
        </figure>
        {parts}
    }
}

/// Queues a new separation measurement (needs a token).
#[component]
fn Measure(dataset: DatasetId) -> impl IntoView {
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
}
