//! Experiments: choose a dataset, methods, dropout, ε, scale and seeds; see what it will
//! cost; launch (with a token); watch each run live and cancel it; see the lab's workers.
//! The form lives in the URL, and so do the runs being watched (`?watch=`), so a reload or
//! a shared link keeps both.

use astute_api::{
    Architecture, AttackName, DatasetEntry, DatasetId, ExperimentSpec, JobEvent, JobState, Method,
    RunAnswer, ScaleSettings, Status, StreamEnd, TrainEvent,
};
use leptos::prelude::*;

use super::{query_param, set_query_params};
use crate::api;
use crate::components::{Failed, count, loaded};
use crate::live;
use crate::token;
use crate::workers::Workers;

/// Forward-and-backward passes per training image: the attack steps a method runs on
/// each batch, plus the update (`docs/methods.md`).
fn passes_per_image(method: &str) -> f64 {
    match method.split(':').next().unwrap_or("") {
        "natural" => 1.0,
        "gr" => 3.0,
        "llr" => 6.0,
        "llr-ref" => 5.0,
        "at" => 11.0,
        _ => 12.0, // rst, trades: a clean and an attacked pass per step
    }
}

/// The test set a run is evaluated on, about: 10,000 images for most datasets.
const TEST_IMAGES: f64 = 10_000.0;
/// Passes per evaluated image: clean, PGD-10 and the 10-step Lipschitz ascent.
const EVALUATION_PASSES: f64 = 22.0;
/// Image-passes per second of the CPU backend on 2 cores, the basis of the time estimate
/// (a GPU beats it by far): CNN2 on Fashion-MNIST trains at 1,700 (natural) to 2,400
/// (TRADES) and evaluates at 2,700 (`bench/results/train-fashion-mnist-cnn2-*-after.json`).
const PASSES_PER_SECOND_2_CORES: f64 = 2_000.0;

const METHODS: &[(&str, &str)] = &[
    ("natural", "Natural"),
    ("gr", "Gradient regularisation (GR)"),
    ("llr", "Locally linear regularisation (LLR)"),
    ("llr-ref", "LLR as the paper's code ran it (llr-ref)"),
    ("at", "Adversarial training (AT)"),
    ("rst", "Robust self-training, RST(λ)"),
    ("trades", "TRADES(β)"),
];

