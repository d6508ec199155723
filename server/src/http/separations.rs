//! `/api/separations`: queue a separation measurement, list them, get one with its
//! reports, and its histogram (Figure 3) as SVG.

use astute::api::SeparationSpec;
use astute::separation::SeparationReport;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::Authorized;
use super::error::{ApiError, ApiResult};
use super::extract::{Body, Params};
use astute_api::{DatasetId, ErrorBody, JobState, SeparationRecord};

use crate::store::{Origin, Queue};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    dataset: Option<DatasetId>,
}

#[utoipa::path(get, path = "/api/separations", tag = "separations",
    summary = "Separation measurements, newest first",
    params(("dataset" = Option<String>, Query)),
    responses((status = 200, body = Vec<SeparationRecord>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Vec<SeparationRecord>>> {
    Ok(Json(state.store.list_separations(query.dataset).await?))
}

#[utoipa::path(post, path = "/api/separations", tag = "separations",
    summary = "Queue a separation measurement",
    request_body = SeparationSpec,
    security(("token" = [])),
    responses(
        (status = 201, description = "Queued; `Location` names the measurement", body = JobState),
        (status = 400, description = "A body that is not a spec", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "A spec with an unknown dataset, metric or field", body = ErrorBody),
        (status = 429, description = "The token's quota of active jobs is used", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Authorized(who): Authorized,
    Body(spec): Body<SeparationSpec>,
) -> ApiResult<Response> {
    state.check_quota(&who).await?;
    let origin = Origin {
        owner: Some(who.hash.clone()),
        ..Origin::default()
    };
    let id = state
        .store
        .create_separation(&spec, &origin, &state.provenance("POST /api/separations"))
        .await?;
    tracing::info!(separation = %id, by = %who, "separation queued");
    Ok(super::queued("/api/separations", &id))
}

#[utoipa::path(get, path = "/api/separations/{id}", tag = "separations",
    summary = "A measurement with its Train–Train and Test–Train reports",
    params(("id" = String, Path, description = "The measurement's id")),
    responses((status = 200, body = SeparationRecord), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SeparationRecord>> {
    state
        .store
        .separation(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("separation"))
}

#[utoipa::path(post, path = "/api/separations/{id}/cancel", tag = "separations",
    summary = "Cancel a measurement (a running one stops within a block of queries once its worker hears of it; its owner's token or an admin token)",
    params(("id" = String, Path, description = "The measurement's id")),
    security(("token" = [])),
    responses((status = 200, description = "The status after the request", body = JobState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "No such measurement", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Authorized(who): Authorized,
    Path(id): Path<String>,
) -> ApiResult<Json<JobState>> {
    state.cancel(&who, Queue::Separations, id).await
}

#[utoipa::path(get, path = "/api/separations/{id}/histogram.svg", tag = "figures",
    summary = "Figure 3 for the measurement",
    params(("id" = String, Path, description = "The measurement's id")),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// Figure 3 for one measurement: the histogram of distances to the nearest other-class
/// training point, with lines at the minimum and at 2ε.
pub async fn histogram(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let record = state
        .store
        .separation(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("separation"))?;
    let reports = record.reports.unwrap_or_default();
    if reports.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "the measurement is {}: no histogram yet",
                record.status.as_str()
            ),
        ));
    }
    let refs: Vec<&SeparationReport> = reports.iter().collect();
    let title = format!("{}: {} separation", record.dataset, record.metric.symbol());
    let svg = astute::plot::separation_histogram_svg(&refs, &title)
        .map_err(|e| anyhow::anyhow!("plotting: {e}"))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
