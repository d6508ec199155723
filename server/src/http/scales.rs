//! `/api/scales?dataset=`: what each reproduction scale trains for a dataset, so a page can
//! show and estimate a run before launching it (`POST /api/runs?scale=` applies it).

use astute::train::TrainConfig;
use astute_api::{DatasetId, ErrorBody, ExperimentSpec, Method, ScaleSettings};
use axum::Json;
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::extract::Params;
use crate::reproduce::Scale;

#[derive(Deserialize)]
pub struct ScaleQuery {
    dataset: DatasetId,
}

pub fn parse(name: &str) -> ApiResult<Scale> {
    Scale::parse(name).ok_or_else(|| {
        ApiError::bad_request(format!("unknown scale {name:?}: smoke, cpu or paper"))
    })
}

#[utoipa::path(get, path = "/api/scales", tag = "runs",
    summary = "What each reproduction scale (smoke, cpu, paper) trains for a dataset",
    params(("dataset" = String, Query)),
    responses((status = 200, body = Vec<ScaleSettings>), (status = 400, body = ErrorBody)))]
pub async fn list(Params(query): Params<ScaleQuery>) -> ApiResult<Json<Vec<ScaleSettings>>> {
    let dataset = query.dataset;
    [Scale::Smoke, Scale::Cpu, Scale::Paper]
        .into_iter()
        .map(|scale| {
            let mut spec = ExperimentSpec::new(dataset, Method::Natural);
            scale.apply(&mut spec);
            let config = TrainConfig::from_spec(&spec)
                .map_err(|e| anyhow::anyhow!("scale {}: {e}", scale.name()))?;
            Ok(ScaleSettings {
                name: scale.name().to_owned(),
                epochs: config.epochs,
                batch_size: config.batch_size,
                optimizer: config.optimizer.kind(),
                learning_rate: config.optimizer.learning_rate(),
                warmup_epochs: config.warmup_epochs,
                subset: spec.subset,
                eval_train: spec.eval_train,
            })
        })
        .collect::<Result<_, ApiError>>()
        .map(Json)
}
