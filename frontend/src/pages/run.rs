//! One run: what was asked (spec), where and how it ran (provenance), what it measured,
//! its figures, its events (live while it trains) and its weights.

use astute_api::{
    ExperimentSpec, JobEvent, Provenance, RunAnswer, RunResult, SetEvaluation, TrainEvent,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::experiments::{LiveRun, TokenField};
use crate::api;
use crate::components::{Failed, loaded, number, rate};
use crate::figure::Figure;

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    super::page_title(move || format!("Run {}", id()));
    let run = LocalResource::new(move || {
        let id = id();
        async move { api::get::<RunAnswer>(&format!("/api/runs/{}", api::encode(&id))).await }
    });
    view! {
        <p><a href="/results?view=runs">"← All runs"</a></p>
        {loaded(run, move |detail| view! {
            <RunDetail run=detail on_end=Callback::new(move |_| run.refetch())/>
        })}
    }
}

/// A time of the store (milliseconds since the Unix epoch) to the minute, in UTC.
fn when(ms: i64) -> String {
    let iso: String = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
        .to_iso_string()
        .into();
    format!("{} {} UTC", &iso[..10], &iso[11..16])
}

#[component]
fn RunDetail(
    run: RunAnswer,
    /// Reloads the run when it ends, so its results appear without a reload.
    on_end: Callback<astute_api::StreamEnd>,
) -> impl IntoView {
    let RunAnswer { run, weights } = run;
    let summary = run.summary;
    let id = summary.id.clone();
    let status = summary.status.as_str().to_owned();
    let finished = summary.status.is_final();
    let done = summary.status == astute_api::Status::Done;
    let times = [
        Some(("queued", summary.created_at)),
        summary.started_at.map(|t| ("started", t)),
        summary.finished_at.map(|t| ("ended", t)),
    ]
    .into_iter()
    .flatten()
    .map(|(what, t)| format!(" · {what} {}", when(t)))
    .collect::<String>();
    let result = run.result;
    let rows = result.as_ref().map(|result| {
        let m = result.metrics;
        [("train", m.train), ("test", m.test)]
            .into_iter()
            .map(|(part, set): (&str, SetEvaluation)| {
                view! {
                    <tr>
                        <th scope="row">{part}</th>
                        <td>{number(Some(set.accuracy), 2)}</td>
                        <td>{number(Some(set.adversarial_accuracy), 2)}</td>
                        <td>{number(Some(set.lipschitz), 2)}</td>
                        <td>{set.images}</td>
                    </tr>
                }
            })
            .collect_view()
    });
    let definition = |pairs: Vec<(&'static str, String)>| {
        pairs
            .into_iter()
            .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
            .collect_view()
    };
    let title = format!(
        "Run {id}: {} · {} · {}{}",
        summary.dataset,
        summary.architecture,
        summary.method,
        if summary.dropout > 0.0 {
            format!(" · dropout {}", rate(summary.dropout))
        } else {
            String::new()
        }
    );
    let curve = !run.spec.curve.is_empty();
    // The playground runs a model in the browser on its sample images, MNIST's and
    // Fashion-MNIST's: there its robust accuracy against ε is computed on request.
    let playground = weights.is_some()
        && matches!(
            summary.dataset.to_string().as_str(),
            "mnist" | "mnist-sample" | "fashion-mnist"
        );
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
            {times}
            {summary.scale.map(|s| format!(" · scale {s}"))}
            {summary.stands_in_for.map(|s| format!(" · stands in for {s}"))}
            {summary.error.map(|e| view! { <span class="error" role="alert">{format!(" · failed: {e}")}</span> })}
        </p>
        {summary.did_not_train.then(|| view! {
            <p class="untrained" role="note">
                <span class="badge failed">"did not train"</span>
                {format!(" Its final train accuracy, {} %, is within {} points of chance (a classifier that ignores its input): \
                          the tables leave it out of their means.",
                    number(summary.train_acc, 2), astute_api::UNTRAINED_MARGIN)}
            </p>
        })}
        {(!finished).then(|| view! { <LiveRun id=id.clone() on_end/> })}
        {result.map(|result| view! {
            <div class="table-wrap">
                <table>
                    <caption>"Measured (PGD-10 and the empirical local Lipschitz constant at the run's ε)"</caption>
                    <thead><tr><th scope="col">"Set"</th><th scope="col">"Accuracy %"</th><th scope="col">"Adversarial accuracy %"</th><th scope="col">"Lipschitz"</th><th scope="col">"Images"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p>{format!("Gap {} · adversarial gap {} · training {} s · wall {} s",
                number(Some(result.metrics.gap), 2), number(Some(result.metrics.adv_gap), 2),
                number(Some(result.train_seconds), 0), number(Some(result.wall_seconds), 0))}</p>
            <RobustTable result=result.clone()/>
        })}
        <div class="figures">
            {(summary.epochs_done > 0).then(|| view! {
                <Figure src=format!("/api/runs/{id}/loss.svg") name=format!("astute-run-{id}-loss")
                    alt="Mean training loss per epoch">"Training loss"</Figure>
            })}
            {if curve {
                view! {
                    <Figure src=format!("/api/runs/{id}/accuracy-vs-epsilon.svg") name=format!("astute-run-{id}-accuracy-vs-epsilon")
                        alt="Test accuracy under PGD as a function of ε">"Accuracy as a function of ε"</Figure>
                }
                .into_any()
            } else if playground {
                view! {
                    <p class="hint no-curve">"No accuracy-against-ε curve was stored with this run. "
                        <a href=format!("/playground?run={id}&vs=none")>"Compute it in your browser"</a>
                        " (the playground attacks its sample images with this run's weights)."</p>
                }
                .into_any()
            } else {
                ().into_any()
            }}
        </div>
        <div class="columns">
            <section><h2>"Spec"</h2><dl>{definition(spec_fields(&run.spec))}</dl></section>
            <section class="provenance"><h2>"Provenance"</h2><dl>{definition(provenance_fields(run.provenance))}</dl></section>
        </div>
        <p>
            {playground.then(|| view! {
                <a class="button" href=format!("/playground?run={id}")>"Attack it in the playground"</a>" "
            })}
            {match weights {
                Some(weights) => view! { <a class="button" href=weights download>"Download weights (safetensors)"</a> " " }.into_any(),
                None if done => view! {
                    <span class="hint">"No weights are stored for this run (shipped results keep their numbers, not their weights; the command under Provenance trains them again). "</span>
                }.into_any(),
                None => ().into_any(),
            }}
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

/// What a spec asks for, the fields it sets only (the rest are the dataset's preset).
/// Test accuracies under the further attacks the run was evaluated with, and the
/// gradient-masking checks, raised ones as badges.
#[component]
fn RobustTable(result: RunResult) -> impl IntoView {
    let rows = result
        .robust
        .iter()
        .map(|r| {
            view! {
                <tr>
                    <th scope="row">{r.attack.to_string()}</th>
                    <td>{r.epsilon}</td>
                    <td>{number(Some(r.accuracy), 2)}</td>
                    <td>{r.images}</td>
                    <td>{r.seed}</td>
                    <td>{number(Some(r.seconds), 0)}</td>
                </tr>
            }
        })
        .collect_view();
    let checks = result
        .masking
        .iter()
        .map(|flag| {
            // Each check names a sign of gradient masking: "yes" is the warning.
            let (class, mark) = if flag.raised {
                ("badge failed", "yes: gradients may be masked")
            } else {
                ("badge done", "no")
            };
            view! {
                <li>
                    <span class=class>{format!("{}? {mark}", flag.check.headline())}</span>
                    " " {flag.evidence.clone()}
                </li>
            }
        })
        .collect_view();
    let none = result.robust.is_empty() && result.masking.is_empty();
    view! {
        <section>
            <h2>"Further attacks"</h2>
            {none.then(|| view! {
                <p>"Measured with PGD-10 only. "
                   <code>{"astute eval --run ID --attack autoattack --masking"}</code>
                   " adds AutoAttack and the gradient-masking checks."</p>
            })}
            {(!result.robust.is_empty()).then(|| view! {
                <div class="table-wrap">
                    <table>
                        <caption>"Test accuracy under each attack (a point wrong unattacked counts as broken)"</caption>
                        <thead><tr><th scope="col">"Attack"</th><th scope="col">"ε"</th><th scope="col">"Accuracy %"</th><th scope="col">"Test images"</th><th scope="col">"Seed"</th><th scope="col">"Seconds"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            })}
            {(!result.masking.is_empty()).then(|| view! {
                <h3>"Gradient-masking checks"</h3>
                <ul class="checks">{checks}</ul>
            })}
        </section>
    }
}

fn spec_fields(spec: &ExperimentSpec) -> Vec<(&'static str, String)> {
    let mut fields = vec![("dataset", spec.dataset.to_string())];
    fields.extend(spec.architecture.map(|a| ("architecture", a.to_string())));
    fields.push(("method", spec.method.to_string()));
    fields.push(("dropout", rate(spec.dropout).to_string()));
    fields.extend(spec.epsilon.map(|e| ("epsilon", e.to_string())));
    fields.extend(spec.epochs.map(|e| ("epochs", e.to_string())));
    fields.extend(spec.batch_size.map(|b| ("batch_size", b.to_string())));
    fields.extend(spec.learning_rate.map(|l| ("learning_rate", l.to_string())));
    fields.extend(spec.subset.map(|n| ("subset", n.to_string())));
    fields.push(("seed", spec.seed.to_string()));
    fields.extend(spec.eval_train.map(|n| ("eval_train", n.to_string())));
    if !spec.curve.is_empty() {
        let radii: Vec<String> = spec.curve.iter().map(|e| e.to_string()).collect();
        fields.push(("curve", radii.join(", ")));
    }
    fields
}

fn provenance_fields(provenance: Provenance) -> Vec<(&'static str, String)> {
    vec![
        ("command", provenance.command),
        ("version", provenance.version),
        ("commit", provenance.commit),
        ("backend", provenance.backend),
    ]
}

/// An event's details in words.
fn describe(event: &JobEvent) -> String {
    match event {
        JobEvent::Claimed {
            worker,
            attempt,
            backend,
            ..
        } => match backend {
            Some(backend) => format!("worker {worker} ({backend}) · attempt {attempt}"),
            None => format!("worker {worker} · attempt {attempt}"),
        },
        JobEvent::Evaluating { epsilon } => format!("epsilon {epsilon}"),
        JobEvent::Released { reason } => reason.clone(),
        JobEvent::Finished { status, error } => match error {
            Some(error) => format!("status {status} · error {error}"),
            None => format!("status {status}"),
        },
        JobEvent::Train(TrainEvent::EpochStarted {
            epoch,
            epochs,
            batches,
            learning_rate,
        }) => format!(
            "epoch {epoch} · epochs {epochs} · batches {batches} · learning_rate {learning_rate:.4}"
        ),
        JobEvent::Train(TrainEvent::Batch {
            epoch,
            batch,
            batches,
            loss,
            images_per_second,
            eta_seconds,
        }) => format!(
            "epoch {epoch} · batch {batch} of {batches} · loss {loss:.4} · {images_per_second:.0} images/s{}",
            eta_seconds.map_or_else(String::new, |s| format!(" · eta {s:.0} s"))
        ),
        JobEvent::Train(TrainEvent::EpochFinished {
            epoch,
            mean_loss,
            seconds,
        }) => format!("epoch {epoch} · mean_loss {mean_loss:.4} · seconds {seconds:.4}"),
        JobEvent::Train(TrainEvent::Checkpointed { epoch }) => format!("epoch {epoch}"),
    }
}

/// Every stored event of the run (the same stream live progress reads), as a list.
#[component]
fn EventLog(id: String) -> impl IntoView {
    let (events, set_events) = signal(Vec::<JobEvent>::new());
    let (ended, set_ended) = signal(None::<String>);
    let stream = crate::live::follow(
        &id,
        move |event| set_events.update(|list| list.push(event)),
        move |end| set_ended.set(Some(end.as_str().to_owned())),
        move || set_ended.set(Some("unknown: the server ended the stream".into())),
    );
    let stream = StoredValue::new_local(stream);
    on_cleanup(move || stream.update_value(|s| drop(s.take())));
    view! {
        <ol class="events">
            {move || events.get().iter().map(|event| {
                view! { <li><strong>{event.name()}</strong> " " {describe(event)}</li> }
            }).collect_view()}
        </ol>
        {move || ended.get().map(|status| view! { <p class="hint">{format!("Final status: {status}.")}</p> })}
    }
}
