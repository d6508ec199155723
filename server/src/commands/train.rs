//! `astute train`: one training run, evaluated as a row of the paper's tables.

use std::path::PathBuf;

use anyhow::Context;
use astute::api::{AttackName, ExperimentSpec, Optimizer};
use astute::data::DatasetId;
use astute::method::Method;
use astute::metric::LipschitzStep;
use astute::model::Architecture;
use astute::train::TrainEvent;
use astute::weights::Precision;

use super::budget_args::BudgetArgs;
use super::data_dirs::DataArgs;
use super::progress::TrainProgress;
use super::store_args::{StoreArgs, record};
use crate::device::Backend;
use crate::execute::{Execution, execute};
use astute_api::JobEvent;

use crate::provenance;
use crate::store::finished_run;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset id (see `astute datasets`).
    #[arg(long, short)]
    dataset: DatasetId,
    /// cnn1, cnn2, wrn-DEPTH-WIDTH, resnet50, mlp-LAYERS-WIDTH [default: the dataset's]
    #[arg(long)]
    arch: Option<Architecture>,
    /// natural, gr[:λ[:h]], llr[:λ[:μ]], llr-ref[:λ], at, rst:λ, trades:β
    #[arg(long, short, default_value = "natural")]
    method: Method,
    /// Dropout rate where the architecture places dropout (0 = none).
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    /// Perturbation radius in ℓ∞ on [0, 1] pixels [default: the dataset's]
    #[arg(long)]
    eps: Option<f32>,
    /// Epochs [default: the dataset's preset]
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    /// sgd (momentum 0.9) or adam [default: the preset's]
    #[arg(long)]
    optimizer: Option<Optimizer>,
    /// Learning rate [default: the preset's, or the usual 0.01 (sgd) / 1e-3 (adam) when
    /// --optimizer switches to the other kind]
    #[arg(long)]
    lr: Option<f64>,
    /// Train on the first N training images only.
    #[arg(long)]
    subset: Option<usize>,
    /// Raise the learning rate and the method's regularisation weights linearly from 0
    /// over the first N epochs [default: the preset's, none]
    #[arg(long)]
    warmup_epochs: Option<usize>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Evaluate train-set metrics on the first N training images (0 = all).
    #[arg(long, default_value_t = 10_000)]
    eval_train: usize,
    /// Lipschitz ascent step: ε/5 (the paper's text) or the reference code's 0.003.
    #[arg(long, value_parser = parse_lipschitz_step, default_value = "eps/5")]
    lipschitz_step: LipschitzStep,
    /// Also measure test accuracy under these attacks after training (e.g. autoattack;
    /// see `astute eval --attack`), seeded with --seed.
    #[arg(long, value_delimiter = ',')]
    attack: Vec<AttackName>,
    /// With --attack: the first N test images only [default: all]
    #[arg(long)]
    attack_images: Option<usize>,
    /// Write the trained weights here (safetensors).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Store the weights in half precision (half the file), and evaluate them as stored.
    #[arg(long)]
    half: bool,
    /// Checkpoint every epoch into this folder, and resume from a checkpoint found there.
    #[arg(long)]
    checkpoint_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// Print the result as JSON instead of a table row.
    #[arg(long)]
    json: bool,
    /// Do not record the run in the store (see `astute serve`).
    #[arg(long)]
    no_store: bool,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    budget: BudgetArgs,
}

pub(super) fn parse_lipschitz_step(s: &str) -> Result<LipschitzStep, String> {
    match s {
        "eps/5" => Ok(LipschitzStep::FifthOfEpsilon),
        other => other
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(LipschitzStep::Fixed)
            .ok_or_else(|| format!("'{other}': expected eps/5 or a positive step such as 0.003")),
    }
}

impl Args {
    /// The run these flags ask for.
    pub(super) fn spec(&self) -> ExperimentSpec {
        ExperimentSpec {
            dataset: self.dataset,
            architecture: self.arch,
            method: self.method,
            dropout: self.dropout,
            epsilon: self.eps,
            epochs: self.epochs,
            batch_size: self.batch_size,
            optimizer: self.optimizer,
            learning_rate: self.lr,
            subset: self.subset,
            warmup_epochs: self.warmup_epochs,
            seed: self.seed,
            eval_train: (self.eval_train > 0).then_some(self.eval_train),
            curve: Vec::new(),
            attacks: self.attack.clone(),
            attack_images: self.attack_images,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let device = args.backend.device()?;
    let spec = args.spec();
    let started_at = crate::store::now_ms();
    let split = args.data.load(args.dataset)?;
    let mut progress = TrainProgress::new(!args.json);
    // The run's history for the store, as a worker would have recorded it (batches aside).
    let mut history = Vec::new();
    let json = args.json;
    let executed = execute(
        &spec,
        &split,
        &device,
        Execution {
            checkpoint_dir: args.checkpoint_dir.clone(),
            on_event: &mut |e| {
                if !matches!(e, TrainEvent::Batch { .. }) {
                    history.push(JobEvent::Train(e.clone()));
                }
                progress.observe(e)
            },
            cancel: None,
            eval_train: spec.eval_train,
            lipschitz_step: args.lipschitz_step,
            precision: if args.half {
                Precision::Half
            } else {
                Precision::Full
            },
            budget: args.budget.budget(),
        },
        |epsilon| {
            if !json {
                eprintln!("evaluating (PGD-10 and local Lipschitz at ε = {epsilon}) ...");
            }
        },
    )?;
    progress.finish();
    if let Some(path) = &args.out {
        std::fs::write(path, &executed.weights)
            .with_context(|| format!("writing weights to {}", path.display()))?;
    }
    let result = executed.result;
    super::row::print(&result, args.json)?;
    if !args.no_store {
        let run = finished_run(
            &spec,
            result,
            provenance::of_this_process(&format!("{:?}", args.backend).to_lowercase()),
            started_at,
        )?;
        let id = run.summary.id.clone();
        record(&args.store, async |store| {
            store.record_run(&run, &history).await
        })?;
        eprintln!("recorded as run {id} in the store");
    }
    Ok(())
}
