//! Figures as SVG, drawn with plotters from the store: the accuracy–robustness–smoothness
//! scatter of finished runs, and a run's training curve.

use astute::plot::{Series, TradeoffPoint, lines_svg, tradeoff_svg};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Params;
use astute_api::{
    Architecture, AttackName, DatasetId, ErrorBody, JobEvent, MAX_OVERLAID_RUNS, Method, RunQuery,
    RunSummary, Status, TrainEvent,
};

fn svg(body: String) -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml")], body).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradeoffQuery {
    dataset: Option<DatasetId>,
    architecture: Option<Architecture>,
    method: Option<Method>,
    /// The attack of the robust axis: `pgd` (the paper's PGD-10, the default) or
    /// `autoattack` (runs evaluated with it only).
    attack: Option<AttackName>,
}

#[utoipa::path(get, path = "/api/plots/tradeoff.svg", tag = "figures",
    summary = "Finished runs at (test accuracy, adversarial test accuracy), sized by local Lipschitz constant",
    params(
        ("dataset" = Option<String>, Query),
        ("architecture" = Option<String>, Query),
        ("method" = Option<String>, Query),
        ("attack" = Option<String>, Query, description = "pgd (default) or autoattack")),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 400, body = ErrorBody)))]
/// Finished runs (the newest 500 that match) at (test accuracy, test accuracy under the
/// chosen attack), sized by their local Lipschitz constant.
pub async fn tradeoff(
    State(state): State<AppState>,
    Params(query): Params<TradeoffQuery>,
) -> ApiResult<Response> {
    let attack = query.attack.unwrap_or(AttackName::PGD_10);
    let (robust_of, attack_label): (fn(&RunSummary) -> Option<f64>, &str) = match attack {
        AttackName::PGD_10 => (|r| r.adv_test_acc, "PGD-10"),
        AttackName::AutoAttack => (|r| r.autoattack_test_acc, "AutoAttack"),
        other => {
            return Err(ApiError::bad_request(format!(
                "attack {other}: the trade-off figure plots pgd or autoattack"
            )));
        }
    };
    let (runs, _) = state
        .store
        .list_runs(&RunQuery {
            dataset: query.dataset,
            architecture: query.architecture,
            method: query.method,
            status: Some(Status::Done),
            limit: Some(RunQuery::MAX_PAGE),
            ..RunQuery::default()
        })
        .await?;
    let points: Vec<TradeoffPoint> = runs
        .iter()
        .filter_map(|r| {
            Some(TradeoffPoint {
                label: format!(
                    "{} {}{}{}",
                    r.architecture,
                    r.method,
                    if r.dropout > 0.0 { " +dropout" } else { "" },
                    if r.did_not_train {
                        " (did not train)"
                    } else {
                        ""
                    }
                ),
                group: r.method.to_string(),
                test_acc: r.test_acc?,
                adv_test_acc: robust_of(r)?,
                lipschitz: r.test_lipschitz?,
                link: Some(format!("/runs/{}", r.id)),
            })
        })
        .collect();
    if points.is_empty() {
        return Err(ApiError::not_found(&format!(
            "finished run matching the filter with a {attack_label} accuracy"
        )));
    }
    let title = format!(
        "Accuracy, robustness and smoothness{}",
        query.dataset.map_or_else(String::new, |d| format!(": {d}"))
    );
    let body = tradeoff_svg(&points, &title, attack_label)
        .map_err(|e| anyhow::anyhow!("plotting: {e}"))?;
    Ok(svg(body))
}

#[utoipa::path(get, path = "/api/runs/{id}/loss.svg", tag = "figures",
    summary = "The run's mean training loss per epoch",
    params(("id" = String, Path, description = "The run's id")),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, description = "No such run", body = ErrorBody), (status = 409, description = "No epoch has finished yet", body = ErrorBody)))]
