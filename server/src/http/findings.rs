//! `/api/findings`: the paper's claims from Tables 2–4, checked on its numbers and on the
//! store's results.

use axum::Json;
use axum::extract::State;

use super::AppState;
use super::error::ApiResult;
use astute_api::{ErrorBody, Finding};

use crate::{findings, tables};

#[utoipa::path(get, path = "/api/findings", tag = "tables",
    summary = "The paper's findings from Tables 2–4, each with ✓/✗ on the paper's numbers and on the measured ones (runs that did not train left out)",
    responses((status = 200, body = Vec<Finding>), (status = 500, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Finding>>> {
    let mut built = Vec::new();
    for number in [2, 3, 4] {
        if let Some(table) =
            super::tables::built(&state, number, tables::Untrained::LeftOut).await?
        {
            built.push((*table).clone());
        }
    }
    Ok(Json(findings::check(&built)))
}
