//! `/api/tables/{n}`: the paper's tables, paper beside measured, in four formats.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Params;
use crate::tables::{self, Format};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableQuery {
    /// json (default), csv, md or tex.
    format: Option<String>,
}

pub async fn get(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Params(query): Params<TableQuery>,
) -> ApiResult<Response> {
    let format = match query.format.as_deref() {
        None => Format::Json,
        Some(name) => Format::parse(name).ok_or_else(|| {
            ApiError::bad_request(format!("unknown format {name:?}: json, csv, md or tex"))
        })?,
    };
    let number: u8 = number
        .parse()
        .ok()
        .filter(|n| tables::NUMBERS.contains(n))
        .ok_or_else(|| ApiError::not_found("table (the paper has tables 1 to 4)"))?;
    let measured = tables::Measured {
        runs: state.store.done_results().await?,
        separations: state.store.done_separations().await?,
    };
    let table = tables::build(number, &measured).ok_or_else(|| ApiError::not_found("table"))?;
    Ok((
        [(header::CONTENT_TYPE, format.content_type())],
        table.render(format),
    )
        .into_response())
}
