//! The attack playground: the shipped natural and robust models run in the visitor's
//! browser (WebGPU or WebAssembly, through the engine bundle) and anyone attacks them.
//! Every choice lives in the URL (`?d= m= vs= i= attack= eps= steps= step= restarts=
//! target= seed= backend= n= curve=`, `n` and `curve` being the curve's image count and
//! attack), so a link reproduces the attack.

mod curve;
mod sketch;
mod trace;

use astute_api::RunAnswer;
use astute_engine_api::{
    AttackKind, AttackRequest, AttackResult, BackendChoice, CurveAttack, CurvePoint, ModelEntry,
    PlaygroundManifest, SampleSet, cross_entropy, curve_warnings, margin, prediction, softmax,
};
use astute_formats::idx;
use leptos::prelude::*;

use self::curve::{CURVE_SIZES, CurveChart, EPSILONS};
use self::sketch::Sketch;
use self::trace::ApgdTrace;
use super::{parse_or, query_param, set_query_params, throttled};
use crate::api;
use crate::components::EngineStarting;
use crate::engine::{self, Engine};
use crate::picture::{Palette, Picture};

const MANIFEST: &str = "/playground-data/manifest.json";
/// The image a first visit attacks: a digit of the MNIST sample that the natural model
/// loses at ε = 0.1 while the robust ones keep it, so the page opens on the paper's point.
const FIRST_IMAGE: usize = 3;
/// How often a dragged slider or a typed number re-runs the attack.
const LIVE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(150);

/// A dataset's shipped test images, decoded.
#[derive(Debug, Clone, PartialEq)]
struct Samples {
    set: SampleSet,
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

impl Samples {
    fn per_image(&self) -> usize {
        self.set.shape.iter().product()
    }

    fn image(&self, index: usize) -> Option<(Vec<f32>, u8)> {
        let n = self.per_image();
        let pixels = self.pixels.get(index * n..(index + 1) * n)?;
        Some((
            pixels.iter().map(|&p| f32::from(p) / 255.0).collect(),
            *self.labels.get(index)?,
        ))
    }
}

/// The image under attack: its pixels, true class and where it came from.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    pixels: Vec<f32>,
    label: u8,
    source: String,
    /// The model whose clean answer was taken as the class: a drawing or upload whose class
    /// the visitor left unset.
    class_from: Option<String>,
}

/// What one model did with the image.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    model: ModelEntry,
    attack: AttackResult,
    lipschitz: f32,
    lipschitz_ms: f64,
}

/// Fetches and parses a sample set: no engine needed, so the thumbnails show while the
/// engine is still downloading.
async fn load_samples(set: SampleSet) -> Result<Samples, String> {
    let fetch = |path: String| async move {
        api::bytes(&format!("/playground-data/{path}"))
            .await
            .map_err(|e| format!("the sample images did not arrive: {e}"))
    };
    let unreadable = |path: &str, e: astute_formats::FormatError| format!("{path}: {e}");
    let pixels = idx::parse_images(fetch(set.images.clone()).await?)
        .map_err(|e| unreadable(&set.images, e))?
        .pixels;
    let labels = idx::parse_labels(fetch(set.labels.clone()).await?)
        .map_err(|e| unreadable(&set.labels, e))?;
    Ok(Samples {
        set,
        pixels,
        labels,
    })
}

/// The prefix of the ids of models that are runs of this server's store (`?run=ID`).
const RUN_PREFIX: &str = "run-";

/// A model's name on the page: a run's says which run it is.
fn title(model: &ModelEntry) -> String {
    match model.id.strip_prefix(RUN_PREFIX) {
        Some(run) => format!("Run {run}: {}", model.label()),
        None => model.label(),
    }
}

/// Where a model's weights are: the manifest's paths are under the playground's data, a
/// run's are the server's URL for them.
fn weights_url(model: &ModelEntry) -> String {
    if model.weights.starts_with('/') {
        model.weights.clone()
    } else {
        format!("/playground-data/{}", model.weights)
    }
}

