//! One training run from its spec to its result row: train (with checkpoints, events and
//! cancellation), then evaluate with the paper's protocol and the spec's further attacks. `astute train` and the job
//! workers both go through here, so a run is the same run wherever it was started.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use astute::api::{Budget, ExperimentSpec};
use astute::attack::eval_copy;
use astute::burn::prelude::Device;
use astute::data::Split;
use astute::metric::{
    EvalProtocol, LipschitzStep, RobustProtocol, RunMetrics, accuracy_vs_epsilon, masking,
};
use astute::model::{Network, NetworkConfig};
use astute::train::{TrainEvent, TrainOptions, train};
use astute::weights::Precision;

use astute::api::RunResult;

/// The Lipschitz step of the runs the workers evaluate (the tables say it).
pub const RUN_LIPSCHITZ_STEP: LipschitzStep = LipschitzStep::FifthOfEpsilon;

/// How to drive one run.
pub struct Execution<'a> {
    pub checkpoint_dir: Option<PathBuf>,
    pub on_event: &'a mut dyn FnMut(&TrainEvent),
    /// Raised, it stops training at its next batch and evaluation at its next one.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Training images evaluated (the first N) when the spec does not say; `None` for all.
    pub eval_train: Option<usize>,
    pub lipschitz_step: LipschitzStep,
    /// How the weights are stored; half-precision weights are evaluated as stored.
    pub precision: Precision,
    /// What the run may cost; a spec over it fails before anything is built.
    pub budget: Budget,
}

/// The trained network's result row and its weights (safetensors bytes).
pub struct Executed {
    pub result: RunResult,
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
    let (config, _) = execution.budget.check(spec, execution.eval_train)?;
    let started = web_time::Instant::now();
    let trained = train(
        &config,
        &split.train,
        device,
        TrainOptions {
            checkpoint_dir: execution.checkpoint_dir,
            on_event: execution.on_event,
            cancel: execution.cancel.as_deref(),
        },
    )?;
    announce(config.epsilon);
    let network = NetworkConfig {
        architecture: config.architecture,
        input: split.train.shape(),
        classes: split.train.num_classes(),
        dropout: config.dropout,
    };
    let weights = astute::weights::to_bytes(&trained.model, &network, execution.precision)?;
    let eval_device = device.clone().autodiff();
    // What is measured is what is stored: rounded weights are read back first.
    let stored = match execution.precision {
        Precision::Full => trained.model,
        Precision::Half => astute::weights::from_bytes(weights.clone(), None, &eval_device)?.0,
    };
    // The run's seed also seeds its evaluation: `astute eval --seed` replays the row.
    let protocol = EvalProtocol {
        lipschitz_step: execution.lipschitz_step,
        train_images: spec.eval_train.or(execution.eval_train),
        seed: spec.seed,
        ..EvalProtocol::paper(config.epsilon)
    };
    let measure = || {
        let (metrics, accuracy_vs_epsilon) =
            evaluate(&stored, &protocol, &spec.curve, split, &eval_device);
        let protocol = RobustProtocol {
            attacks: spec.attacks.clone(),
            images: spec.attacked_images(),
            epsilon: config.epsilon,
            seed: spec.seed,
        };
        let attacked = eval_copy(&stored);
        let robust = protocol.run(&attacked, &split.test, &eval_device, |_| ());
        // Every run carries the cheap masking checks, and the others its attacks allow.
        let masking = protocol.masking(
            &attacked,
            &split.test,
            &eval_device,
            &robust,
            masking::Depth::Quick,
        );
        (metrics, accuracy_vs_epsilon, robust, masking)
    };
    let (metrics, accuracy_vs_epsilon, robust, masking) = match &execution.cancel {
        Some(flag) => astute::cancel::within(flag, measure)
            .map_err(|_| anyhow::anyhow!("cancelled during evaluation"))?,
        None => measure(),
    };
    Ok(Executed {
        result: RunResult {
            dataset: spec.dataset,
            architecture: config.architecture,
            method: config.method,
            dropout: config.dropout,
            epsilon: config.epsilon,
            epochs: config.epochs,
            metrics,
            train_seconds: trained.seconds,
            wall_seconds: started.elapsed().as_secs_f64(),
            accuracy_vs_epsilon,
            robust,
            masking,
        },
        weights,
    })
}

/// The paper's metrics of `model` under `protocol`, and test accuracy under the same
/// seeded PGD-10 at each radius of `curve`.
pub fn evaluate(
    model: &Network,
    protocol: &EvalProtocol,
    curve: &[f32],
    split: &Split,
    device: &Device,
) -> (RunMetrics, Vec<(f32, f64)>) {
    let metrics = protocol.run(model, &split.train, &split.test, device);
    let curve = accuracy_vs_epsilon(
        &eval_copy(model),
        &split.test,
        curve,
        protocol.seed,
        protocol.batch_size,
        device,
    );
    (metrics, curve)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use astute::api::DatasetId;
    use astute::data::DataDirs;
    use astute::method::Method;

    use super::*;

    /// One epoch of the spiral, evaluated; `stop_at_evaluation` raises the cancel flag as
    /// evaluation starts.
    fn spiral_run(stop_at_evaluation: bool) -> anyhow::Result<Executed> {
        let mut spec = ExperimentSpec::new(DatasetId::Spiral, Method::Natural);
        spec.epochs = Some(1);
        let split = astute::data::load(DatasetId::Spiral, &DataDirs::new(None)).unwrap();
        let flag = Arc::new(AtomicBool::new(false));
        let raise = flag.clone();
        execute(
            &spec,
            &split,
            &Device::flex(),
            Execution {
                checkpoint_dir: None,
                on_event: &mut |_| {},
                cancel: Some(flag),
                eval_train: None,
                lipschitz_step: RUN_LIPSCHITZ_STEP,
                precision: Precision::Full,
                budget: Budget::DEFAULT,
            },
            |_| raise.store(stop_at_evaluation, Ordering::Relaxed),
        )
    }

    #[test]
    fn a_cancel_during_evaluation_stops_it_before_its_next_batch() {
        let error = spiral_run(true).err().expect("the run went on");
        assert_eq!(error.to_string(), "cancelled during evaluation");
        // The same run left alone is evaluated.
        let done = spiral_run(false).unwrap();
        assert!(done.result.metrics.test.accuracy > 0.0);
    }
}
