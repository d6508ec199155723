//! "Measure your own data": files dropped on the Datasets page (an IDX image file with its
//! label file, as MNIST ships, CIFAR-10 binary batches, gzipped or not, or a folder of PNGs
//! in class subfolders) are read and
//! searched by the engine in its worker, in this browser, and shown as the page shows a
//! server's measurement: the numbers, the histogram, the closest pairs. Nothing is uploaded.

use std::future::Future;
use std::pin::Pin;

use astute_engine_api::{MAX_IMAGES, MAX_PIXEL_BYTES, OwnReport};
use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::dropped_files::{self, Named};
use crate::components::{EngineDownload, number};
use crate::engine;
use crate::picture::{Palette, Picture};

/// The ε for r/ε until the visitor sets one: MNIST's in the paper.
const DEFAULT_EPSILON: f64 = 0.1;

/// The bytes of each of `files`, with its path.
async fn read(files: Vec<Named>) -> Result<Vec<(String, js_sys::Uint8Array)>, String> {
    let mut read = Vec::with_capacity(files.len());
    for Named { path, file } in files {
        let buffer = JsFuture::from(file.array_buffer())
            .await
            .map_err(|_| format!("“{path}” could not be read"))?;
        read.push((path, js_sys::Uint8Array::new(&buffer)));
    }
    Ok(read)
}

/// The files being measured, in words: their names, or the first few and a count.
fn described(files: &[Named]) -> String {
    let quoted = |f: &Named| format!("“{}”", f.path);
    match files {
        [] => String::new(),
        [one] => quoted(one),
        few if few.len() <= 4 => few.iter().map(quoted).collect::<Vec<_>>().join(", "),
        many => format!(
            "{}, {} and {} more files",
            quoted(&many[0]),
            quoted(&many[1]),
            many.len() - 2
        ),
    }
}

#[component]
pub fn OwnData() -> impl IntoView {
    let epsilon = RwSignal::new(DEFAULT_EPSILON);
    let busy = RwSignal::new(None::<String>);
    let outcome = RwSignal::new(None::<Result<OwnReport, String>>);
    let measure = move |files: Vec<Named>| async move {
        if files.is_empty() {
            return Err("no files were found there".to_owned());
        }
        busy.set(Some(described(&files)));
        let files = read(files).await?;
        engine::own_separation(files, Some(epsilon.get_untracked())).await
    };
    // `gather` finds the files (a folder drop is walked first), then they are measured.
    let start = move |gather: Pin<Box<dyn Future<Output = Result<Vec<Named>, String>>>>| {
        outcome.set(None);
        busy.set(Some("the files".to_owned()));
        leptos::task::spawn_local(async move {
            let measured = match gather.await {
                Ok(files) => measure(files).await,
                Err(e) => Err(e),
            };
            outcome.set(Some(measured));
            busy.set(None);
        });
    };
    let start_picked = move |files: Vec<Named>| start(Box::pin(std::future::ready(Ok(files))));
    let on_pick = move |event: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&event);
        start_picked(dropped_files::picked(input.files()));
        // Picking the same files again measures them again.
        input.set_value("");
    };
    let on_drop = move |event: leptos::ev::DragEvent| {
        event.prevent_default();
        let Some(transfer) = event.data_transfer() else {
            return;
        };
        match dropped_files::drop_entries(&transfer) {
            Some(entries) => start(Box::pin(dropped_files::dropped(entries))),
            None => start_picked(dropped_files::picked(transfer.files())),
        }
    };
    let on_epsilon = move |event: leptos::ev::Event| {
        if let Ok(value) = event_target_value(&event).parse::<f64>()
            && value > 0.0
        {
            epsilon.set(value);
        }
    };
    let shown = move || {
        match (busy.get(), outcome.get()) {
        (Some(names), _) => view! {
            <p class="loading" role="status">{format!("Reading and measuring {names} in this browser… ")}
                <button class="cancel" on:click=move |_| engine::cancel()>"Cancel"</button>
            </p>
            <EngineDownload/>
        }
        .into_any(),
        (None, None) => ().into_any(),
        (None, Some(Err(e))) if e == engine::CANCELLED => {
            view! { <p class="cancelled" role="status">"Cancelled: the engine stopped at once."</p> }.into_any()
        }
        (None, Some(Err(e))) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        (None, Some(Ok(own))) => view! { <OwnReportView own/> }.into_any(),
    }
    };
    view! {
        <section aria-labelledby="own-title" class="own-data">
            <h2 id="own-title">"Measure your own data, in this browser"</h2>
            <p>{format!(
                "Drop an IDX image file with its label file (MNIST's format, gzipped or not), CIFAR-10 binary \
                 batches, or a folder of PNGs with one subfolder per class (its name is the class): the exact ℓ∞ distance from every image to the nearest image of another class is computed \
                 here, by the same search as the server's, and nothing is uploaded. Up to {MAX_IMAGES} images and \
                 {:.0} MB of pixels; larger sets measure on your machine with ",
                MAX_PIXEL_BYTES as f64 / 1e6
            )}<code>"astute separation"</code>"."</p>
            <div class="drop" on:dragover=|e: leptos::ev::DragEvent| e.prevent_default() on:drop=on_drop>
                <label>"Files "<input type="file" multiple on:change=on_pick/></label>
                <label>" a folder of PNGs "<input type="file" prop:webkitdirectory=true multiple on:change=on_pick/></label>
                <label>" ε for r/ε "<input type="number" min="0.001" max="1" step="0.001"
                    prop:value=move || epsilon.get().to_string() on:change=on_epsilon/></label>
                <span class="hint">" or drop files or a folder here"</span>
            </div>
            {shown}
        </section>
    }
}

