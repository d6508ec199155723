//! `/api/runs`: create (from an experiment spec), list, get, cancel, delete, live events
//! (Server-Sent Events) and weights.

use std::convert::Infallible;
use std::time::Duration;

use astute::api::ExperimentSpec;
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::AppState;
use super::auth::Authorized;
use super::client::ClientAddr;
use super::error::{ApiError, ApiResult};
use super::extract::{Body, Params};
use super::slots::Slot;
use astute_api::{
    ErrorBody, JobEvent, JobState, ModelEntry, RunAnswer, RunList, RunQuery, Status, StatusEvent,
    StreamEnd,
};

use crate::artifacts::{Download, Kind};
use crate::store::{self, Deletion, Queue};

/// How often a live event stream looks for new events (they may come from a worker on
/// another machine, so the database is the source).
const EVENT_POLL: Duration = Duration::from_millis(250);
/// How often a live stream looks when PostgreSQL pushes word of new events: for what
/// comes without an event (a queued run cancelled or deleted) and what a lost listener
/// connection missed.
const EVENT_POLL_PUSHED: Duration = Duration::from_secs(2);
/// How soon a browser reconnects to a stream that ended at its lifetime.
const RECONNECT: Duration = Duration::from_secs(3);

#[utoipa::path(get, path = "/api/runs", tag = "runs",
    summary = "Runs, filtered, sorted and paged",
    params(RunQuery),
    responses((status = 200, body = RunList), (status = 400, description = "A filter, sort or page that is not one", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Params(query): Params<RunQuery>,
) -> ApiResult<Json<RunList>> {
    query.order().map_err(ApiError::bad_request)?;
    if query
        .limit
        .is_some_and(|l| !(1..=RunQuery::MAX_PAGE).contains(&l))
    {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {}",
            RunQuery::MAX_PAGE
        )));
    }
    if query.offset.is_some_and(|o| o < 0) {
        return Err(ApiError::bad_request("offset must not be negative"));
    }
    let (runs, total) = state.store.list_runs(&query).await?;
    Ok(Json(RunList {
        runs,
        total,
        limit: query.limit.unwrap_or(50),
        offset: query.offset.unwrap_or(0),
    }))
}

#[derive(Deserialize)]
pub struct CreateQuery {
    /// `smoke`, `cpu` or `paper`: fills what the spec leaves open, and labels the run.
    scale: Option<String>,
}