/// A run's mean training loss per epoch, from its events.
pub async fn loss(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    if state.store.run_status(&id).await?.is_none() {
        return Err(ApiError::not_found("run"));
    }
    let points = epoch_losses(&state, &id).await?;
    if points.is_empty() {
        return Err(no_epoch_yet("this run"));
    }
    let series = [Series {
        label: "mean training loss".into(),
        points,
    }];
    loss_svg(&series, &format!("Run {id}: training"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverlayQuery {
    /// Run ids, comma-separated.
    runs: String,
}

#[utoipa::path(get, path = "/api/plots/loss.svg", tag = "figures",
    summary = "The mean training loss per epoch of several runs, overlaid",
    params(("runs" = String, Query, description = "Run ids, comma-separated (1 to 12)")),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 400, body = ErrorBody), (status = 404, description = "One of the runs does not exist", body = ErrorBody), (status = 409, description = "No epoch of any of them has finished yet", body = ErrorBody)))]
/// The training curves of the runs a comparison selects, one line each (a run with no
/// finished epoch yet draws none).
pub async fn losses(
    State(state): State<AppState>,
    Params(query): Params<OverlayQuery>,
) -> ApiResult<Response> {
    let mut ids: Vec<&str> = Vec::new();
    for id in query
        .runs
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() || ids.len() > MAX_OVERLAID_RUNS {
        return Err(ApiError::bad_request(format!(
            "runs: give 1 to {MAX_OVERLAID_RUNS} run ids, comma-separated (got {})",
            ids.len()
        )));
    }
    let mut series = Vec::new();
    for id in ids {
        let run = state
            .store
            .run(id)
            .await?
            .ok_or_else(|| ApiError::not_found(&format!("run {id}")))?
            .summary;
        let points = epoch_losses(&state, id).await?;
        if !points.is_empty() {
            series.push(Series {
                label: format!("{id} {} {} seed {}", run.architecture, run.method, run.seed),
                points,
            });
        }
    }
    if series.is_empty() {
        return Err(no_epoch_yet("any of these runs"));
    }
    loss_svg(&series, "Training loss of the compared runs")
}

/// Run `id`'s mean training loss after each finished epoch (1-based), from its events.
async fn epoch_losses(state: &AppState, id: &str) -> ApiResult<Vec<(f64, f64)>> {
    let mut points: Vec<(f64, f64)> = state
        .store
        .events(id)
        .await?
        .iter()
        .filter_map(|e| match e.event {
            JobEvent::Train(TrainEvent::EpochFinished {
                epoch, mean_loss, ..
            }) => Some((epoch as f64 + 1.0, mean_loss)),
            _ => None,
        })
        .collect();
    // A resumed run repeats no epoch, but keep one report of each to be sure.
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points.dedup_by(|later, earlier| later.0 == earlier.0);
    Ok(points)
}

fn no_epoch_yet(of: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!("no epoch of {of} has finished yet"),
    )
}

fn loss_svg(series: &[Series], title: &str) -> ApiResult<Response> {
    let body = lines_svg(series, title, "epoch", "mean training loss")
        .map_err(|e| anyhow::anyhow!("plotting: {e}"))?;
    Ok(svg(body))
}

#[utoipa::path(get, path = "/api/runs/{id}/accuracy-vs-epsilon.svg", tag = "figures",
    summary = "Test accuracy under PGD-10 at the radii of the spec's curve",
    params(("id" = String, Path, description = "The run's id")),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, description = "No such run", body = ErrorBody), (status = 409, description = "The run has no curve (yet)", body = ErrorBody)))]
/// A run's test accuracy under PGD-10 at each radius of its spec's `curve`.
pub async fn accuracy_vs_epsilon(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let run = state
        .store
        .run(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("run"))?;
    let curve = run
        .result
        .map(|r| r.accuracy_vs_epsilon)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "no curve: the run is not done or its spec asked for none (\"curve\": [0, 0.05, 0.1])",
            )
        })?;
    let series = [Series {
        label: format!("{} {}", run.summary.architecture, run.summary.method),
        points: curve.iter().map(|&(e, a)| (f64::from(e), a)).collect(),
    }];
    let title = format!("Run {id}: accuracy under attack");
    let body = lines_svg(
        &series,
        &title,
        "ε (ℓ∞, pixels in [0, 1])",
        "test accuracy under PGD-10 (%)",
    )
    .map_err(|e| anyhow::anyhow!("plotting: {e}"))?;
    Ok(svg(body))
}
