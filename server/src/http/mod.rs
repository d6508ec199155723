//! The HTTP API (axum): routes, shared state, and the layers a public site needs (body
//! size limit, timeouts, tracing, compression). Reads are public; writes need a token.

mod auth;
mod client;
pub mod connections;
mod error;
mod extract;
mod images;
mod limit;
mod plots;
mod runs;
mod scales;
mod separations;
mod site;
mod slots;
mod tables;

use std::path::PathBuf;
use std::time::Duration;

use astute::api::Budget;
use astute::data::DataDirs;
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use auth::token_hash;
pub use images::DatasetCache;
pub use limit::{Rate, RateLimits};

use crate::store::{Provenance, Store};

/// The largest request body accepted (a spec is a few hundred bytes).
const BODY_LIMIT: usize = 64 * 1024;
/// Every other path under `/api`: a JSON 404, not the web app's page.
const UNKNOWN_API_PATHS: &str = "/api/{*rest}";
/// Ordinary requests are answered within this or fail with 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub state_dir: PathBuf,
    pub data: DataDirs,
    /// The compute backend new runs are trained on (recorded in their provenance).
    pub backend: String,
    /// Turns true when the server shuts down: live streams end.
    pub shutdown: watch::Receiver<bool>,
    /// The dataset whose images pages last asked for.
    pub datasets: DatasetCache,
    /// What one run may cost: a spec over it is refused with 422.
    pub budget: Budget,
    /// Training images the workers evaluate when a spec does not say (`None`: all).
    pub default_eval_train: Option<usize>,
    /// Live event streams open, and their limits.
    pub streams: StreamLimits,
    /// The paper's tables as last built.
    pub tables: tables::TableCache,
    /// Runs and measurements one (non-admin) token may have queued or running at once.
    pub max_active_per_token: i64,
}

/// How many live event streams may be open, and for how long each.
#[derive(Clone)]
pub struct StreamLimits {
    pub open: slots::Slots,
    pub per_client: usize,
    pub total: usize,
    /// A stream ends after this; the browser reconnects where it left off.
    pub lifetime: Duration,
}

impl AppState {
    /// Refuses a new job from `caller` while it has its quota of jobs queued or running.
    async fn check_quota(&self, caller: &auth::Caller) -> Result<(), error::ApiError> {
        if caller.admin {
            return Ok(());
        }
        let active = self.store.active_jobs(&caller.hash).await?;
        if active >= self.max_active_per_token {
            return Err(error::ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "this token has {active} runs and measurements queued or running, its limit: \
                     wait for some to finish or cancel them"
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a change to run `id` by `caller` unless it may (see
    /// [`auth::Caller::may_change`]); an unknown run is a 404.
    async fn check_owner(&self, caller: &auth::Caller, id: &str) -> Result<(), error::ApiError> {
        let owner = self
            .store
            .run_owner(id)
            .await?
            .ok_or_else(|| error::ApiError::not_found("run"))?;
        caller.may_change(owner.as_deref())
    }

    pub fn provenance(&self, command: &str) -> Provenance {
        Provenance {
            command: command.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: crate::build_commit().to_owned(),
            backend: self.backend.clone(),
        }
    }
}

/// The API under `/api`, and the web app in `site` everywhere else.
pub fn router(state: AppState, limits: RateLimits, site: &std::path::Path) -> Router {
    let ordinary = Router::new()
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(openapi))
        .route("/api/datasets", get(datasets))
        .route(
            "/api/datasets/{id}/images/{split}/{index}",
            get(images::image),
        )
        .route("/api/scales", get(scales::list))
        .route("/api/runs", get(runs::list).post(runs::create))
        .route("/api/runs/{id}", get(runs::get).delete(runs::delete))
        .route("/api/runs/{id}/cancel", post(runs::cancel))
        .route("/api/runs/{id}/weights", get(runs::weights))
        .route("/api/runs/{id}/loss.svg", get(plots::loss))
        .route(
            "/api/runs/{id}/accuracy-vs-epsilon.svg",
            get(plots::accuracy_vs_epsilon),
        )
        .route("/api/plots/tradeoff.svg", get(plots::tradeoff))
        .route("/api/models", get(runs::models))
        .route(
            "/api/separations",
            get(separations::list).post(separations::create),
        )
        .route("/api/separations/{id}", get(separations::get))
        .route(
            "/api/separations/{id}/histogram.svg",
            get(separations::histogram),
        )
        .route("/api/tables/{number}", get(tables::get))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    // Live streams stay open as long as their run goes on: no timeout.
    let streams = Router::new().route("/api/runs/{id}/events", get(runs::events));
    let api = ordinary
        .merge(streams)
        .route(UNKNOWN_API_PATHS, axum::routing::any(unknown_route))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(error::json_errors))
        .layer(axum::middleware::from_fn_with_state(limits, limit::limit))
        // The site's files come compressed already.
        .layer(CompressionLayer::new());
    api.merge(site::routes(site))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The API's OpenAPI 3.1 description, kept beside the routes it describes.
const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

/// The answer to a create: 201, the new job's place, its id and `queued`.
fn queued(place: &str, id: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::CREATED,
        [(axum::http::header::LOCATION, format!("{place}/{id}"))],
        Json(serde_json::json!({ "id": id, "status": crate::store::Status::Queued })),
    )
        .into_response()
}

async fn unknown_route() -> error::ApiError {
    error::ApiError::not_found("route")
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn datasets(State(state): State<AppState>) -> Json<Vec<crate::commands::datasets::Entry>> {
    Json(crate::commands::datasets::catalog(&state.data, false))
}

#[cfg(test)]
mod tests {
    /// Every route of [`super::router`] is described, and nothing else.
    #[test]
    fn the_openapi_document_describes_every_route() {
        let document: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        let mut described: Vec<&str> = document["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        described.sort();
        let source = include_str!("mod.rs");
        let code = source.split("#[cfg(test)]").next().unwrap();
        let mut routed: Vec<&str> = code
            .split(".route(")
            .skip(1)
            .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
            .collect();
        routed.sort();
        assert_eq!(described, routed);
    }
}