/// The playground's entry for a run of the store: its weights, the samples of its dataset
/// (the MNIST sample's for MNIST), what it measured. Runs on datasets the playground has
/// no samples of, and runs without weights, are refused with the reason.
fn run_entry(answer: RunAnswer) -> Result<ModelEntry, String> {
    let summary = answer.run.summary;
    let id = summary.id;
    let weights = answer.weights.ok_or_else(|| {
        format!(
            "run {id} has no stored weights to attack (shipped results keep their numbers only)"
        )
    })?;
    let dataset = match summary.dataset.to_string().as_str() {
        "mnist" | "mnist-sample" => "mnist-sample",
        "fashion-mnist" => "fashion-mnist",
        other => {
            return Err(format!(
                "the playground has sample images of MNIST and Fashion-MNIST only; run {id} is on {other}"
            ));
        }
    };
    Ok(ModelEntry {
        id: format!("{RUN_PREFIX}{id}"),
        dataset: dataset.to_owned(),
        architecture: summary.architecture.to_string(),
        method: summary.method.to_string(),
        dropout: summary.dropout,
        weights,
        bytes: 0,
        test_accuracy: summary.test_acc.unwrap_or(f64::NAN),
        test_adversarial_accuracy: summary.adv_test_acc.unwrap_or(f64::NAN),
        test_lipschitz: summary.test_lipschitz.unwrap_or(f64::NAN),
        test_images: 0,
        test_autoattack_accuracy: None,
        autoattack_images: None,
        epsilon: summary.epsilon as f32,
        command: format!("run {id} of this lab"),
    })
}

/// The engine on `choice` with `model` loaded, and the model's handle in it.
async fn engine_with(model: &ModelEntry, choice: BackendChoice) -> Result<(Engine, usize), String> {
    let engine = Engine::get(choice).await?;
    let handle = engine.model(&model.id, &weights_url(model)).await?;
    Ok((engine, handle))
}

/// The class `model` gives `pixels` (before any attack).
async fn clean_answer(
    model: &ModelEntry,
    pixels: &[f32],
    choice: BackendChoice,
) -> Result<u8, String> {
    let (engine, handle) = engine_with(model, choice).await?;
    let logits = engine.logits(handle, pixels).await?;
    u8::try_from(prediction(&logits)).map_err(|_| "more classes than a byte counts".to_owned())
}

async fn attack_with(
    model: ModelEntry,
    target: Target,
    request: AttackRequest,
    choice: BackendChoice,
) -> Result<Outcome, String> {
    let (engine, handle) = engine_with(&model, choice).await?;
    let attack = engine
        .attack(handle, &target.pixels, target.label, &request)
        .await?;
    let lipschitz = if request.epsilon > 0.0 {
        let estimate = engine
            .lipschitz(handle, &target.pixels, request.epsilon)
            .await?;
        (estimate.value, estimate.milliseconds)
    } else {
        (0.0, 0.0)
    };
    Ok(Outcome {
        model,
        attack,
        lipschitz: lipschitz.0,
        lipschitz_ms: lipschitz.1,
    })
}