#[component]
pub fn Experiments() -> impl IntoView {
    super::page_title(|| "Experiments".into());
    let catalog = LocalResource::new(|| api::get::<Vec<DatasetEntry>>("/api/datasets"));
    let set_params = set_query_params();
    let param = |name, default: &'static str| {
        let value = query_param(name);
        Memo::new(move |_| value.get().unwrap_or_else(|| default.to_owned()))
    };
    let dataset = param("dataset", "fashion-mnist");
    let architecture = param("arch", "");
    let methods = param("methods", "natural,trades");
    let lambda = param("lambda", "1");
    let beta = param("beta", "6");
    let dropout = param("dropout", "0");
    let epsilon = param("eps", "");
    let scale = param("scale", "smoke");
    let seeds = param("seeds", "1");
    // AutoAttack after training on the first N test images; 0 for none.
    let autoattack = param("autoattack", "0");
    let watching = query_param("watch");

    let scales = LocalResource::new(move || {
        let dataset = dataset.get();
        async move {
            api::get::<Vec<ScaleSettings>>(&format!(
                "/api/scales?dataset={}",
                api::encode(&dataset)
            ))
            .await
        }
    });

    let chosen_methods = move || -> Vec<String> {
        let (lambda, beta) = (lambda.get(), beta.get());
        methods
            .get()
            .split(',')
            .filter(|m| !m.is_empty())
            .map(|m| match m {
                "rst" => format!("rst:{lambda}"),
                "trades" => format!("trades:{beta}"),
                other => other.to_owned(),
            })
            .collect()
    };

    let toggle_method = {
        let set_params = set_params.clone();
        move |name: &'static str, on: bool| {
            let mut list: Vec<String> = methods
                .get_untracked()
                .split(',')
                .filter(|m| !m.is_empty() && *m != name)
                .map(str::to_owned)
                .collect();
            if on {
                list.push(name.to_owned());
            }
            set_params(&[("methods", list.join(","))]);
        }
    };

    let estimate = move || -> Option<String> {
        let settings = scales.get()?.ok()?;
        let chosen = settings.iter().find(|s| s.name == scale.get())?.clone();
        let seeds: f64 = seeds.get().parse().ok()?;
        let images = chosen.subset.map_or(60_000.0, |n| n as f64);
        let epochs = chosen.epochs as f64;
        let evaluated = chosen.eval_train.map_or(10_000.0, |n| n as f64) + TEST_IMAGES;
        let attacked: f64 = autoattack.get().parse().unwrap_or(0.0);
        let attack = attacked.min(TEST_IMAGES) * AttackName::AutoAttack.passes_per_image(10);
        let methods = chosen_methods();
        let passes: f64 = methods
            .iter()
            .map(|m| images * epochs * passes_per_image(m) + evaluated * EVALUATION_PASSES + attack)
            .sum::<f64>()
            * seeds;
        let minutes = passes / PASSES_PER_SECOND_2_CORES / 60.0;
        Some(format!(
            "{}: {} on {images} training images each; about {} image passes, ≈ {} on 2 CPU cores (a GPU is far faster).",
            count(methods.len() as f64 * seeds, "run"),
            count(epochs, "epoch"),
            if passes >= 1e6 {
                format!("{:.1} million", passes / 1e6)
            } else {
                format!("{:.0} thousand", passes / 1e3)
            },
            if minutes < 90.0 {
                format!("{minutes:.0} min")
            } else {
                format!("{:.1} h", minutes / 60.0)
            }
        ))
    };

    let (problem, set_problem) = signal(None::<String>);
    let launch = Action::new_local(move |specs: &Vec<ExperimentSpec>| {
        let specs = specs.clone();
        let scale = scale.get_untracked();
        async move {
            let mut ids = Vec::new();
            for spec in specs {
                match api::post::<_, JobState>(&format!("/api/runs?scale={scale}"), Some(&spec))
                    .await
                {
                    Ok(created) => ids.push(created.id),
                    Err(failure) => return (ids, Some(failure)),
                }
            }
            (ids, None)
        }
    });
    {
        let set_params = set_params.clone();
        Effect::new(move || {
            if let Some((ids, failure)) = launch.value().get() {
                set_problem.set(failure.map(|f| f.to_string()));
                if !ids.is_empty() {
                    let mut all: Vec<String> = watching
                        .get_untracked()
                        .unwrap_or_default()
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                    all.extend(ids);
                    set_params(&[("watch", all.join(","))]);
                }
            }
        });
    }
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let seeds: u64 = match seeds.get_untracked().parse() {
            Ok(n) if (1..=10).contains(&n) => n,
            _ => {
                set_problem.set(Some("Seeds: choose 1 to 10.".into()));
                return;
            }
        };
        let methods = chosen_methods();
        if methods.is_empty() {
            set_problem.set(Some("Choose at least one method.".into()));
            return;
        }
        let dropout: f64 = match dropout.get_untracked().parse() {
            Ok(d) if (0.0..1.0).contains(&d) => d,
            _ => {
                set_problem.set(Some(
                    "Dropout: a rate from 0 up to (not including) 1.".into(),
                ));
                return;
            }
        };
        let eps = epsilon.get_untracked();
        let epsilon = match eps.trim() {
            "" => None,
            text => match text.parse::<f32>() {
                Ok(e) => Some(e),
                Err(_) => {
                    set_problem.set(Some(format!("ε: {eps:?} is not a number.")));
                    return;
                }
            },
        };
        let parsed = (|| -> Result<_, astute_api::NameError> {
            let dataset: DatasetId = dataset.get_untracked().parse()?;
            let architecture = match architecture.get_untracked().as_str() {
                "" => None,
                name => Some(name.parse::<Architecture>()?),
            };
            let methods = methods
                .iter()
                .map(|m| m.parse::<Method>())
                .collect::<Result<Vec<_>, _>>()?;
            Ok((dataset, architecture, methods))
        })();
        let (dataset, architecture, methods) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                set_problem.set(Some(error.to_string()));
                return;
            }
        };
        let attack_images: usize = match autoattack.get_untracked().trim().parse() {
            Ok(n) => n,
            Err(_) => {
                set_problem.set(Some(
                    "AutoAttack: a number of test images (0 for none).".into(),
                ));
                return;
            }
        };
        let attacks = if attack_images > 0 {
            vec![AttackName::AutoAttack]
        } else {
            Vec::new()
        };
        let mut specs = Vec::new();
        for &method in &methods {
            for seed in 0..seeds {
                specs.push(ExperimentSpec {
                    architecture,
                    dropout,
                    epsilon,
                    seed,
                    attacks: attacks.clone(),
                    attack_images: (attack_images > 0).then_some(attack_images),
                    ..ExperimentSpec::new(dataset, method)
                });
            }
        }
        set_problem.set(None);
        launch.dispatch(specs);
    };

    let field = move |name: &'static str| {
        let set_params = set_params.clone();
        move |event: leptos::ev::Event| set_params(&[(name, event_target_value(&event))])
    };
    let dataset_field = field("dataset");
    let dataset_choice = loaded(catalog, move |datasets: Vec<DatasetEntry>| {
        let options = datasets
            .into_iter()
            .filter(|d| d.available)
            .map(|d| {
                let id = d.id.to_string();
                let label = format!("{} ({})", id, d.title);
                view! { <option value=id>{label}</option> }
            })
            .collect_view();
        let on_change = dataset_field.clone();
        view! {
            <label>"Dataset "
                <select on:change=on_change prop:value=move || dataset.get()>{options}</select>
            </label>
        }
    });
    let method_boxes = METHODS
        .iter()
        .map(|&(name, label)| {
            let toggle = toggle_method.clone();
            let checked = move || methods.get().split(',').any(|m| m == name);
            view! {
                <label class="check">
                    <input type="checkbox" prop:checked=checked
                        on:change=move |e| toggle(name, event_target_checked(&e))/>
                    {label}
                </label>
            }
        })
        .collect_view();

    view! {
        <h1>"Experiments"</h1>
        <p class="lede">"Train the paper's methods on a dataset of this server and watch them live. Each method and seed is one run; all of them land in the shared results."</p>
        <form class="experiment" on:submit=submit>
            <fieldset>
                <legend>"Data and network"</legend>
                {dataset_choice}
                <label>"Network "
                    <select on:change=field("arch") prop:value=architecture>
                        <option value="">"the dataset's default"</option>
                        <option value="cnn1">"CNN1 (the paper's smaller MNIST network)"</option>
                        <option value="cnn2">"CNN2"</option>
                        <option value="wrn-16-4">"WRN-16-4 (colour images)"</option>
                        <option value="resnet50">"ResNet-50"</option>
                        <option value="mlp-3-64">"MLP, 3 layers of 64 (the spiral)"</option>
                    </select>
                </label>
                <label>"ε (ℓ∞; empty = the dataset's) "
                    <input type="text" inputmode="decimal" prop:value=epsilon on:change=field("eps") placeholder="0.1"/>
                </label>
                <label>"Dropout rate "
                    <input type="number" min="0" max="0.9" step="0.1" prop:value=dropout on:change=field("dropout")/>
                </label>
            </fieldset>
            <fieldset>
                <legend>"Methods (several at once)"</legend>
                {method_boxes}
                <label>"RST λ " <input type="number" min="0" step="0.5" prop:value=lambda on:change=field("lambda")/></label>
                <label>"TRADES β " <input type="number" min="0" step="1" prop:value=beta on:change=field("beta")/></label>
            </fieldset>
            <fieldset>
                <legend>"Budget"</legend>
                <label>"Scale "
                    <select on:change=field("scale") prop:value=scale>
                        <option value="smoke">"smoke"</option>
                        <option value="cpu">"cpu"</option>
                        <option value="paper">"paper"</option>
                    </select>
                </label>
                <p class="hint scale-note">{move || match scale.get().as_str() {
                    "smoke" => "One epoch on 256 images, to try things out (the test set is still evaluated in full).",
                    "cpu" => "3 epochs on 8,000 images, Adam with a one-epoch warm-up: the shipped tables' scale.",
                    _ => "The paper's full protocol: a GPU's work.",
                }}</p>
                <label>"Seeds " <input type="number" min="1" max="10" prop:value=seeds on:change=field("seeds")/></label>
                <label title="APGD-CE, APGD-T and Square after training, beside the paper's PGD-10; 0 for none">
                    "AutoAttack on the first " <input type="number" min="0" max="10000" step="100" prop:value=autoattack on:change=field("autoattack")/> " test images"
                </label>
                <p class="estimate" aria-live="polite">{move || estimate().unwrap_or_default()}</p>
            </fieldset>
            <TokenField/>
            <button type="submit" disabled=move || launch.pending().get()>
                {move || if launch.pending().get() { "Launching…" } else { "Launch" }}
            </button>
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
        </form>
        <section aria-labelledby="live-title">
            <h2 id="live-title">"Runs launched here"</h2>
            {move || {
                let ids: Vec<String> = watching.get().unwrap_or_default().split(',')
                    .filter(|s| !s.is_empty()).map(str::to_owned).collect();
                if ids.is_empty() {
                    view! { <p class="hint">"Launched runs appear here with their live progress."</p> }.into_any()
                } else {
                    ids.into_iter().map(|id| view! { <LiveRun id/> }).collect_view().into_any()
                }
            }}
        </section>
        <Workers/>
    }
}

