//! Datasets: what is on this machine, how separated each one is (Table 1, Figure 3), and
//! its closest differently-labelled pairs as images. `?d=` picks the dataset shown.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::{query_param, set_query_params};
use crate::api;
use crate::components::{Failed, PaperTable, loaded, number};

#[component]
pub fn Datasets() -> impl IntoView {
    let catalog = LocalResource::new(|| api::get::<Vec<Value>>("/api/datasets"));
    let table = LocalResource::new(|| api::get::<Value>("/api/tables/1"));
    let selected = query_param("d");
    let set_params = set_query_params();
    let chosen = move || selected.get().unwrap_or_else(|| "fashion-mnist".to_owned());

    let list = loaded(catalog, move |datasets: Vec<Value>| {
        let set_params = set_params.clone();
        let rows = datasets
            .into_iter()
            .map(|d| {
                let id = d["id"].as_str().unwrap_or("").to_owned();
                let available = d["available"].as_bool().unwrap_or(false);
                let shape = d["shape"]
                    .as_array()
                    .map(|s| s.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("×"))
                    .unwrap_or_default();
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
                        <td>{d["title"].as_str().unwrap_or("").to_owned()}</td>
                        <td>{shape}</td>
                        <td>{d["classes"].to_string()}</td>
                        <td>{number(&d["epsilon"], 3)}</td>
                        <td>{d["architecture"].as_str().unwrap_or("").to_owned()}</td>
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
        {move || view! { <Separation dataset=chosen()/> }}
    }
}

/// The latest separation report of `dataset`: histogram, closest pairs, and a button to
/// measure it (again).
#[component]
fn Separation(dataset: String) -> impl IntoView {
    let name = dataset.clone();
    let report = LocalResource::new(move || {
        let dataset = name.clone();
        async move {
            let list: Vec<Value> = api::get(&format!(
                "/api/separations?dataset={}",
                api::encode(&dataset)
            ))
            .await?;
            match list.into_iter().find(|s| s["status"] == "done") {
                Some(s) => api::get::<Value>(&format!(
                    "/api/separations/{}",
                    s["id"].as_str().unwrap_or("")
                ))
                .await
                .map(Some),
                None => Ok(None),
            }
        }
    });
    let title = dataset.clone();
    view! {
        <section aria-labelledby="separation-title">
            <h2 id="separation-title">{format!("Separation of {title}")}</h2>
            {loaded(report, move |found: Option<Value>| match found {
                None => view! {
                    <p>"No separation report for this dataset yet."</p>
                    <Measure dataset=dataset.clone()/>
                }.into_any(),
                Some(r) => view! { <Report report=r/> <Measure dataset=dataset.clone()/> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn Report(report: Value) -> impl IntoView {
    let id = report["id"].as_str().unwrap_or("").to_owned();
    let dataset = report["dataset"].as_str().unwrap_or("").to_owned();
    let parts = report["reports"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|part| {
            let split = part["split"].as_str().unwrap_or("").to_owned();
            let query_split = if split == "train-train" { "train" } else { "test" };
            let pairs = part["closest_pairs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .take(6)
                .map(|pair| {
                    let image = |split: &str, index: &Value| {
                        format!("/api/datasets/{dataset}/images/{split}/{index}")
                    };
                    let query = image(query_split, &pair["query_index"]);
                    let train = image("train", &pair["train_index"]);
                    view! {
                        <figure class="pair">
                            <div class="pair-images">
                                <img src=query alt=format!("{query_split} image {} labelled {}", pair["query_index"], pair["query_label"])/>
                                <img src=train alt=format!("train image {} labelled {}", pair["train_index"], pair["train_label"])/>
                            </div>
                            <figcaption>
                                {format!("labels {} vs {} · distance {}", pair["query_label"], pair["train_label"], number(&pair["distance"], 3))}
                            </figcaption>
                        </figure>
                    }
                })
                .collect_view();
            view! {
                <h3>{format!("{split}: min {} · mean {} · median {} (r/ε = {})",
                    number(&part["min"], 4), number(&part["mean"], 4), number(&part["median"], 4),
                    number(&part["separation_over_epsilon"], 2))}</h3>
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
fn Measure(dataset: String) -> impl IntoView {
    let (outcome, set_outcome) = signal(None::<Result<String, api::Failure>>);
    let measure = Action::new_local(move |dataset: &String| {
        let body = json!({ "dataset": dataset, "metric": "linf" });
        async move { api::post("/api/separations", Some(&body)).await }
    });
    Effect::new(move || {
        if let Some(result) = measure.value().get() {
            set_outcome.set(Some(
                result.map(|v| v["id"].as_str().unwrap_or("").to_owned()),
            ));
        }
    });
    view! {
        <p>
            <button on:click=move |_| { measure.dispatch(dataset.clone()); }
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
