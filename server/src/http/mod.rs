//! The HTTP API (axum): routes, shared state, and the layers a public site needs (body
//! size limit, timeouts, tracing, compression). Reads are public; writes need a token.

mod auth;
mod client;
pub mod connections;
mod error;
mod extract;
mod findings;
mod images;
mod limit;
mod openapi;
mod plots;
mod runs;
mod scales;
mod separations;
mod site;
mod slots;
mod tables;
mod workers;

use std::time::Duration;

use astute::api::Budget;
use astute::data::DataDirs;
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::token_hash;
pub use images::DatasetCache;
pub use limit::{Rate, RateLimits};

use astute_api::{DatasetEntry, Health, JobState, Provenance, Status};

use crate::artifacts::Artifacts;
use crate::store::{Queue, Store, Wakeups};

/// The largest request body accepted (a spec is a few hundred bytes).
const BODY_LIMIT: usize = 64 * 1024;
/// Every other path under `/api`: a JSON 404, not the web app's page.
const UNKNOWN_API_PATHS: &str = "/api/{*rest}";
/// Ordinary requests are answered within this or fail with 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Where runs' checkpoints and weights are, whichever worker made them.
    pub artifacts: Artifacts,
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
    /// Word of new run events pushed by PostgreSQL (`None`: the streams poll).
    pub wakeups: Option<Wakeups>,
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
    async fn check_owner(
        &self,
        caller: &auth::Caller,
        queue: Queue,
        id: &str,
    ) -> Result<(), error::ApiError> {
        let owner = self
            .store
            .owner(queue, id)
            .await?
            .ok_or_else(|| error::ApiError::not_found(queue.job_kind()))?;
        caller.may_change(owner.as_deref())
    }

    /// Asks job `id` of `queue` to stop, for `caller` (its owner or an admin).
    async fn cancel(
        &self,
        caller: &auth::Caller,
        queue: Queue,
        id: String,
    ) -> error::ApiResult<Json<JobState>> {
        self.check_owner(caller, queue, &id).await?;
        let status = self
            .store
            .cancel(queue, &id)
            .await?
            .ok_or_else(|| error::ApiError::not_found(queue.job_kind()))?;
        tracing::info!(job = %id, kind = queue.job_kind(), by = %caller, "cancel asked");
        Ok(Json(JobState { id, status }))
    }

    pub fn provenance(&self, command: &str) -> Provenance {
        crate::provenance::provenance(command.to_owned(), &self.backend)
    }
}

/// Every route of the API with its OpenAPI description: `routes!` takes only handlers
/// that describe themselves (`#[utoipa::path]`), so the document and the router are one
/// list.
pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    let ordinary = OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(openapi::document))
        .routes(routes!(datasets))
        .routes(routes!(images::image))
        .routes(routes!(scales::list))
        .routes(routes!(runs::list, runs::create))
        .routes(routes!(runs::get, runs::delete))
        .routes(routes!(runs::cancel))
        .routes(routes!(runs::weights))
        .routes(routes!(plots::loss))
        .routes(routes!(plots::accuracy_vs_epsilon))
        .routes(routes!(plots::tradeoff))
        .routes(routes!(plots::losses))
        .routes(routes!(runs::models))
        .routes(routes!(separations::list, separations::create))
        .routes(routes!(separations::get))
        .routes(routes!(separations::cancel))
        .routes(routes!(separations::histogram))
        .routes(routes!(tables::get))
        .routes(routes!(findings::list))
        .routes(routes!(workers::list))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    // Live streams stay open as long as their run goes on: no timeout.
    let streams = OpenApiRouter::new().routes(routes!(runs::events));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(ordinary)
        .merge(streams)
}

/// The API under `/api`, and the web app in `site` everywhere else.
pub fn router(state: AppState, limits: RateLimits, site: &std::path::Path) -> Router {
    let (api, _) = api_routes().split_for_parts();
    let api = api
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

/// The answer to a create: 201, the new job's place, its id and `queued`.
fn queued(place: &str, id: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::CREATED,
        [(axum::http::header::LOCATION, format!("{place}/{id}"))],
        Json(JobState {
            id: id.to_owned(),
            status: Status::Queued,
        }),
    )
        .into_response()
}

async fn unknown_route() -> error::ApiError {
    error::ApiError::not_found("route")
}

#[utoipa::path(get, path = "/api/health", tag = "meta", summary = "Liveness and version",
    responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

#[utoipa::path(get, path = "/api/datasets", tag = "datasets",
    summary = "The dataset catalog and what this server has",
    responses((status = 200, body = Vec<DatasetEntry>)))]
async fn datasets(State(state): State<AppState>) -> Json<Vec<DatasetEntry>> {
    Json(crate::catalog::entries(&state.data, false))
}

#[cfg(test)]
mod tests;
