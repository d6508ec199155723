//! An APGD run step by step, as a chart: the loss it ascends, its step size (which halves at
//! checkpoints where the loss stopped rising), the halvings marked, and the step the
//! scrubber shows.

use astute_engine_api::AttackStep;
use leptos::prelude::*;

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 150.0;
const PAD: f64 = 30.0;

/// The loss (left axis) and the step size (right axis, relative to the first) of each
/// iterate; dashed lines where the step size halved; a dot at `current` (1-based).
#[component]
pub fn ApgdTrace(steps: Vec<AttackStep>, current: ReadSignal<usize>) -> impl IntoView {
    let count = steps.len().max(2);
    let losses: Vec<f64> = steps
        .iter()
        .map(|s| f64::from(s.loss.unwrap_or(0.0)))
        .collect();
    let sizes: Vec<f64> = steps
        .iter()
        .map(|s| f64::from(s.step_size.unwrap_or(0.0)))
        .collect();
    let (low, high) = losses
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let span = (high - low).max(1e-9);
    let first_size = sizes.first().copied().unwrap_or(1.0).max(1e-12);
    let x_of = move |k: usize| PAD + k as f64 / (count - 1) as f64 * (WIDTH - 2.0 * PAD);
    let loss_y = move |v: f64| HEIGHT - PAD - (v - low) / span * (HEIGHT - 2.0 * PAD);
    let size_y = move |v: f64| HEIGHT - PAD - (v / first_size) * (HEIGHT - 2.0 * PAD);
    let line = |values: &[f64], y: &dyn Fn(f64) -> f64| {
        values
            .iter()
            .enumerate()
            .map(|(k, &v)| format!("{:.1},{:.1}", x_of(k), y(v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let loss_line = line(&losses, &loss_y);
    let size_line = line(&sizes, &size_y);
    let halvings = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.halved)
        .map(|(k, _)| {
            view! {
                <line class="halving" x1=x_of(k) x2=x_of(k) y1=PAD y2=HEIGHT - PAD>
                    <title>{format!("step {}: the step size halves", k + 1)}</title>
                </line>
            }
        })
        .collect_view();
    let halved = steps.iter().filter(|s| s.halved).count();
    let marker = move || {
        let k = current
            .get()
            .saturating_sub(1)
            .min(losses.len().saturating_sub(1));
        losses
            .get(k)
            .map(|&v| view! { <circle class="current" cx=x_of(k) cy=loss_y(v) r="3"/> })
    };
    view! {
        <figure class="apgd-trace">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
                aria-label=format!("APGD's loss and step size over {} steps, {halved} halvings", steps.len())>
                <line class="grid" x1=PAD x2=WIDTH - PAD y1=HEIGHT - PAD y2=HEIGHT - PAD/>
                {halvings}
                <polyline class="loss" points=loss_line/>
                <polyline class="step-size" points=size_line/>
                {marker}
                <text x=PAD - 4.0 y=PAD text-anchor="end">{format!("{high:.2}")}</text>
                <text x=PAD - 4.0 y=HEIGHT - PAD text-anchor="end">{format!("{low:.2}")}</text>
                <text x=WIDTH / 2.0 y=HEIGHT - 6.0 text-anchor="middle">"step"</text>
            </svg>
            <figcaption>
                <span class="loss">"loss"</span>" · "<span class="step-size">"step size (from 2ε)"</span>
                " · "<span class="halving">{format!("{halved} halvings")}</span>
            </figcaption>
        </figure>
    }
}
