//! `/api/scales?dataset=`: what each reproduction scale trains for a dataset, so a page can
//! show and estimate a run before launching it (`POST /api/runs?scale=` applies it).

use astute::api::ExperimentSpec;
use astute::data::DatasetId;
use astute::method::Method;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::extract::Params;
use crate::reproduce::Scale;

#[derive(Deserialize)]
pub struct ScaleQuery {
    dataset: String,
}

/// A scale's settings for one dataset, resolved against the dataset's preset.
#[derive(Serialize)]
pub struct ScaleSettings {
    name: &'static str,
    epochs: usize,
    batch_size: usize,
    learning_rate: f64,
    /// Training images (all of the training set when absent).
    subset: Option<usize>,
    /// Training images evaluated after training (the worker's default when absent).
    eval_train: Option<usize>,
}

pub fn parse(name: &str) -> ApiResult<Scale> {
    Scale::parse(name).ok_or_else(|| {
        ApiError::bad_request(format!("unknown scale {name:?}: smoke, cpu or paper"))
    })
}

pub async fn list(Params(query): Params<ScaleQuery>) -> ApiResult<Json<Vec<ScaleSettings>>> {
    let dataset: DatasetId = query.dataset.parse().map_err(ApiError::bad_request)?;
    [Scale::Smoke, Scale::Cpu, Scale::Paper]
        .into_iter()
        .map(|scale| {
            let mut spec = ExperimentSpec::new(dataset, Method::Natural);
            scale.apply(&mut spec);
            let config = spec
                .train_config()
                .map_err(|e| anyhow::anyhow!("scale {}: {e}", scale.name()))?;
            Ok(ScaleSettings {
                name: scale.name(),
                epochs: config.epochs,
                batch_size: config.batch_size,
                learning_rate: config.optimizer.learning_rate(),
                subset: spec.subset,
                eval_train: spec.eval_train,
            })
        })
        .collect::<Result<_, ApiError>>()
        .map(Json)
}