/// What the engine measured: the numbers (also as `data-` attributes, exact), the
/// histogram and the closest pairs as images.
#[component]
fn OwnReportView(own: OwnReport) -> impl IntoView {
    let report = own.report;
    let histogram = report
        .histogram
        .counts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let [channels, _, width] = own.shape;
    let palette = if channels == 3 {
        Palette::Rgb
    } else {
        Palette::Grey
    };
    let name = |label: u16| {
        own.class_names
            .get(usize::from(label))
            .cloned()
            .unwrap_or_else(|| label.to_string())
    };
    let pairs = report
        .closest_pairs
        .iter()
        .zip(&own.pair_pixels)
        .take(6)
        .map(|(pair, [query, neighbour])| {
            let values = |bytes: &Vec<u8>| bytes.iter().map(|&b| f32::from(b) / 255.0).collect::<Vec<f32>>();
            view! {
                <figure class="pair">
                    <div class="pair-images">
                        <Picture values=Signal::stored(values(query)) width=width as u32 palette
                            caption=format!("image {} ({})", pair.query_index, name(pair.query_label))/>
                        <Picture values=Signal::stored(values(neighbour)) width=width as u32 palette
                            caption=format!("image {} ({})", pair.train_index, name(pair.train_label))/>
                    </div>
                    <figcaption>{format!("{} vs {} · distance {}", name(pair.query_label), name(pair.train_label), number(Some(pair.distance), 3))}</figcaption>
                </figure>
            }
        })
        .collect_view();
    view! {
        <div class="own-result" data-min=report.min.to_string() data-mean=report.mean.to_string()
            data-histogram=histogram data-milliseconds=own.milliseconds.to_string()>
            <h3>{own.source}</h3>
            <p>{format!(
                "Train–Train: min {} · mean {} · median {} · r = min/2 = {} · r/ε = {} at ε = {}. Measured in {} in this browser.",
                number(Some(report.min), 4), number(Some(report.mean), 4), number(Some(report.median), 4),
                number(Some(report.separation), 4), number(report.separation_over_epsilon, 2),
                number(report.epsilon, 3), took(own.milliseconds)
            )}</p>
            <HistogramChart fractions=report.histogram.fractions.clone() epsilon=report.epsilon/>
            <p class="hint">"The closest differently-labelled pairs: near-duplicates and mislabelled images show up here."</p>
            <div class="pairs">{pairs}</div>
        </div>
    }
}