#[component]
pub fn Playground() -> impl IntoView {
    super::page_title(|| "Attack playground".into());
    let manifest = LocalResource::new(|| api::get::<PlaygroundManifest>(MANIFEST));
    let backend_param = query_param("backend");
    let choice = Memo::new(move |_| {
        backend_param
            .get()
            .and_then(|b| BackendChoice::parse(&b))
            .unwrap_or_default()
    });
    let engine = LocalResource::new(move || {
        let choice = choice.get();
        async move { Engine::get(choice).await.map(|e| e.report) }
    });
    let set_params = set_query_params();

    // A run of this lab to attack (`?run=ID`, linked from its page), beside the shipped models.
    let run_param = query_param("run");
    let run_model = LocalResource::new(move || {
        let id = run_param.get();
        async move {
            let Some(id) = id else { return Ok(None) };
            let answer = api::get::<RunAnswer>(&format!("/api/runs/{id}"))
                .await
                .map_err(|e| format!("run {id}: {e}"))?;
            run_entry(answer).map(Some)
        }
    });
    let attacked_run = Memo::new(move |_| run_model.get().and_then(Result::ok).flatten());
    let dataset_param = query_param("d");
    let dataset = Memo::new(move |_| {
        dataset_param
            .get()
            .or_else(|| attacked_run.get().map(|e| e.dataset))
            .unwrap_or_else(|| "mnist-sample".into())
    });
    let (model_a, model_b) = (query_param("m"), query_param("vs"));
    let index_param = query_param("i");
    let index = Memo::new(move |_| parse_or(index_param.get(), FIRST_IMAGE));
    let (kind_p, eps_p, steps_p, step_p, restarts_p, target_p, seed_p) = (
        query_param("attack"),
        query_param("eps"),
        query_param("steps"),
        query_param("step"),
        query_param("restarts"),
        query_param("target"),
        query_param("seed"),
    );
    let epsilon = Memo::new(move |_| parse_or(eps_p.get(), 0.1f32).clamp(0.0, 1.0));
    let request = Memo::new(move |_| {
        let kind = match kind_p.get().as_deref() {
            Some("fgsm") => AttackKind::Fgsm,
            Some("multi-targeted") => AttackKind::MultiTargeted,
            Some("apgd-ce") => AttackKind::ApgdCe,
            Some("apgd-t") => AttackKind::ApgdT,
            _ => AttackKind::Pgd,
        };
        let epsilon = epsilon.get();
        let default_step = if kind == AttackKind::MultiTargeted {
            epsilon / 10.0
        } else {
            epsilon / 5.0
        };
        AttackRequest {
            kind,
            epsilon,
            steps: parse_or(
                steps_p.get(),
                match kind {
                    AttackKind::MultiTargeted => 20,
                    AttackKind::ApgdCe | AttackKind::ApgdT => 100,
                    _ => 10,
                },
            ),
            step_size: parse_or(step_p.get(), default_step),
            restarts: parse_or(restarts_p.get(), 1),
            target: target_p.get().and_then(|t| t.parse().ok()),
            seed: parse_or(seed_p.get(), 0),
        }
    });

    let entries = Memo::new(move |_| -> Vec<ModelEntry> {
        let shipped = match manifest.get() {
            Some(Ok(m)) => m.models,
            _ => Vec::new(),
        };
        attacked_run
            .get()
            .into_iter()
            .chain(shipped)
            .filter(|e| e.dataset == dataset.get())
            .collect()
    });
    let chosen_models = Memo::new(move |_| -> Vec<ModelEntry> {
        let entries = entries.get();
        let d = dataset.get();
        let pick = |id: Option<String>, default: String| {
            let id = id.unwrap_or(default);
            entries.iter().find(|e| e.id == id).cloned()
        };
        let first_default = match attacked_run.get() {
            Some(run) => run.id,
            None => format!("{d}-natural-plain"),
        };
        let first = pick(model_a.get(), first_default);
        let second = match model_b.get().as_deref() {
            Some("none") => None,
            other => pick(other.map(str::to_owned), format!("{d}-trades6-plain")),
        };
        first.into_iter().chain(second).collect()
    });

    // Waits for the manifest rather than reading it, so "no samples" is said only of a
    // manifest that lists none.
    let samples = LocalResource::new(move || {
        let dataset = dataset.get();
        async move {
            let manifest = manifest
                .await
                .map_err(|e| format!("the playground's model list did not arrive: {e}"))?;
            match manifest.samples_of(&dataset).cloned() {
                Some(set) => load_samples(set).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let custom = RwSignal::new(None::<(Vec<f32>, String)>);
    // A drawing's or upload's class: `None` takes the first model's clean answer.
    let custom_label = RwSignal::new(None::<u8>);
    let target = Memo::new(move |_| -> Option<Target> {
        if let Some((pixels, source)) = custom.get() {
            return Some(Target {
                pixels,
                label: custom_label.get().unwrap_or_default(),
                source,
                class_from: None,
            });
        }
        let samples = samples.get()?.ok()??;
        let (pixels, label) = samples.image(index.get())?;
        Some(Target {
            pixels,
            label,
            source: format!("test image {} of {}", index.get(), samples.set.title),
            class_from: None,
        })
    });
    let read_class =
        Memo::new(move |_| custom.with(Option::is_some) && custom_label.get().is_none());

    // The image as attacked (its class read by the first model where unset), and what each
    // model did with it.
    let outcomes = LocalResource::new(move || {
        let (models, target, request_now, choice, read_class) = (
            chosen_models.get(),
            target.get(),
            request.get(),
            choice.get(),
            read_class.get(),
        );
        async move {
            let Some(mut target) = target else {
                return (None, Vec::new());
            };
            if let (true, Some(reader)) = (read_class, models.first()) {
                match clean_answer(reader, &target.pixels, choice).await {
                    Ok(class) => {
                        target.label = class;
                        target.class_from = Some(title(reader));
                    }
                    Err(e) => return (None, vec![Err(format!("{}: {e}", title(reader)))]),
                }
            }
            let mut found = Vec::new();
            for model in models {
                // A newer request (a dragged slider) makes this one's answer unwanted: stop
                // asking the engine for it, so that its work does not queue up.
                if request.get_untracked() != request_now {
                    return (None, Vec::new());
                }
                let id = title(&model);
                found.push(
                    attack_with(model, target.clone(), request_now.clone(), choice)
                        .await
                        .map_err(|e| format!("{id}: {e}")),
                );
            }
            (Some(target), found)
        }
    });

    let class_names = Memo::new(move |_| -> Vec<String> {
        match manifest.get() {
            Some(Ok(m)) => m
                .samples_of(&dataset.get())
                .map(|s| s.class_names.clone())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    });

    let field = {
        let set_params = set_params.clone();
        move |name: &'static str| {
            let set_params = set_params.clone();
            move |event: leptos::ev::Event| set_params(&[(name, event_target_value(&event))])
        }
    };
    let pick_sample = {
        let set_params = set_params.clone();
        move |i: usize| {
            custom.set(None);
            set_params(&[("i", i.to_string())]);
        }
    };
    let change_backend = {
        let set_params = set_params.clone();
        move |event: leptos::ev::Event| {
            set_params(&[("backend", event_target_value(&event))]);
            // A page opens its WebGPU device once: a new backend needs a new page.
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        }
    };
    let on_image = Callback::new(move |(pixels, source): (Vec<f32>, String)| {
        custom_label.set(None);
        custom.set(Some((pixels, source)));
    });

    let backend_badge = move || match engine.get() {
        None => view! { <EngineStarting/> }.into_any(),
        Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        Some(Ok(report)) => {
            let kind = match report.kind {
                astute_engine_api::BackendKind::Webgpu => "WebGPU",
                astute_engine_api::BackendKind::Cpu => "CPU",
            };
            view! {
                <p class="backend" data-backend=kind.to_lowercase()>
                    "Running in this browser on " <strong>{kind}</strong> ": " {report.detail.clone()}
                    {report.note.clone().map(|n| view! { <span class="note">" (" {n} ")"</span> })}
                </p>
            }
            .into_any()
        }
    };

    let model_options = move |selected: Option<String>, allow_none: bool| {
        let entries = entries.get();
        let none = allow_none.then(|| view! { <option value="none" selected=selected.as_deref() == Some("none")>"none"</option> });
        let options = entries
            .into_iter()
            .map(|e| {
                let is = selected.as_deref() == Some(e.id.as_str());
                view! { <option value=e.id.clone() selected=is>{title(&e)}</option> }
            })
            .collect_view();
        view! { {none}{options} }
    };

    // The controls are built once, their values and states bound to the request, so that a
    // slider keeps its drag and a field its focus while the attack recomputes.
    let kind = Memo::new(move |_| request.with(|r| r.kind));
    let live = {
        let set_params = set_params.clone();
        move |name: &'static str| {
            let set_params = set_params.clone();
            throttled(LIVE_INTERVAL, move |value: String| {
                set_params(&[(name, value)])
            })
        }
    };
    // The ε under the hand while the slider is dragged, ahead of the throttled URL.
    let dragged_epsilon = RwSignal::new(None::<f32>);
    Effect::new(move || {
        let applied = epsilon.get();
        if dragged_epsilon.get_untracked() == Some(applied) {
            dragged_epsilon.set(None);
        }
    });
    let shown_epsilon = move || dragged_epsilon.get().unwrap_or_else(|| epsilon.get());
    let on_epsilon = {
        let apply = live("eps");
        move |event: leptos::ev::Event| {
            let value = event_target_value(&event);
            dragged_epsilon.set(value.parse().ok());
            apply(value);
        }
    };
    let on_steps = {
        let apply = live("steps");
        move |event: leptos::ev::Event| apply(event_target_value(&event))
    };
    let selected_models = move || {
        let models = chosen_models.get();
        let a = models.first().map(|m| m.id.clone());
        let b = if model_b.get().as_deref() == Some("none") {
            Some("none".to_string())
        } else {
            models.get(1).map(|m| m.id.clone())
        };
        (a, b)
    };
    let targets = move || {
        let target = request.with(|r| r.target);
        class_names
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, n)| view! { <option value=i.to_string() selected=target == Some(i)>{format!("{i}: {n}")}</option> })
            .collect_view()
    };
    let is = move |k: AttackKind| move || kind.get() == k;
    let seeded = move || kind.get() == AttackKind::Pgd || kind.get().adaptive();
    let controls = view! {
        <fieldset class="controls">
            <legend>"Attack"</legend>
            <label>"Dataset "
                <select on:change=field("d") prop:value=move || dataset.get()>
                    <option value="mnist-sample">"MNIST (sample)"</option>
                    <option value="fashion-mnist">"Fashion-MNIST"</option>
                </select>
            </label>
            <label>"Model "<select on:change=field("m")>{move || model_options(selected_models().0, false)}</select></label>
            <label>"Compare with "<select on:change=field("vs")>{move || model_options(selected_models().1, true)}</select></label>
            <label>"Attack "
                <select on:change=field("attack")>
                    <option value="pgd" selected=is(AttackKind::Pgd)>"PGD"</option>
                    <option value="fgsm" selected=is(AttackKind::Fgsm)>"FGSM"</option>
                    <option value="multi-targeted" selected=is(AttackKind::MultiTargeted)>"Multi-targeted"</option>
                    <option value="apgd-ce" selected=is(AttackKind::ApgdCe)>"APGD-CE"</option>
                    <option value="apgd-t" selected=is(AttackKind::ApgdT)>"APGD-T"</option>
                </select>
            </label>
            <label>"Goal "
                <select on:change=field("target") disabled=move || matches!(kind.get(), AttackKind::MultiTargeted | AttackKind::ApgdCe)>
                    <option value="" selected=move || request.with(|r| r.target.is_none())>{move || if kind.get() == AttackKind::ApgdT {
                        "each class ranked 2nd–10th in turn"
                    } else {
                        "any wrong class"
                    }}</option>
                    {targets}
                </select>
            </label>
            <label class="wide"><span class="epsilon-value">{move || format!("ε = {:.3}", shown_epsilon())}</span>" "
                <input type="range" min="0" max="0.3" step="0.005" prop:value=move || shown_epsilon().to_string()
                    on:input=on_epsilon aria-label="ε, the ℓ∞ budget"/>
            </label>
            <label>"Steps "<input type="number" min="1" max="1000" prop:value=move || request.with(|r| r.steps.to_string())
                on:input=on_steps disabled=is(AttackKind::Fgsm)/></label>
            <label>"Step size "<input type="number" min="0" max="1" step="0.001" prop:value=move || request.with(|r| format!("{:.4}", r.step_size))
                on:change=field("step") disabled=move || kind.get() == AttackKind::Fgsm || kind.get().adaptive()
                title=move || if kind.get().adaptive() { "APGD starts at 2ε and halves it itself" } else { "" }/></label>
            <label>"Restarts "<input type="number" min="1" max="20" prop:value=move || request.with(|r| r.restarts.to_string())
                on:change=field("restarts") disabled=move || !seeded()/></label>
            <label>"Seed "<input type="number" min="0" prop:value=move || request.with(|r| r.seed.to_string())
                on:change=field("seed") disabled=move || !seeded()/></label>
            <label>"Engine "
                <select on:change=change_backend.clone()>
                    <option value="auto" selected=move || choice.get() == BackendChoice::Auto>"automatic"</option>
                    <option value="webgpu" selected=move || choice.get() == BackendChoice::Webgpu>"WebGPU"</option>
                    <option value="cpu" selected=move || choice.get() == BackendChoice::Cpu>"CPU (WebAssembly)"</option>
                </select>
            </label>
        </fieldset>
    };

    let gallery = move || match samples.get() {
        None => {
            view! { <p class="loading" role="status">"Loading the sample images…"</p> }.into_any()
        }
        Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        Some(Ok(None)) => view! { <p>"No samples ship for this dataset."</p> }.into_any(),
        Some(Ok(Some(samples))) => {
            let side = samples.set.shape[2] as u32;
            let current = index.get();
            let pick_sample = pick_sample.clone();
            let thumbs = (0..samples.set.count.min(24))
                .filter_map(|i| samples.image(i).map(|(pixels, label)| (i, pixels, label)))
                .map(|(i, pixels, label)| {
                    let pick_sample = pick_sample.clone();
                    let name = samples.set.class_names.get(usize::from(label)).cloned().unwrap_or_default();
                    view! {
                        <button class="thumb" aria-pressed=(i == current && custom.get().is_none()).to_string()
                            title=format!("test image {i}: {name}") on:click=move |_| pick_sample(i)>
                            <Picture values=Signal::stored(pixels) width=side palette=Palette::Grey caption=format!("{i}")/>
                        </button>
                    }
                })
                .collect_view();
            view! { <div class="thumbs" role="group" aria-label="Sample test images">{thumbs}</div> }.into_any()
        }
    };

    let results = move || match outcomes.get() {
        None => view! { <p class="loading" role="status">"Attacking…"</p> }.into_any(),
        Some((target, found)) => {
            let names = class_names.get();
            found
                .into_iter()
                .map(|o| match (o, target.clone()) {
                    (Ok(o), Some(t)) => {
                        view! { <OutcomeView outcome=o target=t names=names.clone()/> }.into_any()
                    }
                    (Err(e), _) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    (Ok(_), None) => ().into_any(),
                })
                .collect_view()
                .into_any()
        }
    };

    let custom_controls = move || {
        custom.get().map(|(_, source)| {
            let names = class_names.get();
            // The class the first model read, once it has.
            let read = outcomes
                .get()
                .and_then(|(target, _)| target)
                .and_then(|t| Some((t.class_from?, t.label)));
            let as_read = match &read {
                Some((model, class)) => format!(
                    "as {model} reads it: {class}: {}",
                    names.get(usize::from(*class)).cloned().unwrap_or_default()
                ),
                None => "as the first model reads it".to_owned(),
            };
            let options = names
                .into_iter()
                .enumerate()
                .map(|(i, n)| view! { <option value=i.to_string() selected=custom_label.get() == Some(i as u8)>{format!("{i}: {n}")}</option> })
                .collect_view();
            view! {
                <p class="custom-class">"Attacking " {source} ". Its true class: "
                    <select aria-label="The true class of your image"
                        on:change=move |e| custom_label.set(event_target_value(&e).parse().ok())>
                        <option value="" selected=custom_label.get().is_none()>{as_read}</option>
                        {options}
                    </select>
                    " " <button class="link" on:click=move |_| custom.set(None)>"back to the samples"</button>
                </p>
            }
        })
    };

    view! {
        <h1>"Attack playground"</h1>
        <p class="lede">
            "Natural and adversarially trained networks, trained by Astute and running here in your
             browser. Push an image around inside an ℓ∞ ball of radius ε and see which network changes
             its mind. The paper's point: the robust ones can keep both their accuracy and their answer."
        </p>
        {backend_badge}
        {move || match run_model.get() {
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e}</p> }),
            _ => None,
        }}
        {controls}
        <section aria-labelledby="image-title">
            <h2 id="image-title">"The image"</h2>
            {gallery}
            {custom_controls}
            <details>
                <summary>"Draw a digit or upload an image"</summary>
                <Sketch on_image/>
            </details>
        </section>
        <section aria-labelledby="results-title">
            <h2 id="results-title">"What the attack did"</h2>
            <div class="outcomes">{results}</div>
        </section>
        <RobustCurve models=chosen_models samples choice/>
    }
}

