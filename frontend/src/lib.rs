//! The Astute web app: datasets and their separation, experiments with live progress, the
//! shared result viewer, the paper's argument, the attack playground and the theory page.
//! Client-side rendered with Leptos; it reads the server's JSON API and draws figures the
//! server renders, so these pages stay small (no burn inside). The playground and theory
//! pages import the in-browser engine, a separate bundle, for their computation.

mod api;
mod app;
mod components;
mod engine;
mod export;
mod figure;
mod live;
mod pages;
mod picture;
mod query;
mod run_rows;
mod token;
mod workers;

#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    if let Some(boot) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot"))
    {
        boot.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