/// A duration in words: milliseconds under a second (a small set takes a few), seconds
/// above.
fn took(milliseconds: f64) -> String {
    if milliseconds < 1e3 {
        format!("{milliseconds:.0}\u{a0}ms")
    } else {
        format!("{:.1}\u{a0}s", milliseconds / 1e3)
    }
}

/// The distances' histogram on [0, 1] (Figure 3's), with 2ε marked: bars left of it would
/// be images no classifier robust at ε can get right.
#[component]
fn HistogramChart(fractions: Vec<f64>, epsilon: Option<f64>) -> impl IntoView {
    const WIDTH: f64 = 480.0;
    const HEIGHT: f64 = 220.0;
    // Room for the y axis's percentages on the left and the x axis's ticks and name below.
    const LEFT: f64 = 52.0;
    const RIGHT: f64 = 14.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 44.0;
    let tallest = fractions.iter().copied().fold(0.0, f64::max).max(1e-9);
    let bar = (WIDTH - LEFT - RIGHT) / fractions.len().max(1) as f64;
    let x = move |distance: f64| LEFT + distance * (WIDTH - LEFT - RIGHT);
    let y = move |fraction: f64| HEIGHT - BOTTOM - fraction / tallest * (HEIGHT - TOP - BOTTOM);
    let bars = fractions
        .iter()
        .enumerate()
        .map(|(k, &f)| {
            view! {
                <rect x=LEFT + k as f64 * bar y=y(f) width=bar - 1.0 height=HEIGHT - BOTTOM - y(f) class="bar">
                    <title>{format!("{:.1} % of the images", f * 100.0)}</title>
                </rect>
            }
        })
        .collect_view();
    let x_ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
        .map(|d| view! { <text x=x(d) y=HEIGHT - BOTTOM + 16.0 text-anchor="middle">{format!("{d}")}</text> })
        .collect_view();
    let y_ticks = [0.0, 0.5, 1.0]
        .map(|share| {
            let fraction = share * tallest;
            view! {
                <line x1=LEFT - 4.0 x2=LEFT y1=y(fraction) y2=y(fraction) class="axis"/>
                <text x=LEFT - 6.0 y=y(fraction) + 4.0 text-anchor="end">{format!("{:.0} %", fraction * 100.0)}</text>
            }
        })
        .collect_view();
    let limit = epsilon.map(|e| {
        view! {
            <line x1=x(2.0 * e) x2=x(2.0 * e) y1=TOP y2=HEIGHT - BOTTOM class="limit"/>
            <text x=x(2.0 * e) + 4.0 y=TOP + 10.0>"2ε"</text>
        }
    });
    view! {
        <figure class="own-histogram">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
                aria-label="Histogram of each image's ℓ∞ distance to the nearest image of another class">
                {bars}
                <line x1=LEFT x2=LEFT y1=TOP y2=HEIGHT - BOTTOM class="axis"/>
                <line x1=LEFT x2=WIDTH - RIGHT y1=HEIGHT - BOTTOM y2=HEIGHT - BOTTOM class="axis"/>
                {x_ticks}{y_ticks}{limit}
                <text x=(LEFT + WIDTH - RIGHT) / 2.0 y=HEIGHT - 6.0 text-anchor="middle">"ℓ∞ distance to the nearest image of another class"</text>
                <text transform=format!("translate(14 {}) rotate(-90)", (TOP + HEIGHT - BOTTOM) / 2.0) text-anchor="middle">"share of images"</text>
            </svg>
        </figure>
    }
}
