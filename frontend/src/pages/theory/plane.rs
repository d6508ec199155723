//! The theory page's picture of [0, 1]²: a classifier's score as a heat map, its decision
//! boundary (the score's zero line, traced by marching squares), the spiral's points and
//! their ℓ∞ balls, which are squares.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use crate::picture::{Palette, rgba};

/// The canvas's drawing size in pixels (CSS scales it to the page).
const SIZE: f64 = 480.0;
/// The two classes' colours: arm A (class 0, negative scores) and arm B (class 1).
const CLASS_COLOURS: [&str; 2] = ["#1f5fa8", "#b3261e"];

/// A line segment in data coordinates.
pub type Segment = [[f32; 2]; 2];

/// The zero line of `values` sampled on the grid `axis` × `axis` (row `j` at
/// y = `axis[j]`), by marching squares with linear interpolation along cell edges. A
/// saddle cell is resolved by its centre's sign.
pub fn zero_line(values: &[f32], axis: &[f32]) -> Vec<Segment> {
    let n = axis.len();
    let at = |i: usize, j: usize| values[j * n + i];
    let mut segments = Vec::new();
    for j in 0..n.saturating_sub(1) {
        for i in 0..n - 1 {
            // Corners counter-clockwise from the bottom left: (i, j), (i+1, j), (i+1, j+1), (i, j+1).
            let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
            let v = corners.map(|(a, b)| at(a, b));
            let p = corners.map(|(a, b)| [axis[a], axis[b]]);
            // Crossings on the edges bottom, right, top, left, in that order.
            let crossings: Vec<[f32; 2]> = (0..4)
                .filter_map(|e| {
                    let (a, b) = (e, (e + 1) % 4);
                    ((v[a] > 0.0) != (v[b] > 0.0)).then(|| {
                        let t = v[a] / (v[a] - v[b]);
                        [
                            p[a][0] + t * (p[b][0] - p[a][0]),
                            p[a][1] + t * (p[b][1] - p[a][1]),
                        ]
                    })
                })
                .collect();
            match crossings[..] {
                [a, b] => segments.push([a, b]),
                [bottom, right, top, left] => {
                    let centre = v.iter().sum::<f32>() / 4.0;
                    if (centre > 0.0) == (v[0] > 0.0) {
                        segments.extend([[bottom, right], [top, left]]);
                    } else {
                        segments.extend([[left, bottom], [right, top]]);
                    }
                }
                _ => {}
            }
        }
    }
    segments
}

/// Whose boundary a line is, which sets its colour: as in the paper's Figure 5, the
/// robust classifier's is orange and the network's black.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stroke {
    DistanceClassifier,
    Network,
}

/// Points of the spiral as drawn: position, class, and whether to ring it (a test point
/// classified correctly that the attack moved across the boundary).
#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    pub at: [f32; 2],
    pub class: u8,
    pub ringed: bool,
}

/// Everything one canvas shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plane {
    /// Scores in [−1, 1] on the grid (negative: arm A), row by row.
    pub heat: Vec<f32>,
    pub axis: Vec<f32>,
    pub boundaries: Vec<(Vec<Segment>, Stroke)>,
    pub dots: Vec<Dot>,
    /// Half the side of the squares drawn around the dots, when shown.
    pub epsilon: Option<f32>,
}

fn to_canvas(p: [f32; 2]) -> (f64, f64) {
    (f64::from(p[0]) * SIZE, (1.0 - f64::from(p[1])) * SIZE)
}

/// The heat map as an image one pixel per grid cell, rows flipped so y grows upwards,
/// and lightened so the points on top stay visible.
fn heat_image(heat: &[f32], side: usize) -> Vec<u8> {
    let flipped: Vec<f32> = (0..side)
        .rev()
        .flat_map(|j| heat[j * side..(j + 1) * side].iter().copied())
        .collect();
    rgba(&flipped, Palette::Diverging { scale: 1.0 })
        .chunks(4)
        .flat_map(|c| {
            let light = |x: u8| 255 - ((255 - x) as f32 * 0.55) as u8;
            [light(c[0]), light(c[1]), light(c[2]), 255]
        })
        .collect()
}

