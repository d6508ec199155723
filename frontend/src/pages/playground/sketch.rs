//! Images that are not in the samples: a digit drawn with the mouse, finger or pen, or an
//! uploaded file, both scaled down to the models' 28 × 28 grey input.

use leptos::html::{Canvas, Input};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap};

/// The models' input side.
const SIDE: u32 = 28;
/// The drawing canvas is this many times larger than the input.
const ZOOM: u32 = 8;

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// What to scale down: the drawing pad or a decoded upload.
enum Source<'a> {
    Pad(&'a HtmlCanvasElement),
    Upload(&'a ImageBitmap),
}

/// `source` drawn into 28 × 28 and read back as grey values in [0, 1]. Images on a light
/// background (a photo of ink on paper) are inverted into the datasets' light-on-dark.
fn downsample(source: Source<'_>) -> Result<Vec<f32>, String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let small: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|_| "no canvas")?
        .unchecked_into();
    small.set_width(SIDE);
    small.set_height(SIDE);
    let ctx = context(&small).ok_or("no 2-D canvas in this browser")?;
    ctx.set_fill_style_str("black");
    ctx.fill_rect(0.0, 0.0, f64::from(SIDE), f64::from(SIDE));
    let side = f64::from(SIDE);
    match source {
        Source::Pad(canvas) => {
            ctx.draw_image_with_html_canvas_element_and_dw_and_dh(canvas, 0.0, 0.0, side, side)
        }
        Source::Upload(bitmap) => {
            ctx.draw_image_with_image_bitmap_and_dw_and_dh(bitmap, 0.0, 0.0, side, side)
        }
    }
    .map_err(|_| "the image could not be scaled to 28 × 28".to_string())?;
    let data = ctx
        .get_image_data(0.0, 0.0, f64::from(SIDE), f64::from(SIDE))
        .map_err(|_| "the image could not be read back")?
        .data();
    let grey: Vec<f32> = data
        .chunks(4)
        .map(|p| (f32::from(p[0]) + f32::from(p[1]) + f32::from(p[2])) / (3.0 * 255.0))
        .collect();
    let mean = grey.iter().sum::<f32>() / grey.len() as f32;
    Ok(if mean > 0.5 {
        grey.into_iter().map(|g| 1.0 - g).collect()
    } else {
        grey
    })
}

/// A drawing pad and an upload button; `on_image` receives 28 × 28 grey values.
#[component]
pub fn Sketch(on_image: Callback<(Vec<f32>, String)>) -> impl IntoView {
    let pad = NodeRef::<Canvas>::new();
    let file = NodeRef::<Input>::new();
    let (drawing, set_drawing) = signal(false);
    let (problem, set_problem) = signal(None::<String>);
    let size = SIDE * ZOOM;
    // A scaled image goes to the page; a failure is said under the pad.
    let deliver = move |scaled: Result<Vec<f32>, String>, name: String| match scaled {
        Ok(values) => {
            set_problem.set(None);
            on_image.run((values, name));
        }
        Err(e) => set_problem.set(Some(e)),
    };

    let clear = move || {
        if let Some(ctx) = pad.get().and_then(|c| context(&c)) {
            ctx.set_fill_style_str("black");
            ctx.fill_rect(0.0, 0.0, f64::from(size), f64::from(size));
        }
    };
    Effect::new(move |_| {
        if pad.get().is_some() {
            clear();
        }
    });
    let point = move |e: &web_sys::PointerEvent| {
        let canvas = pad.get()?;
        let rect = canvas.get_bounding_client_rect();
        let scale = f64::from(size) / rect.width().max(1.0);
        Some((
            (f64::from(e.client_x()) - rect.left()) * scale,
            (f64::from(e.client_y()) - rect.top()) * scale,
            context(&canvas)?,
        ))
    };
    let down = move |e: web_sys::PointerEvent| {
        set_drawing.set(true);
        if let Some((x, y, ctx)) = point(&e) {
            ctx.set_stroke_style_str("white");
            ctx.set_line_width(f64::from(ZOOM) * 2.2);
            ctx.set_line_cap("round");
            ctx.set_line_join("round");
            ctx.begin_path();
            ctx.move_to(x, y);
            ctx.line_to(x, y);
            ctx.stroke();
        }
    };
    let moved = move |e: web_sys::PointerEvent| {
        if drawing.get_untracked()
            && let Some((x, y, ctx)) = point(&e)
        {
            ctx.line_to(x, y);
            ctx.stroke();
        }
    };
    let use_drawing = move |_| {
        let Some(canvas) = pad.get() else { return };
        deliver(downsample(Source::Pad(&canvas)), "your drawing".into());
    };
    let uploaded = move |_| {
        let Some(chosen) = file.get().and_then(|f| f.files()).and_then(|l| l.get(0)) else {
            return;
        };
        let name = chosen.name();
        leptos::task::spawn_local(async move {
            let decoded = async {
                let window = web_sys::window().ok_or("no window")?;
                let promise = window
                    .create_image_bitmap_with_blob(&chosen)
                    .map_err(|_| "the browser cannot read this file".to_string())?;
                let bitmap: ImageBitmap = JsFuture::from(promise)
                    .await
                    .map_err(|_| format!("“{name}” is not an image this browser can decode: choose a PNG, JPEG, GIF or WebP"))?
                    .unchecked_into();
                downsample(Source::Upload(&bitmap))
            };
            deliver(decoded.await, format!("“{name}”"));
        });
    };

    view! {
        <div class="sketch">
            <canvas node_ref=pad class="pad" width=size height=size role="img"
                aria-label="Drawing pad: draw a digit with the mouse, a finger or a pen"
                on:pointerdown=down on:pointermove=moved
                on:pointerup=move |_| set_drawing.set(false)
                on:pointerleave=move |_| set_drawing.set(false)></canvas>
            <div class="buttons">
                <button on:click=use_drawing>"Attack this drawing"</button>
                <button on:click=move |_| clear()>"Clear"</button>
                <label class="upload">"Upload an image "
                    <input node_ref=file type="file" accept="image/*" on:change=uploaded/>
                </label>
            </div>
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
        </div>
    }
}
