//! The theory page (Figures 4 and 5): the spiral with its separation r, Theorem 4.4's
//! function f and the distance classifier g = sign(f), and an MLP trained live in the
//! browser with Natural or TRADES(β) beside it. Every setting lives in the URL
//! (`?method= beta= eps= lr= layers= width= turns= band= n= seed= balls=`), and so does
//! the step reached when training pauses (`step=`): a link replays the same run.

mod loss;
mod plane;

use astute_engine_api::{
    TheoryConfig, TheoryData, TheoryMethod, TheoryScores, TheorySnapshot, TrainProgress,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use self::loss::LossChart;
use self::plane::{Dot, Plane, PlaneView, Stroke, zero_line};
use super::{parse_or, query_param, set_query_params};
use crate::components::EngineDownload;
use crate::engine::{Theory, yield_to_browser};

/// Training per frame while playing: steps are batched to fill about this many
/// milliseconds, so the page repaints often on any machine.
const FRAME_MS: f64 = 50.0;
/// Replaying a link may hold the page a little longer per frame.
const REPLAY_FRAME_MS: f64 = 200.0;
/// The most steps a link may ask to replay (TRADES takes about 10 ms a step).
const MAX_REPLAY: usize = 20_000;
/// While playing, the scores (an attack and Eq. (3) on every test point) are refreshed
/// at most this often.
const LOOK_EVERY_MS: f64 = 400.0;

/// The run's live state; every field is a handle, so the struct is `Copy` and moves
/// freely into event handlers and tasks. Tasks outlive the page when the visitor leaves
/// it, so they read through `try_` accessors and stop once the page's state is gone.
#[derive(Clone, Copy)]
struct Live {
    data: RwSignal<Option<TheoryData>>,
    snapshot: RwSignal<Option<TheorySnapshot>>,
    losses: RwSignal<Vec<f32>>,
    step: RwSignal<usize>,
    ms_per_step: RwSignal<Option<f64>>,
    playing: RwSignal<bool>,
    status: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    theory: StoredValue<Option<Theory>, LocalStorage>,
    /// Bumped by every new run (a changed setting, a reset): older tasks see it and stop.
    generation: StoredValue<u64>,
    /// Bumped by every press of play, so a quick pause and play never runs two loops.
    loop_id: StoredValue<u64>,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Steps for the next call so that it takes about `budget_ms`, from the last call's speed.
fn steps_for(budget_ms: f64, ms_per_step: f64) -> usize {
    (budget_ms / ms_per_step.max(0.01)).clamp(1.0, 1000.0) as usize
}

impl Live {
    fn new() -> Self {
        Self {
            data: RwSignal::new(None),
            snapshot: RwSignal::new(None),
            losses: RwSignal::new(Vec::new()),
            step: RwSignal::new(0),
            ms_per_step: RwSignal::new(None),
            playing: RwSignal::new(false),
            status: RwSignal::new(None),
            error: RwSignal::new(None),
            theory: StoredValue::new_local(None),
            generation: StoredValue::new(0),
            loop_id: StoredValue::new(0),
        }
    }

    /// Whether `generation` is still the page's run (false once the page is gone).
    fn current(&self, generation: u64) -> bool {
        self.generation.try_get_value() == Some(generation)
    }

    /// The run's engine object, while `generation` is still the current run.
    fn theory(&self, generation: u64) -> Option<Theory> {
        self.current(generation)
            .then(|| self.theory.try_get_value().flatten())
            .flatten()
    }

    fn fail(&self, generation: u64, error: String) {
        if self.current(generation) {
            self.playing.set(false);
            self.status.set(None);
            self.error.set(Some(error));
        }
    }

    /// Adds a call's steps to the page, unless the run has changed meanwhile.
    fn record(&self, generation: u64, progress: TrainProgress) -> Option<f64> {
        if !self.current(generation) {
            return None;
        }
        let per_step = progress.milliseconds / progress.losses.len().max(1) as f64;
        self.ms_per_step.set(Some(per_step));
        self.step.set(progress.step);
        self.losses.update(|l| l.extend(progress.losses));
        Some(per_step)
    }

    /// A new run of `config`, replaying `replay` steps (a shared link's progress).
    async fn start(self, config: TheoryConfig, replay: usize) {
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        self.theory.set_value(None);
        self.data.set(None);
        self.playing.set(false);
        self.snapshot.set(None);
        self.losses.set(Vec::new());
        self.step.set(0);
        self.ms_per_step.set(None);
        self.error.set(None);
        if replay > MAX_REPLAY {
            return self.fail(
                generation,
                format!("this link asks for {replay} steps; a link replays at most {MAX_REPLAY}"),
            );
        }
        self.status.set(Some(
            "Starting the engine and generating the spiral…".into(),
        ));
        // Let the status paint before the spiral's exact search.
        yield_to_browser().await;
        let started = Theory::start(&config).await;
        if !self.current(generation) {
            return;
        }
        match started {
            Ok((theory, data)) => {
                self.theory.set_value(Some(theory));
                self.data.set(Some(data));
            }
            Err(e) => return self.fail(generation, e),
        }
        let mut left = replay;
        let mut chunk = 1;
        while left > 0 {
            let _ = self.status.try_set(Some(format!(
                "Replaying the link's {replay} steps: {} to go…",
                left
            )));
            let Some(theory) = self.theory(generation) else {
                return;
            };
            let progress = theory.train(chunk.min(left)).await;
            match progress {
                Ok(progress) => {
                    left -= progress.losses.len();
                    let Some(per_step) = self.record(generation, progress) else {
                        return;
                    };
                    chunk = steps_for(REPLAY_FRAME_MS, per_step);
                }
                Err(e) => return self.fail(generation, e),
            }
            yield_to_browser().await;
        }
        self.look(generation).await;
        if self.current(generation) {
            self.status.set(None);
        }
    }

    /// Measures the network as it stands.
    async fn look(self, generation: u64) {
        let Some(theory) = self.theory(generation) else {
            return;
        };
        match theory.snapshot().await {
            Ok(s) if self.current(generation) => self.snapshot.set(Some(s)),
            Ok(_) => {}
            Err(e) => self.fail(generation, e),
        }
    }

    /// Trains until paused, in frames of about [`FRAME_MS`]; whether it stopped at a pause
    /// with the run still the page's (the step it reached is then final: a call in flight
    /// when the visitor paused has landed).
    async fn play(self) -> bool {
        let generation = self.generation.get_value();
        if self.theory(generation).is_none() {
            return false;
        }
        let id = self.loop_id.get_value() + 1;
        self.loop_id.set_value(id);
        self.playing.set(true);
        let mut chunk = 1usize;
        let mut looked = now_ms();
        while self.playing.try_get_untracked() == Some(true)
            && self.loop_id.try_get_value() == Some(id)
        {
            let Some(theory) = self.theory(generation) else {
                return false;
            };
            match theory.train(chunk).await {
                Ok(progress) => match self.record(generation, progress) {
                    Some(per_step) => chunk = steps_for(FRAME_MS, per_step),
                    None => return false,
                },
                Err(e) => {
                    self.fail(generation, e);
                    return false;
                }
            }
            if now_ms() - looked > LOOK_EVERY_MS {
                self.look(generation).await;
                looked = now_ms();
            }
            yield_to_browser().await;
        }
        if self.loop_id.try_get_value() != Some(id) {
            return false;
        }
        self.look(generation).await;
        self.current(generation)
    }

    /// One Adam step on the full training set (one epoch); whether the run is still the
    /// page's afterwards (the visitor may have left meanwhile).
    async fn single_step(self) -> bool {
        let generation = self.generation.get_value();
        let Some(theory) = self.theory(generation) else {
            return false;
        };
        match theory.train(1).await {
            Ok(progress) => {
                self.record(generation, progress);
            }
            Err(e) => {
                self.fail(generation, e);
                return false;
            }
        }
        self.look(generation).await;
        self.current(generation)
    }
}

const LEARNING_RATES: [f64; 5] = [0.001, 0.003, 0.005, 0.01, 0.03];
const WIDTHS: [usize; 5] = [8, 16, 32, 64, 128];
const TURNS: [f64; 5] = [0.75, 1.0, 1.5, 2.0, 2.5];
const BANDS: [f64; 4] = [0.2, 0.4, 0.6, 0.8];
const POINTS: [usize; 4] = [50, 100, 200, 400];

/// A `<select>`'s options over `values`, the one equal to `current` selected; a valid
/// value from a link that is not in the list joins it, so the control shows the run.
fn options<T: PartialEq + std::fmt::Display + Copy>(values: &[T], current: T) -> impl IntoView {
    let mut values = values.to_vec();
    if !values.contains(&current) {
        values.push(current);
    }
    values
        .into_iter()
        .map(|v| view! { <option value=v.to_string() selected=v == current>{v.to_string()}</option> })
        .collect_view()
}

fn percent(value: f64) -> String {
    format!("{value:.1} %")
}

#[component]
fn ScoresTable(
    mlp: Option<(usize, TheoryScores)>,
    distance: TheoryScores,
    epsilon: f32,
    training_separation: f32,
) -> impl IntoView {
    // The name stays on one line, its detail on a small second one, so the column keeps
    // to the width of its longest name on a phone.
    let row = |name: &'static str,
               detail: String,
               attack: &'static str,
               s: Option<TheoryScores>| {
        let cell = |f: fn(&TheoryScores) -> String| {
            view! { <td class="num">{s.as_ref().map(f).unwrap_or_else(|| "…".into())}</td> }
        };
        // Full precision for scripts (a replayed link must match to the last digit).
        let exact = s.map(|s| serde_json::to_string(&s).unwrap_or_default());
        view! {
            <tr data-scores=exact>
                <th scope="row">{name}<span class="detail">{detail}</span></th>
                {cell(|s| percent(s.train_accuracy))}
                {cell(|s| percent(s.test_accuracy))}
                <td class="num">{s.map(|s| percent(s.adversarial_accuracy)).unwrap_or_else(|| "…".into())}
                    <span class="hint">" " {attack}</span></td>
                {cell(|s| format!("{:.1}", s.lipschitz))}
            </tr>
        }
    };
    let mlp_detail = match mlp {
        Some((step, _)) => format!("after {step} steps"),
        None => String::new(),
    };
    view! {
        <div class="table-wrap">
            <table class="scores">
                <caption>{format!("On the spiral's test points, at ε = {epsilon}")}</caption>
                <thead><tr>
                    <th scope="col">"Classifier"</th>
                    <th scope="col">"Train accuracy"</th>
                    <th scope="col">"Test accuracy"</th>
                    <th scope="col">"Adversarial accuracy"</th>
                    <th scope="col">"Local Lipschitz (Eq. 3)"</th>
                </tr></thead>
                <tbody>
                    {row("MLP", mlp_detail, "(PGD-10)", mlp.map(|m| m.1))}
                    {row("Distance classifier g", "Theorem 4.2".into(), "(certified)", Some(distance))}
                </tbody>
            </table>
        </div>
        <p class="hint">
            {format!(
                "The distance classifier's scores are dist(x, Xᵢ)/r (r of its training points, {:.4}), so its \
                 Eq. (3) is at most 2/r = {:.1}; the MLP's is measured on its logits, in the same units per unit of input.",
                training_separation,
                2.0 / training_separation
            )}
        </p>
    }
}

/// How the restart note names the setting of URL parameter `name`.
fn setting_name(name: &str) -> &str {
    match name {
        "lr" => "learning rate",
        "layers" => "number of hidden layers",
        "width" => "units per layer",
        "eps" => "ε",
        "beta" => "β",
        "turns" => "spiral's turns",
        "band" => "arms' width",
        "n" => "points per class",
        other => other,
    }
}

#[component]
pub fn TheoryPage() -> impl IntoView {
    super::page_title(|| "Theory".into());
    let [
        n_p,
        turns_p,
        band_p,
        seed_p,
        layers_p,
        width_p,
        method_p,
        beta_p,
        eps_p,
        lr_p,
    ] = [
        "n", "turns", "band", "seed", "layers", "width", "method", "beta", "eps", "lr",
    ]
    .map(query_param);
    let (step_p, balls_p) = (query_param("step"), query_param("balls"));
    let config = Memo::new(move |_| {
        let d = TheoryConfig::default();
        TheoryConfig {
            points_per_class: parse_or(n_p.get(), d.points_per_class),
            turns: parse_or(turns_p.get(), d.turns),
            band: parse_or(band_p.get(), d.band),
            seed: parse_or(seed_p.get(), d.seed),
            layers: parse_or(layers_p.get(), d.layers),
            width: parse_or(width_p.get(), d.width),
            method: match method_p.get().as_deref() {
                Some("trades") => TheoryMethod::Trades {
                    beta: parse_or(beta_p.get(), 6.0),
                },
                _ => TheoryMethod::Natural,
            },
            epsilon: parse_or(eps_p.get(), d.epsilon),
            learning_rate: parse_or(lr_p.get(), d.learning_rate),
            resolution: d.resolution,
        }
    });
    let show_balls = Memo::new(move |_| balls_p.get().as_deref() != Some("0"));
    let live = Live::new();
    let set_params = set_query_params();

    Effect::new(move |_| {
        let config = config.get();
        let replay = parse_or(step_p.get_untracked(), 0usize);
        spawn_local(live.start(config, replay));
    });

    // Writing the step into the URL once a pause has landed makes the link replay this
    // network.
    let keep_step = {
        let set_params = set_params.clone();
        move || set_params(&[("step", live.step.get_untracked().to_string())])
    };
    // A changed setting makes a new network: said, so trained steps do not vanish unnoticed.
    let (restarted, set_restarted) = signal(None::<String>);
    let field = {
        let set_params = set_params.clone();
        move |name: &'static str| {
            let set_params = set_params.clone();
            move |event: leptos::ev::Event| {
                let steps = live.step.get_untracked();
                set_restarted.set((steps > 0).then(|| {
                    format!(
                        "Changing the {} started a new network from step 0; the previous one had trained {steps} steps.",
                        setting_name(name)
                    )
                }));
                set_params(&[(name, event_target_value(&event)), ("step", String::new())])
            }
        }
    };
    let toggle_play = {
        let keep_step = keep_step.clone();
        move |_| {
            set_restarted.set(None);
            if live.playing.get_untracked() {
                live.playing.set(false);
            } else {
                let keep_step = keep_step.clone();
                spawn_local(async move {
                    if live.play().await {
                        keep_step();
                    }
                });
            }
        }
    };
    let step_once = {
        let keep_step = keep_step.clone();
        move |_| {
            let keep_step = keep_step.clone();
            spawn_local(async move {
                if live.single_step().await {
                    keep_step();
                }
            })
        }
    };
    let reset = {
        let set_params = set_params.clone();
        move |_| {
            set_params(&[("step", String::new())]);
            spawn_local(live.start(config.get_untracked(), 0));
        }
    };
    let toggle_balls = {
        let set_params = set_params.clone();
        move |_| {
            set_params(&[(
                "balls",
                if show_balls.get_untracked() { "0" } else { "" }.into(),
            )])
        }
    };

    let controls = move || {
        let c = config.get();
        let (is_trades, beta) = match c.method {
            TheoryMethod::Trades { beta } => (true, beta),
            TheoryMethod::Natural => (false, 6.0),
        };
        let field = field.clone();
        view! {
            <fieldset class="controls">
                <legend>"Training and data"</legend>
                <label>"Method "
                    <select on:change=field("method")>
                        <option value="natural" selected=!is_trades>"Natural"</option>
                        <option value="trades" selected=is_trades>"TRADES(β)"</option>
                    </select>
                </label>
                <label>"β "<input type="number" min="0" max="100" step="0.5" prop:value=beta.to_string()
                    on:change=field("beta") disabled=!is_trades/></label>
                <label>"Learning rate (Adam) "<select on:change=field("lr")>{options(&LEARNING_RATES, c.learning_rate)}</select></label>
                <label>"Hidden layers "<select on:change=field("layers")>{options(&[1, 2, 3, 4, 5, 6], c.layers)}</select></label>
                <label>"Units per layer "<select on:change=field("width")>{options(&WIDTHS, c.width)}</select></label>
                <label class="wide">{format!("ε = {:.3} ", c.epsilon)}
                    <input type="range" min="0.005" max="0.1" step="0.005" prop:value=c.epsilon.to_string()
                        on:change=field("eps") aria-label="ε, the ℓ∞ radius of training, attack and Lipschitz estimate"/>
                </label>
                <label>"Spiral turns "<select on:change=field("turns")>{options(&TURNS, c.turns)}</select></label>
                <label>"Arm width (share of the gap) "<select on:change=field("band")>{options(&BANDS, c.band)}</select></label>
                <label>"Points per class "<select on:change=field("n")>{options(&POINTS, c.points_per_class)}</select></label>
                <label>"Seed "<input type="number" min="0" prop:value=c.seed.to_string() on:change=field("seed")/></label>
            </fieldset>
        }
    };

    let toolbar = move || {
        let playing = live.playing.get();
        let ready = live.data.with(Option::is_some) && live.status.with(Option::is_none);
        let speed = live
            .ms_per_step
            .get()
            .map(|ms| format!(" · {ms:.1} ms per step"))
            .unwrap_or_default();
        view! {
            <div class="toolbar trainer">
                <button class:active=playing on:click=toggle_play.clone() disabled=!ready
                    aria-label=if playing { "Pause training" } else { "Train" }>
                    {if playing { "❚❚ Pause" } else { "▶ Train" }}
                </button>
                <button on:click=step_once.clone() disabled=!ready || playing>"Step"</button>
                <button on:click=reset.clone()>"Reset"</button>
                <label class="check"><input type="checkbox" prop:checked=show_balls.get() on:change=toggle_balls.clone()/>"ε-balls"</label>
                <span class="progress" role="status" data-step=live.step.get()
                    data-ms-per-step=live.ms_per_step.get().map(|m| m.to_string()).unwrap_or_default()>
                    {format!("Step {}", live.step.get())}{speed}
                </span>
            </div>
            {restarted.get().map(|note| view! { <p class="hint restarted" role="status">{note}</p> })}
        }
    };

    // g's boundary, traced once per run.
    let g_line = Memo::new(move |_| {
        live.data
            .with(|d| d.as_ref().map(|d| zero_line(&d.theorem_f, &d.axis)))
            .unwrap_or_default()
    });
    let theorem_plane = Signal::derive(move || {
        let Some(d) = live.data.get() else {
            return Plane::default();
        };
        Plane {
            heat: d.theorem_f.iter().map(|v| v.clamp(-1.0, 1.0)).collect(),
            boundaries: vec![(g_line.get(), Stroke::DistanceClassifier)],
            dots: d
                .train_points
                .iter()
                .zip(&d.train_labels)
                .map(|(&at, &class)| Dot {
                    at,
                    class,
                    ringed: false,
                })
                .collect(),
            axis: d.axis,
            epsilon: show_balls.get().then(|| config.get().epsilon),
        }
    });
    let network_plane = Signal::derive(move || {
        let snapshot = live.snapshot.get();
        let signed: Vec<f32> = snapshot
            .as_ref()
            .map(|s| s.confidence.iter().map(|p| 2.0 * p - 1.0).collect())
            .unwrap_or_default();
        let (correct, robust) = snapshot.map(|s| (s.correct, s.robust)).unwrap_or_default();
        let epsilon = show_balls.get().then(|| config.get().epsilon);
        let g = g_line.get();
        // Borrowed, not copied: this reruns at every snapshot while training.
        live.data.with(|d| {
            let Some(d) = d else {
                return Plane::default();
            };
            let mut boundaries = vec![(g, Stroke::DistanceClassifier)];
            if signed.len() == d.theorem_f.len() {
                boundaries.push((zero_line(&signed, &d.axis), Stroke::Network));
            }
            Plane {
                dots: d
                    .test_points
                    .iter()
                    .zip(&d.test_labels)
                    .enumerate()
                    .map(|(k, (&at, &class))| Dot {
                        at,
                        class,
                        ringed: correct.get(k) == Some(&true) && robust.get(k) == Some(&false),
                    })
                    .collect(),
                heat: signed,
                boundaries,
                axis: d.axis.clone(),
                epsilon,
            }
        })
    });

    let regime = move || {
        live.data.get().map(|d| {
            let (epsilon, r) = (config.get().epsilon, d.separation);
            let verdict = if epsilon < r {
                "ε < r: Theorem 4.2 promises a classifier that is accurate and robust at once."
            } else {
                "ε ≥ r: the theorem promises nothing here, and no classifier can keep every ball."
            };
            view! {
                <p class="claim-link" data-separation=r.to_string()>
                    {format!("The classes are r-separated with r = {r:.4} (half the closest ℓ∞ distance between the arms); ")}
                    {verdict}
                    {format!(" Spiral and distance classifier computed in {:.0} ms.", d.milliseconds)}
                </p>
            }
        })
    };
    let scores = move || {
        let distance = live
            .data
            .with(|d| d.as_ref().map(|d| (d.distance, d.training_separation)));
        distance.map(|(distance, training_separation)| {
            let mlp = live.snapshot.get().map(|s| (s.step, s.scores));
            view! { <ScoresTable mlp distance epsilon=config.get().epsilon training_separation/> }
        })
    };

    view! {
        <h1>"Theory: an accurate and robust classifier exists"</h1>
        <p class="lede">
            "When the classes are r-separated, the paper proves (Theorems 4.2 and 4.4) that a classifier
             can be accurate and robust at every radius ε below r: it only has to be smooth near the data.
             Train a network here, naturally or with TRADES, and compare it with that classifier."
        </p>
        <p class="backend" data-backend="cpu">
            "Training runs in this browser on " <strong>"CPU"</strong> ": WebAssembly with SIMD, one thread "
            <span class="note">"(a network this small is faster there than on a GPU)"</span>
        </p>
        {controls}
        {toolbar}
        {move || live.status.get().map(|s| view! { <p class="loading" role="status">{s}</p> })}
        <EngineDownload/>
        {move || live.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {regime}
        <div class="planes">
            <figure>
                <PlaneView plane=theorem_plane label="Theorem 4.4's f on the spiral's square, its boundary and the training points".to_string()/>
                <figcaption>
                    <strong>"Figure 4: f = (dist(x, X−) − dist(x, X+)) / 2r"</strong>
                    " and its boundary g = sign(f) (orange), with the training points and their ε-balls
                     (squares: balls in ℓ∞). Dark where |f| ≥ 1, at least r from the boundary."
                </figcaption>
            </figure>
            <figure>
                <PlaneView plane=network_plane label="The MLP's confidence, its boundary and the test points".to_string()/>
                <figcaption>
                    <strong>"Figure 5: the MLP"</strong>
                    " — its probability of arm B and its boundary (black) beside g's (orange), with the
                     test points. Ringed: points the MLP gets right but PGD pushes across its boundary
                     within their ε-ball. A robust boundary keeps out of the balls."
                </figcaption>
            </figure>
        </div>
        {scores}
        <LossChart losses=live.losses/>
    }
}
