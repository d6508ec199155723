//! Images on canvases: grey and colour pictures, and signed values (perturbations,
//! classifier scores) in a diverging colour scale.

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
    /// Values in [0, 1] as three planes (red, green, blue: CHW, as datasets store them).
    Rgb,
}

impl Palette {
    /// How many of the values make one pixel.
    fn channels(self) -> usize {
        match self {
            Palette::Rgb => 3,
            Palette::Grey | Palette::Diverging { .. } => 1,
        }
    }
}

fn byte(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

pub fn rgba(values: &[f32], palette: Palette) -> Vec<u8> {
    match palette {
        Palette::Grey => values
            .iter()
            .flat_map(|&v| {
                let g = byte(v);
                [g, g, g, 255]
            })
            .collect(),
        Palette::Diverging { scale } => values
            .iter()
            .flat_map(|&v| {
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
            })
            .collect(),
        Palette::Rgb => {
            let plane = values.len() / 3;
            (0..plane)
                .flat_map(|i| {
                    [
                        byte(values[i]),
                        byte(values[plane + i]),
                        byte(values[2 * plane + i]),
                        255,
                    ]
                })
                .collect()
        }
    }
}

/// Draws `values` (`width` × `height` pixels of the palette's channels) into `canvas`.
pub fn paint(canvas: &web_sys::HtmlCanvasElement, values: &[f32], width: u32, palette: Palette) {
    let height = (values.len() / palette.channels()) as u32 / width.max(1);
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
        // Two pixels in planes: red 1 then 0, green 0 then 0.5, blue 0 then 1.
        assert_eq!(
            rgba(&[1.0, 0.0, 0.0, 0.5, 0.0, 1.0], Palette::Rgb),
            [255, 0, 0, 255, 0, 128, 255, 255]
        );
    }
}