#[utoipa::path(post, path = "/api/runs", tag = "runs",
    summary = "Queue a training run",
    params(("scale" = Option<String>, Query, description = "smoke, cpu or paper: fills what the spec leaves open, and labels the run")),
    request_body = ExperimentSpec,
    security(("token" = [])),
    responses(
        (status = 201, description = "Queued; `Location` names the run", body = JobState),
        (status = 400, description = "A body that is not a spec", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "A spec that is invalid or over the server's budget", body = ErrorBody),
        (status = 429, description = "The token's quota of active jobs is used", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Authorized(who): Authorized,
    Params(query): Params<CreateQuery>,
    Body(mut spec): Body<ExperimentSpec>,
) -> ApiResult<Response> {
    let scale = query
        .scale
        .as_deref()
        .map(super::scales::parse)
        .transpose()?;
    if let Some(scale) = scale {
        scale.apply(&mut spec);
    }
    state
        .budget
        .check(&spec, state.default_eval_train)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    state.check_quota(&who).await?;
    let origin = store::Origin {
        scale: scale.map(|s| s.name().to_owned()),
        stands_in_for: None,
        owner: Some(who.hash.clone()),
    };
    let id = state
        .store
        .create_run(&spec, &origin, &state.provenance("POST /api/runs"))
        .await?;
    tracing::info!(run = %id, by = %who, "run queued");
    Ok(super::queued("/api/runs", &id))
}

/// Run `id`'s trained weights, if the lab's artifact store holds them.
async fn stored_weights(state: &AppState, id: &str) -> ApiResult<Option<Download>> {
    Ok(state.artifacts.download(id, Kind::Weights).await?)
}

#[utoipa::path(get, path = "/api/runs/{id}", tag = "runs",
    summary = "A run: spec, status, result, provenance, and `weights` (the URL of its weights when the lab's artifact store holds them, else null)",
    params(("id" = String, Path, description = "The run's id")),
    responses((status = 200, body = RunAnswer), (status = 404, description = "No such run", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<RunAnswer>> {
    let run = state
        .store
        .run(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("run"))?;
    let weights = stored_weights(&state, &id)
        .await?
        .map(|_| format!("/api/runs/{id}/weights"));
    Ok(Json(RunAnswer { run, weights }))
}

#[utoipa::path(post, path = "/api/runs/{id}/cancel", tag = "runs",
    summary = "Cancel a run (a running one stops at its next batch; its owner's token or an admin token)",
    params(("id" = String, Path, description = "The run's id")),
    security(("token" = [])),
    responses((status = 200, description = "The status after the request", body = JobState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "No such run", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Authorized(who): Authorized,
    Path(id): Path<String>,
) -> ApiResult<Json<JobState>> {
    state.cancel(&who, Queue::Runs, id).await
}

#[utoipa::path(delete, path = "/api/runs/{id}", tag = "runs",
    summary = "Delete a run that is not running (its owner's token or an admin token; shipped results are read-only)",
    params(("id" = String, Path, description = "The run's id")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted, with its events and weights"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "No such run", body = ErrorBody), (status = 409, description = "The run is running: cancel it first", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Authorized(who): Authorized,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.check_owner(&who, Queue::Runs, &id).await?;
    match state.store.delete(&id).await? {
        Deletion::NotFound => Err(ApiError::not_found("run")),
        Deletion::Running => Err(ApiError::new(
            StatusCode::CONFLICT,
            "the run is running: cancel it first",
        )),
        Deletion::Deleted => {
            if let Err(error) = state.artifacts.delete(&id, None).await {
                tracing::warn!(run = %id, "its files stay stored: {error:#}");
            }
            tracing::info!(run = %id, by = %who, "run deleted");
            Ok(StatusCode::NO_CONTENT)
        }
    }
}

#[utoipa::path(get, path = "/api/runs/{id}/weights", tag = "runs",
    summary = "The trained weights (safetensors)",
    params(("id" = String, Path, description = "The run's id")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, description = "No such run, or no weights stored", body = ErrorBody)))]
/// The run's weights, streamed from the file (constant memory per download, ranges
/// honoured).
pub async fn weights(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    if !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::not_found("run"));
    }
    let mut response = match stored_weights(&state, &id).await? {
        None => return Err(ApiError::not_found("weights of this run")),
        Some(Download::File(path)) => {
            let Ok(response) = ServeFile::new(&path).oneshot(request).await;
            response.map(axum::body::Body::new)
        }
        Some(Download::Stream { size, bytes }) => {
            let mut response = Response::new(axum::body::Body::from_stream(bytes));
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
            response
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"astute-{id}.safetensors\""))
            .map_err(anyhow::Error::from)?,
    );
    Ok(response)
}

#[utoipa::path(get, path = "/api/models", tag = "runs",
    summary = "Manifest of finished runs whose weights this server holds (for the browser); filters as /api/runs",
    params(RunQuery),
    responses((status = 200, body = Vec<ModelEntry>), (status = 400, body = ErrorBody)))]
/// The manifest of finished runs whose weights this server holds (newest first).
pub async fn models(
    State(state): State<AppState>,
    Params(query): Params<RunQuery>,
) -> ApiResult<Json<Vec<ModelEntry>>> {
    let query = RunQuery {
        status: Some(Status::Done),
        limit: Some(
            query
                .limit
                .unwrap_or(RunQuery::MAX_PAGE)
                .clamp(1, RunQuery::MAX_PAGE),
        ),
        ..query
    };
    let (runs, _) = state.store.list_runs(&query).await?;
    let mut models = Vec::new();
    for run in runs {
        if stored_weights(&state, &run.id).await?.is_some() {
            models.push(ModelEntry {
                weights: format!("/api/runs/{}/weights", run.id),
                run,
            });
        }
    }
    Ok(Json(models))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Send events after this number (also read from `Last-Event-ID` on reconnect).
    after: Option<i64>,
}

#[utoipa::path(get, path = "/api/runs/{id}/events", tag = "runs",
    summary = "Live progress as Server-Sent Events",
    description = "`progress` events (each a JobEvent, its `id` the event's number), then one `status` event (a StatusEvent; `deleted` for a run deleted meanwhile). Resumes after `Last-Event-ID` or `after`; a stream ends after the server's stream lifetime and the browser reconnects.",
    params(("id" = String, Path, description = "The run's id"), ("after" = Option<i64>, Query, description = "Send the events after this number")),
    responses((status = 200, content_type = "text/event-stream", body = JobEvent), (status = 404, description = "No such run", body = ErrorBody), (status = 429, description = "Too many live streams open", body = ErrorBody)))]