/// One model's result: the three pictures, the probabilities, the numbers, the steps.
#[component]
fn OutcomeView(outcome: Outcome, target: Target, names: Vec<String>) -> impl IntoView {
    let Outcome {
        model,
        attack,
        lipschitz,
        lipschitz_ms,
    } = outcome;
    let label = usize::from(target.label);
    let side = (target.pixels.len() as f64).sqrt() as u32;
    let before = softmax(&attack.clean_logits);
    let after = softmax(&attack.adversarial_logits);
    let (p0, p1) = (
        prediction(&attack.clean_logits),
        prediction(&attack.adversarial_logits),
    );
    let name = move |c: usize| names.get(c).cloned().unwrap_or_else(|| c.to_string());
    let delta: Vec<f32> = attack
        .adversarial
        .iter()
        .zip(&target.pixels)
        .map(|(a, c)| a - c)
        .collect();
    let scale = attack.linf.max(1e-6);
    let bars = before
        .iter()
        .zip(&after)
        .enumerate()
        .map(|(c, (b, a))| {
            view! {
                <tr class:truth=c == label>
                    <th scope="row">{name(c)}</th>
                    <td><span class="bar before" style=format!("width:{:.1}%", b * 100.0)></span>{format!("{:.1}", b * 100.0)}</td>
                    <td><span class="bar after" style=format!("width:{:.1}%", a * 100.0)></span>{format!("{:.1}", a * 100.0)}</td>
                </tr>
            }
        })
        .collect_view();
    let kept = p1 == label;
    let verdict = if p0 != label {
        format!(
            "already wrong on the clean image, whose class is {}",
            name(label)
        )
    } else if kept {
        "kept its answer".to_owned()
    } else {
        "was fooled".to_owned()
    };
    let steps = attack.steps.clone();
    let count = steps.len();
    let (step, set_step) = signal(count);
    let step_name = name.clone();
    let trace_chart = steps
        .first()
        .is_some_and(|s| s.loss.is_some())
        .then(|| view! { <ApgdTrace steps=steps.clone() current=step/> });
    let aimed = attack
        .target
        .map(|t| format!("Targeted DLR toward {}; ", name(t)))
        .unwrap_or_default();
    let step_view = move || {
        let k = step.get();
        let s = steps.get(k.saturating_sub(1))?;
        let adaptive = s.loss.zip(s.step_size).map(|(loss, size)| view! {
            <dt>"Loss APGD ascends"</dt><dd class="apgd-loss">{format!("{loss:.3}")}</dd>
            <dt>"Step size"</dt><dd class="apgd-step">{format!("{size:.4}")}{s.halved.then_some(" (halved here)")}</dd>
        });
        Some(view! {
            <div class="step">
                <Picture values=Signal::stored(s.image.clone()) width=side palette=Palette::Grey caption=format!("step {k}")/>
                <dl>
                    {adaptive}
                    <dt>"Cross-entropy of the true class"</dt><dd>{format!("{:.3}", cross_entropy(&s.logits, label))}</dd>
                    <dt>"Margin (true class − best other logit)"</dt><dd>{format!("{:.3}", margin(&s.logits, label))}</dd>
                    <dt>"Prediction"</dt><dd>{step_name(prediction(&s.logits))}</dd>
                </dl>
            </div>
        })
    };
    view! {
        <article class="outcome" class:fooled=!kept data-model=model.id.clone() data-kept=kept.to_string()
            data-clean-right=(p0 == label).to_string()
            data-confidence-before=before[label].to_string() data-confidence-after=after[label].to_string()>
            <h3>{title(&model)}</h3>
            <p class="measured">{format!(
                "Trained by Astute: test accuracy {:.1} %, PGD-10 accuracy {:.1} % at ε = {}{}, Lipschitz {:.1}.",
                model.test_accuracy,
                model.test_adversarial_accuracy,
                model.epsilon,
                match (model.test_autoattack_accuracy, model.autoattack_images) {
                    (Some(accuracy), Some(images)) => {
                        format!(", AutoAttack {accuracy:.1} % on {images} test images")
                    }
                    _ => String::new(),
                },
                model.test_lipschitz
            )}</p>
            <div class="pictures">
                <Picture values=Signal::stored(target.pixels.clone()) width=side palette=Palette::Grey caption="original".into()/>
                <Picture values=Signal::stored(delta) width=side palette=Palette::Diverging { scale } caption=format!("perturbation (blue −{scale:.3} … red +{scale:.3})")/>
                <Picture values=Signal::stored(attack.adversarial.clone()) width=side palette=Palette::Grey caption="adversarial".into()/>
            </div>
            <p class="verdict">
                {format!("{} ({:.1} %) → {} ({:.1} %): {verdict}.", name(p0), before[p0] * 100.0, name(p1), after[p1] * 100.0)}
            </p>
            <dl class="numbers">
                <dt>"ℓ∞ of the perturbation"</dt><dd class="linf">{format!("{:.4}", attack.linf)}</dd>
                <dt>"Local Lipschitz estimate here"</dt><dd>{format!("{lipschitz:.2}")}</dd>
                <dt>"Time"</dt><dd class="timing">{format!("attack {:.0}\u{a0}ms, Lipschitz {:.0}\u{a0}ms", attack.milliseconds, lipschitz_ms)}</dd>
            </dl>
            <div class="table-wrap">
                <table class="probabilities">
                    <caption>"Class probabilities (%)"</caption>
                    <thead><tr><th scope="col">"Class"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                    <tbody>{bars}</tbody>
                </table>
            </div>
            {(count > 0).then(|| view! {
                <div class="scrubber">
                    {trace_chart}
                    <label>{format!("{aimed}step through the attack (1–{count}) ")}
                        <input type="range" min="1" max=count.to_string() prop:value=move || step.get().to_string()
                            on:input=move |e| set_step.set(event_target_value(&e).parse().unwrap_or(1))/>
                    </label>
                    {step_view}
                </div>
            })}
        </article>
    }
}

