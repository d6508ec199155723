//! One run: what was asked (spec), where and how it ran (provenance), what it measured,
//! its figures, its events (live while it trains) and its weights.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde_json::Value;

use super::experiments::{LiveRun, TokenField};
use crate::api;
use crate::components::{Failed, loaded, number};

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let run = LocalResource::new(move || {
        let id = id();
        async move { api::get::<Value>(&format!("/api/runs/{}", api::encode(&id))).await }
    });
    view! {
        <p><a href="/results?view=runs">"← All runs"</a></p>
        {loaded(run, move |detail| view! {
            <RunDetail run=detail on_end=Callback::new(move |_| run.refetch())/>
        })}
    }
}

#[component]
fn RunDetail(
    run: Value,
    /// Reloads the run when it ends, so its results appear without a reload.
    on_end: Callback<String>,
) -> impl IntoView {
    let id = run["id"].as_str().unwrap_or("").to_owned();
    let status = run["status"].as_str().unwrap_or("").to_owned();
    let finished = matches!(status.as_str(), "done" | "failed" | "cancelled");
    let measured = !run["result"].is_null();
    let metrics = &run["result"]["metrics"];
    let rows = ["train", "test"]
        .into_iter()
        .map(|part| {
            let m = &metrics[part];
            view! {
                <tr>
                    <th scope="row">{part}</th>
                    <td>{number(&m["accuracy"], 2)}</td>
                    <td>{number(&m["adversarial_accuracy"], 2)}</td>
                    <td>{number(&m["lipschitz"], 2)}</td>
                    <td>{crate::export::cell(&m["images"], 0)}</td>
                </tr>
            }
        })
        .collect_view();
    let definition = |pairs: &Value| {
        pairs.as_object().map(|o| {
            o.iter()
                .map(|(k, v)| view! { <dt>{k.clone()}</dt><dd>{crate::export::cell(v, 4)}</dd> })
                .collect_view()
        })
    };
    let title = format!(
        "Run {id}: {} · {} · {}{}",
        run["dataset"].as_str().unwrap_or(""),
        run["architecture"].as_str().unwrap_or(""),
        run["method"].as_str().unwrap_or(""),
        if run["dropout"].as_f64().unwrap_or(0.0) > 0.0 {
            format!(" · dropout {}", run["dropout"])
        } else {
            String::new()
        }
    );
    let curve = !run["spec"]["curve"].as_array().is_none_or(Vec::is_empty);
    let (deleted, set_deleted) = signal(None::<Result<(), api::Failure>>);
    // The event log opens its stream only when shown.
    let (events_open, set_events_open) = signal(false);
    let events_id = id.clone();
    let delete_id = id.clone();
    let delete = move |_| {
        let id = delete_id.clone();
        leptos::task::spawn_local(async move {
            set_deleted.set(Some(api::delete(&format!("/api/runs/{id}")).await));
        });
    };
    view! {
        <h1>{title}</h1>
        <p>
            <span class=format!("badge {status}")>{status.clone()}</span>
            {run["scale"].as_str().map(|s| format!(" · scale {s}"))}
            {run["stands_in_for"].as_str().map(|s| format!(" · stands in for {s}"))}
            {run["error"].as_str().map(|e| view! { <span class="error" role="alert">{format!(" · failed: {e}")}</span> })}
        </p>
        {(!finished).then(|| view! { <LiveRun id=id.clone() on_end/> })}
        {measured.then(|| view! {
            <div class="table-wrap">
                <table>
                    <caption>"Measured (PGD-10 and the empirical local Lipschitz constant at the run's ε)"</caption>
                    <thead><tr><th scope="col">"Set"</th><th scope="col">"Accuracy %"</th><th scope="col">"Adversarial accuracy %"</th><th scope="col">"Lipschitz"</th><th scope="col">"Images"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p>{format!("Gap {} · adversarial gap {} · training {} s · wall {} s",
                number(&metrics["gap"], 2), number(&metrics["adv_gap"], 2),
                number(&run["result"]["train_seconds"], 0), number(&run["result"]["wall_seconds"], 0))}</p>
        })}
        <div class="figures">
            {(run["epochs_done"].as_u64().unwrap_or(0) > 0).then(|| view! {
                <figure class="figure">
                    <img class="plot" src=format!("/api/runs/{id}/loss.svg") alt="Mean training loss per epoch"/>
                    <figcaption>"Training loss"</figcaption>
                </figure>
            })}
            {curve.then(|| view! {
                <figure class="figure">
                    <img class="plot" src=format!("/api/runs/{id}/accuracy-vs-epsilon.svg") alt="Test accuracy under PGD as a function of ε"/>
                    <figcaption>"Accuracy as a function of ε"</figcaption>
                </figure>
            })}
        </div>
        <div class="columns">
            <section><h2>"Spec"</h2><dl>{definition(&run["spec"])}</dl></section>
            <section><h2>"Provenance"</h2><dl>{definition(&run["provenance"])}</dl></section>
        </div>
        <p>
            {run["weights"].as_str().map(|weights| view! { <a class="button" href=weights.to_owned() download>"Download weights (safetensors)"</a> " " })}
            <a class="button" href=format!("/api/runs/{id}") rel="external">"JSON"</a>
        </p>
        <details on:toggle=move |e| set_events_open.set(event_target::<web_sys::HtmlDetailsElement>(&e).open())>
            <summary>"Events"</summary>
            {move || events_open.get().then(|| view! { <EventLog id=events_id.clone()/> })}
        </details>
        <details>
            <summary>"Delete this run"</summary>
            <TokenField/>
            <button class="danger" on:click=delete>"Delete run and its weights"</button>
            {move || match deleted.get() {
                None => ().into_any(),
                Some(Ok(())) => view! { <p class="ok">"Deleted."</p> }.into_any(),
                Some(Err(failure)) => view! { <Failed failure/> }.into_any(),
            }}
        </details>
    }
}

/// Every stored event of the run (the same stream live progress reads), as a list.
#[component]
fn EventLog(id: String) -> impl IntoView {
    let (events, set_events) = signal(Vec::<Value>::new());
    let (ended, set_ended) = signal(None::<String>);
    let stream = crate::live::follow(
        &id,
        move |event| set_events.update(|list| list.push(event)),
        move |status| set_ended.set(Some(status)),
        move || set_ended.set(Some("unknown: the server ended the stream".into())),
    );
    let stream = StoredValue::new_local(stream);
    on_cleanup(move || stream.update_value(|s| drop(s.take())));
    view! {
        <ol class="events">
            {move || events.get().into_iter().map(|event| {
                let name = event["event"].as_str().unwrap_or("?").to_owned();
                let details = event.as_object().map(|o| o.iter()
                    .filter(|(k, _)| k.as_str() != "event")
                    .map(|(k, v)| format!("{k} {}", crate::export::cell(v, 4)))
                    .collect::<Vec<_>>().join(" · ")).unwrap_or_default();
                view! { <li><strong>{name}</strong> " " {details}</li> }
            }).collect_view()}
        </ol>
        {move || ended.get().map(|status| view! { <p class="hint">{format!("Final status: {status}.")}</p> })}
    }
}
