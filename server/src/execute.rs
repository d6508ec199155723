//! One training run from its spec to its result row: train (with checkpoints, events and
//! cancellation), then evaluate with the paper's protocol. `astute train` and the job
//! workers both go through here, so a run is the same run wherever it was started.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use astute::api::ExperimentSpec;
use astute::attack::eval_copy;
use astute::burn::prelude::Device;
use astute::data::Split;
use astute::metric::{EvalProtocol, LipschitzStep, accuracy_vs_epsilon};
use astute::model::NetworkConfig;
use astute::train::{TrainEvent, TrainOptions, train};

use crate::commands::row::RunRow;

/// How to drive one run.
pub struct Execution<'a> {
    pub checkpoint_dir: Option<PathBuf>,
    pub on_event: &'a mut dyn FnMut(&TrainEvent),
    pub cancel: Option<&'a AtomicBool>,
    /// Training images evaluated (the first N) when the spec does not say; `None` for all.
    pub eval_train: Option<usize>,
    pub lipschitz_step: LipschitzStep,
}

/// The trained network's result row and its weights (safetensors bytes).
pub struct Executed {
    pub row: RunRow,
    pub weights: Vec<u8>,
}

/// Trains `spec` on `split` and evaluates it. `announce` hears the evaluation start
/// (it takes minutes on a CPU, with no events of its own).
pub fn execute(
    spec: &ExperimentSpec,
    split: &Split,
    device: &Device,
    execution: Execution<'_>,
    announce: impl FnOnce(f32),
) -> anyhow::Result<Executed> {
    let config = spec.train_config()?;
    let started = web_time::Instant::now();
    let trained = train(
        &config,
        &split.train,
        device,
        TrainOptions {
            checkpoint_dir: execution.checkpoint_dir,
            on_event: execution.on_event,
            cancel: execution.cancel,
        },
    )?;
    announce(config.epsilon);
    let protocol = EvalProtocol {
        lipschitz_step: execution.lipschitz_step,
        train_images: spec.eval_train.or(execution.eval_train),
        ..EvalProtocol::paper(config.epsilon)
    };
    let eval_device = device.clone().autodiff();
    let metrics = protocol.run(&trained.model, &split.train, &split.test, &eval_device);
    let accuracy_vs_epsilon = accuracy_vs_epsilon(
        &eval_copy(&trained.model),
        &split.test,
        &spec.curve,
        protocol.batch_size,
        &eval_device,
    );
    let network = NetworkConfig {
        architecture: config.architecture,
        input: split.train.shape(),
        classes: split.train.num_classes(),
        dropout: config.dropout,
    };
    let weights = astute::weights::to_bytes(&trained.model, &network)?;
    Ok(Executed {
        row: RunRow {
            dataset: spec.dataset.to_string(),
            architecture: config.architecture.to_string(),
            method: config.method.to_string(),
            dropout: config.dropout,
            epsilon: config.epsilon,
            epochs: config.epochs,
            metrics,
            train_seconds: trained.seconds,
            wall_seconds: started.elapsed().as_secs_f64(),
            accuracy_vs_epsilon,
        },
        weights,
    })
}
