//! The training loss against steps, as a small SVG line.

use leptos::prelude::*;

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 140.0;
const PAD: f64 = 30.0;
/// Points drawn at most: longer histories are thinned evenly.
const MAX_POINTS: usize = 400;

/// `(step, loss)` points of `losses` (step 1 first), at most [`MAX_POINTS`] of them, always
/// keeping the last.
pub fn thinned(losses: &[f32]) -> Vec<(usize, f32)> {
    // One place is kept for the last step.
    let stride = losses.len().div_ceil(MAX_POINTS - 1).max(1);
    let mut points: Vec<(usize, f32)> = losses
        .iter()
        .enumerate()
        .step_by(stride)
        .map(|(i, &l)| (i + 1, l))
        .collect();
    if let Some(&last) = losses.last()
        && points.last().map(|p| p.0) != Some(losses.len())
    {
        points.push((losses.len(), last));
    }
    points
}

#[component]
pub fn LossChart(#[prop(into)] losses: Signal<Vec<f32>>) -> impl IntoView {
    let drawing = move || {
        let (points, steps) = losses.with(|l| (thinned(l), l.len()));
        let top = points.iter().map(|p| p.1).fold(0.0f32, f32::max).max(1e-6);
        let span = steps.max(1) as f64;
        let x = |s: usize| PAD + s as f64 / span * (WIDTH - 2.0 * PAD);
        let y = |l: f32| HEIGHT - PAD - f64::from(l / top) * (HEIGHT - 2.0 * PAD);
        let line = points
            .iter()
            .map(|&(s, l)| format!("{:.1},{:.1}", x(s), y(l)))
            .collect::<Vec<_>>()
            .join(" ");
        view! {
            <line x1=PAD x2=WIDTH - PAD y1=y(0.0) y2=y(0.0) class="grid"/>
            <line x1=PAD x2=WIDTH - PAD y1=y(top) y2=y(top) class="grid"/>
            <text x=PAD - 4.0 y=y(0.0) + 4.0 text-anchor="end">"0"</text>
            <text x=PAD - 4.0 y=y(top) + 4.0 text-anchor="end">{format!("{top:.2}")}</text>
            <text x=WIDTH - PAD y=HEIGHT - PAD + 14.0 text-anchor="end">{format!("{steps} steps")}</text>
            <polyline points=line/>
        }
    };
    view! {
        <figure class="curve loss">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label="Training loss against steps">
                {drawing}
            </svg>
            <figcaption>"Training loss (full batch)"</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_histories_are_kept_and_long_ones_thinned_to_the_last_step() {
        assert_eq!(thinned(&[0.7, 0.5]), vec![(1, 0.7), (2, 0.5)]);
        assert!(thinned(&[]).is_empty());
        let long: Vec<f32> = (0..1001).map(|i| i as f32).collect();
        let points = thinned(&long);
        assert!(points.len() <= MAX_POINTS);
        assert_eq!(points[0], (1, 0.0));
        assert_eq!(*points.last().unwrap(), (1001, 1000.0));
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
