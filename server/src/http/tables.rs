//! `/api/tables/{n}`: the paper's tables, paper beside measured, in four formats.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Params;
use astute_api::ErrorBody;
use astute_api::table::{Format, Table};

use crate::store::ResultsVersion;
use crate::tables;
use tokio::sync::Mutex;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableQuery {
    /// json (default), csv, md or tex.
    format: Option<String>,
    /// `include`: count the runs that did not train in the measured numbers (by default
    /// they are left out and listed).
    untrained: Option<String>,
}

#[utoipa::path(get, path = "/api/tables/{number}", tag = "tables",
    summary = "A table of the paper, paper beside measured (mean ± std over seeds)",
    params(("number" = u8, Path, description = "1 to 4"), ("format" = Option<String>, Query, description = "json (default), csv, md or tex"),
        ("untrained" = Option<String>, Query, description = "include: count runs that did not train (left out by default)")),
    responses(
        (status = 200, description = "The table as JSON, or as text in the format asked for",
            content((Table = "application/json"), (String = "text/csv"), (String = "text/markdown"), (String = "application/x-latex"))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
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
    let untrained = match query.untrained.as_deref() {
        None | Some("exclude") => tables::Untrained::LeftOut,
        Some("include") => tables::Untrained::Counted,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "untrained={other:?}: include or exclude"
            )));
        }
    };
    let number: u8 = number
        .parse()
        .ok()
        .filter(|n| tables::NUMBERS.contains(n))
        .ok_or_else(|| ApiError::not_found("table (the paper has tables 1 to 4)"))?;
    let table = built(&state, number, untrained)
        .await?
        .ok_or_else(|| ApiError::not_found("table"))?;
    Ok((
        [(header::CONTENT_TYPE, format.content_type())],
        table.render(format),
    )
        .into_response())
}

/// Table `number` from the store's current results, through the cache.
pub(super) async fn built(
    state: &AppState,
    number: u8,
    untrained: tables::Untrained,
) -> anyhow::Result<Option<Arc<Table>>> {
    let version = state.store.results_version().await?;
    state
        .tables
        .get((number, untrained), version, || async {
            Ok(tables::Measured {
                runs: state.store.done_results().await?,
                separations: state.store.done_separations().await?,
            })
        })
        .await
}

/// The tables built from the store's results as they were at one version (see
/// [`crate::store::Store::results_version`]). Reading every finished run takes long with
/// thousands of them; it happens once per change of the results, by one request while
/// the others wait for it.
#[derive(Clone, Default)]
pub struct TableCache(Arc<Mutex<Option<Cached>>>);

struct Cached {
    version: ResultsVersion,
    measured: Arc<tables::Measured>,
    built: HashMap<(u8, tables::Untrained), Option<Arc<Table>>>,
}

impl TableCache {
    /// Table `number` at `version`, reading the results with `load` when the cache holds
    /// another version.
    async fn get<F: Future<Output = anyhow::Result<tables::Measured>>>(
        &self,
        (number, untrained): (u8, tables::Untrained),
        version: ResultsVersion,
        load: impl FnOnce() -> F,
    ) -> anyhow::Result<Option<Arc<Table>>> {
        let mut held = self.0.lock().await;
        let current = match held.take() {
            Some(cached) if cached.version == version => cached,
            _ => Cached {
                version,
                measured: Arc::new(load().await?),
                built: HashMap::new(),
            },
        };
        let cached = held.insert(current);
        let measured = cached.measured.clone();
        Ok(cached
            .built
            .entry((number, untrained))
            .or_insert_with(|| tables::build(number, &measured, untrained).map(Arc::new))
            .clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The results are read once per version, however many requests ask.
    #[tokio::test]
    async fn results_are_read_once_per_version() {
        let cache = TableCache::default();
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::Relaxed);
            Ok(tables::Measured::default())
        };
        for _ in 0..5 {
            for number in tables::NUMBERS {
                let key = (number, tables::Untrained::LeftOut);
                assert!(cache.get(key, [1; 7], load).await.unwrap().is_some());
            }
        }
        assert_eq!(loads.load(Ordering::Relaxed), 1);
        cache
            .get((2, tables::Untrained::LeftOut), [2; 7], load)
            .await
            .unwrap();
        cache
            .get((2, tables::Untrained::LeftOut), [2; 7], load)
            .await
            .unwrap();
        assert_eq!(loads.load(Ordering::Relaxed), 2);
    }
}
