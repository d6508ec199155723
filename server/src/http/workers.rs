//! `/api/workers`: the lab's live worker processes and what their slots run.

use axum::Json;
use axum::extract::State;

use super::AppState;
use super::error::ApiResult;
use astute_api::{ErrorBody, WorkerEntry};

#[utoipa::path(get, path = "/api/workers", tag = "runs",
    summary = "The lab's live worker processes (host, backend, slots, version, heartbeat) with the job each busy slot runs; a worker silent for its lease is left out",
    responses((status = 200, body = Vec<WorkerEntry>), (status = 500, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<WorkerEntry>>> {
    Ok(Json(state.store.live_workers().await?))
}