/// Robust accuracy against ε for the chosen models on the first sample images, on request.
#[component]
fn RobustCurve(
    models: Memo<Vec<ModelEntry>>,
    samples: LocalResource<Result<Option<Samples>, String>>,
    choice: Memo<BackendChoice>,
) -> impl IntoView {
    let (asked, set_asked) = signal(0u32);
    let progress = RwSignal::new(String::new());
    let computing = RwSignal::new(false);
    let size_param = query_param("n");
    let attack_param = query_param("curve");
    let attack = Memo::new(move |_| {
        attack_param
            .get()
            .and_then(|a| CurveAttack::parse(&a))
            .unwrap_or_default()
    });
    let size =
        Memo::new(move |_| parse_or(size_param.get(), CURVE_SIZES[0]).clamp(1, CURVE_SIZES[3]));
    let set_params = set_query_params();
    let set_attack = set_params.clone();
    let curves = LocalResource::new(move || {
        let run = asked.get() > 0;
        let size = size.get_untracked();
        let attack = attack.get_untracked();
        let models = models.get_untracked();
        let samples = samples.get_untracked();
        let choice = choice.get_untracked();
        async move {
            if !run {
                return Ok((0, attack, Vec::new()));
            }
            computing.set(true);
            let computed = compute_curves(models, samples, size, attack, choice, progress).await;
            computing.set(false);
            computed
        }
    });
    let view_curves = move || {
        if computing.get() {
            return view! {
                <p class="loading" role="status">"Attacking every image at every ε: " {move || progress.get()}
                    " "<button class="cancel" on:click=move |_| engine::cancel()>"Cancel"</button>
                </p>
            }
            .into_any();
        }
        match curves.get() {
            None => ().into_any(),
            Some(Err(e)) if e == engine::CANCELLED => view! {
                <p class="cancelled" role="status">
                    {format!("Cancelled at {}", progress.get_untracked().trim_end_matches('…'))}
                    ". The engine stopped at once; “Compute the curve” starts again."
                </p>
            }
            .into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Some(Ok((_, _, lines))) if lines.is_empty() => ().into_any(),
            Some(Ok((n, attack, lines))) => {
                let warnings = lines
                    .iter()
                    .flat_map(|(label, points): &(String, Vec<CurvePoint>)| {
                        curve_warnings(points).into_iter().map(move |w| {
                        view! {
                            <li class="masking-flag" data-check=w.check>
                                <strong>{format!("{label}: {}", w.check)}</strong>" — "{w.evidence}
                            </li>
                        }
                    })
                    })
                    .collect::<Vec<_>>();
                let warnings = (!warnings.is_empty()).then(|| view! {
                <div class="masking" role="note">
                    <p>"Signs of gradient masking (the robustness may be the attack's failure, not the model's):"</p>
                    <ul>{warnings}</ul>
                </div>
            });
                let rows = EPSILONS
                .iter()
                .enumerate()
                .map(|(k, e)| {
                    let cells = lines
                        .iter()
                        .map(|(_, points): &(String, Vec<CurvePoint>)| {
                            view! { <td>{format!("{:.0} %", points[k].accuracy)}<small>{format!(" {:.0} ms", points[k].milliseconds)}</small></td> }
                        })
                        .collect_view();
                    view! { <tr><th scope="row">{format!("{e}")}</th>{cells}</tr> }
                })
                .collect_view();
                let heads = lines
                    .iter()
                    .map(|(l, _)| view! { <th scope="col">{l.clone()}</th> })
                    .collect_view();
                let classes = ["line-a", "line-b"];
                let chart = lines
                    .iter()
                    .zip(classes)
                    .map(|((l, p), c)| (l.clone(), p.clone(), c))
                    .collect();
                view! {
                <CurveChart lines=chart/>
                {warnings}
                <div class="table-wrap">
                    <table class="curve-table">
                        <caption>{format!("Accuracy under {} (seed 0) on the first {n} sample images", attack.label())}</caption>
                        <thead><tr><th scope="col">"ε"</th>{heads}</tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
            .into_any()
            }
        }
    };
    view! {
        <section aria-labelledby="curve-title">
            <h2 id="curve-title">"Robust accuracy against ε"</h2>
            <p>"The same attack on many images at once, computed here: where the natural model's curve
                falls off and the robust one's stays up is the paper's trade-off, measured. PGD-10 is
                the paper's attack; AutoAttack-lite (APGD-CE, then APGD-T on the points still robust) is
                the stronger one the field reports, and gives the same numbers as "<code>"astute eval --attack apgd"</code>
                " with the same seed. ε = 0.5 checks the curve itself: there every image can be turned grey."</p>
            <div class="toolbar">
                <label>"Images "
                    <select on:change=move |e| set_params(&[("n", event_target_value(&e))])>
                        {CURVE_SIZES.map(|n| view! { <option value=n.to_string() selected=move || size.get() == n>{n}</option> })}
                    </select>
                </label>
                <label>"Attack "
                    <select on:change=move |e| set_attack(&[("curve", event_target_value(&e))])>
                        {CurveAttack::ALL.map(|a| view! { <option value=a.name() selected=move || attack.get() == a>{a.label()}</option> })}
                    </select>
                </label>
                <button on:click=move |_| set_asked.update(|n| *n += 1)>"Compute the curve"</button>
            </div>
            {view_curves}
        </section>
    }
}

/// The robust-accuracy curve of each of `models` on the first `size` sample images, one ε
/// at a time, with how far it has come written to `progress`.
async fn compute_curves(
    models: Vec<ModelEntry>,
    samples: Option<Result<Option<Samples>, String>>,
    size: usize,
    attack: CurveAttack,
    choice: BackendChoice,
    progress: RwSignal<String>,
) -> Result<(usize, CurveAttack, Vec<(String, Vec<CurvePoint>)>), String> {
    let samples = samples
        .and_then(|s| s.ok())
        .flatten()
        .ok_or("the samples are not loaded yet")?;
    let n = samples.set.count.min(size);
    let pixels: Vec<f32> = samples.pixels[..n * samples.per_image()]
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    let engine = Engine::get(choice).await?;
    let mut lines = Vec::new();
    for model in models {
        let handle = engine.model(&model.id, &weights_url(&model)).await?;
        // One ε at a time, so the page can say how far the curve has come.
        let mut points = Vec::new();
        for (k, epsilon) in EPSILONS.into_iter().enumerate() {
            progress.set(format!(
                "{}, ε = {epsilon} ({} of {} radii, {n} images)…",
                title(&model),
                k + 1,
                EPSILONS.len()
            ));
            points.extend(
                engine
                    .curve(handle, &pixels, &samples.labels[..n], &[epsilon], attack, 0)
                    .await?,
            );
        }
        lines.push((title(&model), points));
    }
    Ok((n, attack, lines))
}
