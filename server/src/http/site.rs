//! The web app's files (built by `cargo xtask site`): brotli or gzip copies sent when the
//! browser takes them, hashed assets cached for a year (a missing one is a 404), `index.html`
//! revalidated every time, and every other path answered with `index.html` so the app's
//! own routes work on reload.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, Response};
use tower_http::services::{ServeDir, ServeFile};

/// Serves the site in `dir`, or a page that says how to build it when there is none.
pub fn routes<S: Clone + Send + Sync + 'static>(dir: &Path) -> Router<S> {
    let index = dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(
            "no web app in {}: the API works, pages need `cargo xtask site`",
            dir.display()
        );
        let missing = format!(
            "<!doctype html><title>Astute</title><h1>Astute's pages are not built</h1>\
             <p>The API is running (<a href=\"/api/openapi.json\">/api/openapi.json</a>). \
             Build the pages with <code>cargo xtask site</code> (or start the server with \
             <code>scripts/run.sh</code>); this server looks for them in <code>{}</code>.</p>",
            dir.display()
        );
        return Router::new().fallback(move || {
            let missing = missing.clone();
            async move { Html(missing) }
        });
    }
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(&index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    // A missing asset is a 404, never the app's page under an asset's name.
    let assets = ServeDir::new(dir.join("assets"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .nest_service("/assets", assets)
        .fallback_service(files)
        .layer(axum::middleware::from_fn(cache_headers))
}

/// Hashed assets never change under their name; everything else (an asset's 404
/// included) is checked on each visit.
async fn cache_headers(request: Request, next: Next) -> Response {
    let asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let immutable = asset && response.status().is_success();
    let policy = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}
