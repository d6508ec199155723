//! A figure the server draws as SVG, with its downloads: the SVG as drawn, and a PNG the
//! browser renders from it at twice its size (slides and documents want pixels).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// How many device pixels a PNG download has per pixel of the SVG.
const PNG_SCALE: u32 = 2;

#[component]
pub fn Figure(
    /// The SVG's address.
    #[prop(into)]
    src: Signal<String>,
    /// The downloaded files' name, without its extension.
    #[prop(into)]
    name: String,
    #[prop(into)] alt: String,
    /// Embedded as an `<object>`, whose links can be followed (the trade-off figure's
    /// points open their runs), instead of an `<img>`.
    #[prop(optional)]
    interactive: bool,
    /// The caption.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let (failure, set_failure) = signal(None::<String>);
    let png_name = format!("{name}.png");
    let save_png = move |_| {
        let (url, name) = (src.get_untracked(), png_name.clone());
        set_failure.set(None);
        leptos::task::spawn_local(async move {
            if let Err(why) = download_png(&url, &name).await {
                set_failure.set(Some(why));
            }
        });
    };
    let picture = if interactive {
        view! {
            <object class="plot" type="image/svg+xml" data=move || src.get() aria-label=alt.clone()>
                {alt.clone()}
            </object>
        }
        .into_any()
    } else {
        view! { <img class="plot" src=move || src.get() alt=alt.clone()/> }.into_any()
    };
    view! {
        <figure class="figure">
            <div class="figure-scroll">{picture}</div>
            {children.map(|caption| view! { <figcaption>{caption()}</figcaption> })}
            <p class="downloads">
                "Download: " <a href=move || src.get() download=format!("{name}.svg")>"SVG"</a>
                " · " <button class="link" on:click=save_png>"PNG"</button>
                {move || failure.get().map(|why| view! { " " <span class="error" role="alert">{why}</span> })}
            </p>
        </figure>
    }
}

/// Renders the SVG at `url` onto a canvas at [`PNG_SCALE`] times its size and hands the
/// PNG to the browser as a download named `name`.
async fn download_png(url: &str, name: &str) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let element = |tag: &str| {
        document
            .create_element(tag)
            .map_err(|_| format!("cannot create a <{tag}>"))
    };
    let image: web_sys::HtmlImageElement =
        element("img")?.dyn_into().map_err(|_| "not an image")?;
    image.set_src(url);
    wasm_bindgen_futures::JsFuture::from(image.decode())
        .await
        .map_err(|_| "the figure could not be loaded for the PNG".to_owned())?;
    let (width, height) = (
        image.natural_width() * PNG_SCALE,
        image.natural_height() * PNG_SCALE,
    );
    let canvas: web_sys::HtmlCanvasElement =
        element("canvas")?.dyn_into().map_err(|_| "not a canvas")?;
    canvas.set_width(width);
    canvas.set_height(height);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or("this browser draws no 2D canvas")?;
    context
        .draw_image_with_html_image_element_and_dw_and_dh(
            &image,
            0.0,
            0.0,
            f64::from(width),
            f64::from(height),
        )
        .map_err(|_| "the figure could not be drawn")?;
    let png = canvas
        .to_data_url_with_type("image/png")
        .map_err(|_| "the canvas gave no PNG")?;
    let link: web_sys::HtmlAnchorElement = element("a")?.dyn_into().map_err(|_| "not a link")?;
    link.set_href(&png);
    link.set_download(name);
    link.click();
    Ok(())
}
