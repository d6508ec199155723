//! Robust accuracy against ε, computed live on the sample images, as a table and a chart.

use astute_engine_api::{CurvePoint, LARGE_RADIUS};
use leptos::prelude::*;

/// The radii of the curve: from clean to three times MNIST's ε, and 0.5, where every image
/// can be turned grey (accuracy there checks the attack).
pub const EPSILONS: [f32; 8] = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, LARGE_RADIUS];
/// How many sample images the curve may attack (`?n=`); the first is the default.
pub const CURVE_SIZES: [usize; 4] = [100, 20, 50, 300];

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 200.0;
const PAD: f64 = 34.0;

fn x_of(epsilon: f32) -> f64 {
    PAD + f64::from(epsilon) / f64::from(EPSILONS[EPSILONS.len() - 1]) * (WIDTH - 2.0 * PAD)
}

fn y_of(accuracy: f64) -> f64 {
    HEIGHT - PAD - accuracy / 100.0 * (HEIGHT - 2.0 * PAD)
}

/// One line per model: `(label, points, css class)`.
#[component]
pub fn CurveChart(lines: Vec<(String, Vec<CurvePoint>, &'static str)>) -> impl IntoView {
    let grid = [0.0, 25.0, 50.0, 75.0, 100.0]
        .map(|a| {
            view! {
                <line x1=PAD x2=WIDTH - PAD y1=y_of(a) y2=y_of(a) class="grid"/>
                <text x=PAD - 4.0 y=y_of(a) + 4.0 text-anchor="end">{format!("{a:.0}")}</text>
            }
        })
        .collect_view();
    let ticks = EPSILONS
        .map(|e| {
            view! { <text x=x_of(e) y=HEIGHT - PAD + 14.0 text-anchor="middle">{format!("{e}")}</text> }
        })
        .collect_view();
    let drawn = lines
        .iter()
        .map(|(label, points, class)| {
            let path = points
                .iter()
                .map(|p| format!("{:.1},{:.1}", x_of(p.epsilon), y_of(p.accuracy)))
                .collect::<Vec<_>>()
                .join(" ");
            view! { <polyline points=path class=*class><title>{label.clone()}</title></polyline> }
        })
        .collect_view();
    let legend = lines
        .iter()
        .map(|(label, _, class)| view! { <li class=*class>{label.clone()}</li> })
        .collect_view();
    view! {
        <figure class="curve">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
                aria-label="Robust accuracy (percent) against ε">
                {grid}{ticks}{drawn}
                <text x=WIDTH / 2.0 y=HEIGHT - 4.0 text-anchor="middle">"ε (ℓ∞)"</text>
            </svg>
            <figcaption><ul class="legend">{legend}</ul></figcaption>
        </figure>
    }
}
