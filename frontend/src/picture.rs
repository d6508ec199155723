//! Images on canvases: grey pictures, and signed values (perturbations, classifier
//! scores) in a diverging colour scale.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, ImageData};

/// How a picture's values become colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Palette {
    /// Values in [0, 1] as grey levels.
    Grey,
    /// Values in [−scale, scale]: blue below zero, white at zero, red above.
    Diverging { scale: f32 },
}

pub fn rgba(values: &[f32], palette: Palette) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| match palette {
            Palette::Grey => {
                let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                [g, g, g, 255]
            }
            Palette::Diverging { scale } => {
                let t = if scale > 0.0 {
                    (v / scale).clamp(-1.0, 1.0)
                } else {
                    0.0
                };
                let fade = |x: f32| (255.0 * (1.0 - x.abs())).round() as u8;
                if t >= 0.0 {
                    [255, fade(t), fade(t), 255]
                } else {
                    [fade(t), fade(t), 255, 255]
                }
            }
        })
        .collect()
}

/// Draws `values` (one channel, `width` × `height`) into `canvas`.
pub fn paint(canvas: &web_sys::HtmlCanvasElement, values: &[f32], width: u32, palette: Palette) {
    let height = values.len() as u32 / width.max(1);
    canvas.set_width(width);
    canvas.set_height(height);
    let Some(context) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let pixels = rgba(values, palette);
    if let Ok(data) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&pixels), width, height) {
        let _ = context.put_image_data(&data, 0.0, 0.0);
    }
}

/// A labelled picture, redrawn whenever `values` changes.
#[component]
pub fn Picture(
    #[prop(into)] values: Signal<Vec<f32>>,
    width: u32,
    palette: Palette,
    caption: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let values = values.get();
        if let Some(canvas) = canvas.get() {
            paint(&canvas, &values, width, palette);
        }
    });
    view! {
        <figure class="picture">
            <canvas node_ref=canvas class="pixels" role="img" aria-label=caption.clone()></canvas>
            <figcaption>{caption}</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        assert_eq!(
            rgba(&[0.0, 1.0, 0.5], Palette::Grey),
            [0, 0, 0, 255, 255, 255, 255, 255, 128, 128, 128, 255]
        );
        let d = Palette::Diverging { scale: 0.1 };
        assert_eq!(
            rgba(&[0.1, -0.1, 0.0, 0.05], d),
            [
                255, 0, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255, 255, 128, 128, 255
            ]
        );
    }
}