fn draw(canvas: &HtmlCanvasElement, plane: &Plane) -> Option<()> {
    canvas.set_width(SIZE as u32);
    canvas.set_height(SIZE as u32);
    let context: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    let side = plane.axis.len();
    if side >= 2 && plane.heat.len() == side * side {
        let document = web_sys::window()?.document()?;
        let cells: HtmlCanvasElement = document.create_element("canvas").ok()?.dyn_into().ok()?;
        cells.set_width(side as u32);
        cells.set_height(side as u32);
        let cells_context: CanvasRenderingContext2d =
            cells.get_context("2d").ok()??.dyn_into().ok()?;
        let pixels = heat_image(&plane.heat, side);
        let image =
            ImageData::new_with_u8_clamped_array_and_sh(Clamped(&pixels), side as u32, side as u32)
                .ok()?;
        cells_context.put_image_data(&image, 0.0, 0.0).ok()?;
        // Cell centres sit on the axis values: the image overhangs by half a cell.
        let cell = SIZE / (side - 1) as f64;
        context.set_image_smoothing_enabled(true);
        context
            .draw_image_with_html_canvas_element_and_dw_and_dh(
                &cells,
                -cell / 2.0,
                -cell / 2.0,
                SIZE + cell,
                SIZE + cell,
            )
            .ok()?;
    }
    if let Some(epsilon) = plane.epsilon {
        let half = f64::from(epsilon) * SIZE;
        context.set_stroke_style_str("rgba(28, 36, 48, 0.35)");
        context.set_line_width(1.0);
        for dot in &plane.dots {
            let (x, y) = to_canvas(dot.at);
            context.stroke_rect(x - half, y - half, 2.0 * half, 2.0 * half);
        }
    }
    // Round caps close the joints between the segments of one line.
    context.set_line_cap("round");
    for (segments, stroke) in &plane.boundaries {
        let (colour, width) = match stroke {
            Stroke::DistanceClassifier => ("#e07b00", 3.0),
            Stroke::Network => ("#1c2430", 2.0),
        };
        context.set_line_width(width);
        context.set_stroke_style_str(colour);
        context.begin_path();
        for [a, b] in segments {
            let (ax, ay) = to_canvas(*a);
            let (bx, by) = to_canvas(*b);
            context.move_to(ax, ay);
            context.line_to(bx, by);
        }
        context.stroke();
    }
    for dot in &plane.dots {
        let (x, y) = to_canvas(dot.at);
        context.begin_path();
        context.arc(x, y, 3.2, 0.0, std::f64::consts::TAU).ok()?;
        context.set_fill_style_str(CLASS_COLOURS[usize::from(dot.class.min(1))]);
        context.fill();
        context.set_line_width(if dot.ringed { 2.5 } else { 1.0 });
        context.set_stroke_style_str(if dot.ringed { "#000" } else { "#fff" });
        context.stroke();
    }
    Some(())
}

/// A canvas that redraws whenever `plane` changes.
#[component]
pub fn PlaneView(#[prop(into)] plane: Signal<Plane>, label: String) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let plane = plane.get();
        if let Some(canvas) = canvas.get() {
            draw(&canvas, &plane);
        }
    });
    view! { <canvas node_ref=canvas class="plane" role="img" aria-label=label></canvas> }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(n: usize) -> Vec<f32> {
        (0..n).map(|i| i as f32 / (n - 1) as f32).collect()
    }

    fn grid(n: usize, f: impl Fn(f32, f32) -> f32) -> Vec<f32> {
        let a = axis(n);
        a.iter()
            .flat_map(|&y| a.iter().map(move |&x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect()
    }

    fn length(s: &Segment) -> f32 {
        ((s[0][0] - s[1][0]).powi(2) + (s[0][1] - s[1][1]).powi(2)).sqrt()
    }

    #[test]
    fn a_linear_score_has_a_straight_boundary_across_the_square() {
        let segments = zero_line(&grid(11, |x, _| x - 0.53), &axis(11));
        assert_eq!(segments.len(), 10, "one segment per row of cells");
        for s in &segments {
            assert!((s[0][0] - 0.53).abs() < 1e-5 && (s[1][0] - 0.53).abs() < 1e-5);
        }
        let total: f32 = segments.iter().map(length).sum();
        assert!((total - 1.0).abs() < 1e-5);
    }

    #[test]
    fn a_circle_is_traced_near_its_radius_and_a_constant_has_no_boundary() {
        let r = 0.3;
        let distance = |x: f32, y: f32| ((x - 0.5).powi(2) + (y - 0.5).powi(2)).sqrt();
        let segments = zero_line(&grid(41, |x, y| distance(x, y) - r), &axis(41));
        for s in &segments {
            for p in s {
                assert!((distance(p[0], p[1]) - r).abs() < 2e-3, "{p:?}");
            }
        }
        let perimeter: f32 = segments.iter().map(length).sum();
        assert!(
            (perimeter - std::f32::consts::TAU * r).abs() < 0.01,
            "{perimeter}"
        );
        assert!(zero_line(&grid(9, |_, _| 1.0), &axis(9)).is_empty());
    }

    #[test]
    fn a_saddle_follows_its_centre() {
        // Corners (0, 0) and (1, 1) at 2, (1, 0) and (0, 1) at −1: the centre is positive,
        // so the positive corners join and the boundary cuts off the negative ones.
        let segments = zero_line(&[2.0, -1.0, -1.0, 2.0], &[0.0, 1.0]);
        assert_eq!(segments.len(), 2);
        for s in segments {
            let mid = [(s[0][0] + s[1][0]) / 2.0, (s[0][1] + s[1][1]) / 2.0];
            // Each segment lies near a negative corner: (1, 0) or (0, 1).
            assert!((mid[0] - mid[1]).abs() > 0.4, "{s:?}");
        }
    }

    #[test]
    fn the_heat_map_is_flipped_so_y_grows_upwards() {
        // Bottom row (y = 0) strongly negative, top row positive.
        let image = heat_image(&[-1.0, -1.0, 1.0, 1.0], 2);
        // First image row is the top: red dominant.
        assert!(image[0] > image[2]);
        // Last image row is the bottom: blue dominant.
        assert!(image[14] > image[12]);
    }
}