/// The run's events as Server-Sent Events: everything stored so far, then new ones as
/// they arrive, then a final `status` event when the run has ended.
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Params(query): Params<EventQuery>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    if state.store.run_status(&id).await?.is_none() {
        return Err(ApiError::not_found("run"));
    }
    let limits = &state.streams;
    let slot = limits
        .open
        .take(client, limits.per_client, limits.total)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many live streams open (at most {} per address, {} in all): close one",
                    limits.per_client, limits.total
                ),
            )
        })?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .or(query.after)
        .unwrap_or(0);
    let stream = live_events(state, id, after, slot);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Where a live stream is: events read but not yet sent, the last number read, and
/// whether the final status has been queued.
struct Cursor {
    pending: Vec<Event>,
    after: i64,
    ended: bool,
    /// The stream's end of life.
    until: tokio::time::Instant,
    /// Word of new events, when PostgreSQL pushes it.
    wakeups: Option<broadcast::Receiver<String>>,
    /// The stream's place among the open ones, given back when it ends.
    _slot: Slot,
}

/// Completes when word comes of a new event of run `id` (or of events missed); never
/// without word.
async fn woken(wakeups: &mut Option<broadcast::Receiver<String>>, id: &str) {
    let Some(wakeups) = wakeups else {
        return std::future::pending().await;
    };
    loop {
        match wakeups.recv().await {
            Ok(run) if run == id => return,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => return,
            Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
        }
    }
}

fn live_events(
    state: AppState,
    id: String,
    after: i64,
    slot: Slot,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let cursor = Cursor {
        // The first event tells the browser how soon to reconnect when the stream ends
        // at its lifetime.
        pending: vec![Event::default().retry(RECONNECT).comment("connected")],
        after,
        ended: false,
        until: tokio::time::Instant::now() + state.streams.lifetime,
        wakeups: state.wakeups.as_ref().map(|w| w.subscribe()),
        _slot: slot,
    };
    futures_util::stream::unfold(cursor, move |mut cursor| {
        let (state, id) = (state.clone(), id.clone());
        async move {
            let mut shutdown = state.shutdown.clone();
            loop {
                if let Some(event) = cursor.pending.pop() {
                    return Some((Ok(event), cursor));
                }
                if cursor.ended || *shutdown.borrow() || tokio::time::Instant::now() >= cursor.until
                {
                    return None;
                }
                // The status is read before the events: every event stored before the run
                // ended is sent before the final status.
                let status = match state.store.run_status(&id).await {
                    Ok(Some(status)) => status,
                    Ok(None) => {
                        cursor.ended = true;
                        return Some((Ok(status_event(StreamEnd::Deleted)), cursor));
                    }
                    Err(_) => return None,
                };
                let fresh = state
                    .store
                    .events_after(&id, cursor.after)
                    .await
                    .unwrap_or_default();
                let mut batch: Vec<Event> = fresh
                    .iter()
                    .map(|stored| {
                        Event::default()
                            .id(stored.seq.to_string())
                            .event("progress")
                            .json_data(&stored.event)
                            .unwrap_or_default()
                    })
                    .collect();
                if let Some(last) = fresh.last() {
                    cursor.after = last.seq;
                } else if let Some(end) = StreamEnd::of(status) {
                    batch.push(status_event(end));
                    cursor.ended = true;
                }
                batch.reverse();
                cursor.pending = batch;
                if cursor.pending.is_empty() {
                    let poll = if cursor.wakeups.is_some() {
                        EVENT_POLL_PUSHED
                    } else {
                        EVENT_POLL
                    };
                    tokio::select! {
                        _ = tokio::time::sleep(poll) => {}
                        _ = woken(&mut cursor.wakeups, &id) => {}
                        _ = tokio::time::sleep_until(cursor.until) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
    })
}

/// The final event of a live stream.
fn status_event(end: StreamEnd) -> Event {
    Event::default()
        .event("status")
        .json_data(StatusEvent { status: end })
        .unwrap_or_default()
}