/// The access token field (kept in this browser only).
#[component]
pub fn TokenField() -> impl IntoView {
    let (saved, set_saved) = signal(token::get().is_some());
    view! {
        <fieldset>
            <legend>"Access"</legend>
            <label>"Token "
                <input type="password" autocomplete="off" placeholder=move || if saved.get() { "saved in this browser" } else { "from astute token create" }
                    on:change=move |e| { token::set(&event_target_value(&e)); set_saved.set(token::get().is_some()); }/>
            </label>
        </fieldset>
    }
}

/// One run's live progress: status, epoch and batch bars, loss curve, images/s, ETA,
/// and a cancel button.
#[component]
pub fn LiveRun(
    id: String,
    /// Called with how the run ended.
    #[prop(optional)]
    on_end: Option<Callback<StreamEnd>>,
) -> impl IntoView {
    let (status, set_status) = signal(String::from("…"));
    let (epoch, set_epoch) = signal((0usize, 0usize));
    let (batch, set_batch) = signal((0usize, 0usize));
    let (losses, set_losses) = signal(Vec::<f64>::new());
    let (speed, set_speed) = signal(None::<(f64, Option<f64>)>);
    let (result, set_result) = signal(None::<RunAnswer>);
    let summary_id = id.clone();
    let refresh = move || {
        let id = summary_id.clone();
        leptos::task::spawn_local(async move {
            if let Ok(answer) = api::get::<RunAnswer>(&format!("/api/runs/{id}")).await {
                set_status.set(answer.run.summary.status.as_str().to_owned());
                set_result.set(Some(answer));
            }
        });
    };
    refresh();
    let stream = live::follow(
        &id,
        move |event| match event {
            JobEvent::Claimed { .. } => set_status.set("running".into()),
            JobEvent::Train(TrainEvent::EpochStarted { epoch, epochs, .. }) => {
                set_status.set("running".into());
                set_epoch.set((epoch, epochs));
            }
            JobEvent::Train(TrainEvent::Batch {
                batch,
                batches,
                loss,
                images_per_second,
                eta_seconds,
                ..
            }) => {
                set_batch.set((batch + 1, batches));
                set_losses.update(|l| l.push(loss));
                set_speed.set(Some((images_per_second, eta_seconds)));
            }
            JobEvent::Evaluating { .. } => set_status.set("evaluating".into()),
            _ => {}
        },
        move |end| {
            if let Some(on_end) = on_end {
                on_end.run(end);
            }
            set_status.set(end.as_str().to_owned());
            refresh();
        },
        move || set_status.set("not found".into()),
    );
    let stream = StoredValue::new_local(stream);
    on_cleanup(move || stream.update_value(|s| drop(s.take())));

    let (problem, set_problem) = signal(None::<api::Failure>);
    let cancel_id = id.clone();
    let cancel = move |_| {
        let id = cancel_id.clone();
        leptos::task::spawn_local(async move {
            match api::post::<(), JobState>(&format!("/api/runs/{id}/cancel"), None).await {
                Ok(answer) => set_status.set(answer.status.as_str().to_owned()),
                Err(failure) => set_problem.set(Some(failure)),
            }
        });
    };
    let link = format!("/runs/{id}");
    view! {
        <article class="live-run" aria-label=format!("run {id}")>
            <header>
                <a href=link>{id.clone()}</a>
                " " {move || result.get().map(|r| {
                    let s = r.run.summary;
                    format!("{} · {} · {}", s.dataset, s.architecture, s.method)
                })}
                " " <span class=move || format!("badge {}", status.get())>{move || status.get()}</span>
            </header>
            <label class="bar">"Epoch "{move || format!("{} / {}", (epoch.get().0 + 1).min(epoch.get().1.max(1)), epoch.get().1)}
                <progress max=move || epoch.get().1.max(1) value=move || epoch.get().0/>
            </label>
            <label class="bar">"Batch "{move || format!("{} / {}", batch.get().0, batch.get().1)}
                <progress max=move || batch.get().1.max(1) value=move || batch.get().0/>
            </label>
            <p class="speed">{move || speed.get().map(|(ips, eta)| match eta {
                Some(eta) => format!("{ips:.0} images/s · about {eta:.0} s of training left"),
                None => format!("{ips:.0} images/s"),
            })}</p>
            <LossCurve losses/>
            {move || result.get().map(|r| r.run.summary).filter(|s| s.status == Status::Done).map(|s| view! {
                <p class="ok">{format!("Done: test accuracy {:.2} %, adversarial {:.2} %, Lipschitz {:.2}",
                    s.test_acc.unwrap_or(f64::NAN), s.adv_test_acc.unwrap_or(f64::NAN),
                    s.test_lipschitz.unwrap_or(f64::NAN))}</p>
            })}
            {move || result.get().and_then(|r| r.run.summary.error).map(|e| view! { <p class="error" role="alert">{format!("The run failed: {e}")}</p> })}
            <button on:click=cancel disabled=move || matches!(status.get().as_str(), "done" | "failed" | "cancelled")>"Cancel"</button>
            {move || problem.get().map(|failure| view! { <Failed failure/> })}
        </article>
    }
}

/// The training loss per reported batch, as a small line chart.
#[component]
fn LossCurve(losses: ReadSignal<Vec<f64>>) -> impl IntoView {
    const W: f64 = 320.0;
    const H: f64 = 80.0;
    let points = move || {
        let l = losses.get();
        let max = l.iter().cloned().fold(f64::MIN, f64::max).max(1e-9);
        let n = l.len().max(2) - 1;
        l.iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "{:.1},{:.1}",
                    i as f64 * W / n as f64,
                    H - v / max * (H - 4.0)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    view! {
        <svg class="loss" viewBox=format!("0 0 {W} {H}") role="img"
            aria-label=move || format!("Training loss over {} reported batches, last {:.3}", losses.get().len(), losses.get().last().copied().unwrap_or(f64::NAN))>
            <polyline points=points fill="none" stroke="currentColor" stroke-width="1.5"/>
        </svg>
    }
}
