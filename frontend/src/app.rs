//! The frame of every page: the navigation, the server's status, and the routes.

use astute_api::Health;
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::api;
use crate::pages;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="top">
                <A href="/" attr:class="brand">"Astute"</A>
                <nav aria-label="Main">
                    <A href="/datasets">"Datasets"</A>
                    <A href="/experiments">"Experiments"</A>
                    <A href="/results">"Results"</A>
                    <A href="/playground">"Playground"</A>
                    <A href="/theory">"Theory"</A>
                    <A href="/paper">"Paper"</A>
                </nav>
                <ServerStatus/>
            </header>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::Paper/>
                    <Route path=path!("/paper") view=pages::Paper/>
                    <Route path=path!("/datasets") view=pages::Datasets/>
                    <Route path=path!("/experiments") view=pages::Experiments/>
                    <Route path=path!("/results") view=pages::Results/>
                    <Route path=path!("/runs/:id") view=pages::RunPage/>
                    <Route path=path!("/playground") view=pages::Playground/>
                    <Route path=path!("/theory") view=pages::TheoryPage/>
                </Routes>
            </main>
            <footer class="bottom">
                "Astute reproduces "
                <em>"A Closer Look at Accuracy vs. Robustness"</em>
                " (NeurIPS 2020). Data as JSON: "
                <a href="/api/openapi.json" rel="external">"API"</a>
            </footer>
        </Router>
    }
}

/// A badge that says whether the server answers, checked on load.
#[component]
fn ServerStatus() -> impl IntoView {
    let health = LocalResource::new(|| api::get::<Health>("/api/health"));
    move || match health.get() {
        None => view! { <span class="status">"…"</span> }.into_any(),
        Some(Ok(h)) => view! {
            <span class="status ok" title="The server answers">
                "● server v" {h.version}
            </span>
        }
        .into_any(),
        Some(Err(e)) => view! {
            <span class="status down" role="alert" title=e.to_string()>"● server unreachable"</span>
        }
        .into_any(),
    }
}
