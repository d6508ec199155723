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
use crate::store::{Origin, SeparationRecord};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    dataset: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Vec<SeparationRecord>>> {
    Ok(Json(
        state
            .store
            .list_separations(query.dataset.as_deref())
            .await?,
    ))
}

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
    let title = format!("{}: {} separation", record.dataset, record.metric);
    let svg = astute::plot::separation_histogram_svg(&refs, &title)
        .map_err(|e| anyhow::anyhow!("plotting: {e}"))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
