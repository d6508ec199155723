//! `astute eval`: a weights file evaluated as a row of the paper's tables.

use std::path::PathBuf;

use anyhow::Context;
use astute::data::{Catalog, DatasetId};
use astute::metric::LipschitzStep;
use astute::model::{Architecture, NetworkConfig};

use super::data_dirs::DataArgs;
use super::train::parse_lipschitz_step;
use crate::device::Backend;
use crate::execute::evaluate;
use astute::metric::RunMetrics;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Safetensors weights written by `astute train --out` (or a PyTorch export with --arch).
    weights: PathBuf,
    #[arg(long, short)]
    dataset: DatasetId,
    /// The architecture, for files without Astute metadata.
    #[arg(long)]
    arch: Option<Architecture>,
    #[arg(long)]
    eps: Option<f32>,
    /// Evaluate train-set metrics on the first N training images (0 = all).
    #[arg(long, default_value_t = 10_000)]
    eval_train: usize,
    #[arg(long, value_parser = parse_lipschitz_step, default_value = "eps/5")]
    lipschitz_step: LipschitzStep,
    /// Also measure test accuracy under PGD-10 at each of these radii (e.g. 0,0.05,0.1,0.2).
    #[arg(long, value_delimiter = ',', value_parser = parse_radius)]
    curve: Vec<f32>,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArgs,
}

fn parse_radius(s: &str) -> Result<f32, String> {
    s.parse::<f32>()
        .ok()
        .filter(|v| (0.0..=1.0).contains(v))
        .ok_or_else(|| format!("'{s}': a radius is a number in [0, 1]"))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let device = args.backend.device()?.autodiff();
    let split = args.data.load(args.dataset)?;
    let bytes = std::fs::read(&args.weights)
        .with_context(|| format!("reading {}", args.weights.display()))?;
    let fallback = args.arch.map(|architecture| NetworkConfig {
        architecture,
        input: split.train.shape(),
        classes: split.train.num_classes(),
        dropout: 0.0,
    });
    let (model, network) = astute::weights::from_bytes(bytes, fallback, &device)
        .with_context(|| format!("loading {}", args.weights.display()))?;
    if network.input != split.test.shape() || network.classes != split.test.num_classes() {
        anyhow::bail!(
            "{} was trained on {}×{}×{} images with {} classes; {} has {}×{}×{} with {}",
            args.weights.display(),
            network.input.channels,
            network.input.height,
            network.input.width,
            network.classes,
            args.dataset,
            split.test.shape().channels,
            split.test.shape().height,
            split.test.shape().width,
            split.test.num_classes()
        );
    }
    let epsilon = args.eps.unwrap_or(args.dataset.info().epsilon);
    let started = web_time::Instant::now();
    let (metrics, accuracy_vs_epsilon) = evaluate(
        &model,
        epsilon,
        &args.curve,
        &split,
        &device,
        (args.eval_train > 0).then_some(args.eval_train),
        args.lipschitz_step,
    );
    let evaluation = Evaluation {
        dataset: args.dataset,
        architecture: network.architecture,
        dropout: network.dropout,
        epsilon,
        metrics,
        wall_seconds: started.elapsed().as_secs_f64(),
        accuracy_vs_epsilon,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&evaluation)?);
    } else {
        super::row::print_row(
            [
                &evaluation.dataset.to_string(),
                &evaluation.architecture.to_string(),
                "-",
            ],
            evaluation.dropout,
            &evaluation.metrics,
            evaluation.wall_seconds,
            &evaluation.accuracy_vs_epsilon,
        );
    }
    Ok(())
}

/// What `astute eval --json` prints: the weights' network, measured on a dataset.
#[derive(serde::Serialize)]
struct Evaluation {
    dataset: DatasetId,
    architecture: Architecture,
    dropout: f64,
    epsilon: f32,
    metrics: RunMetrics,
    wall_seconds: f64,
    accuracy_vs_epsilon: Vec<(f32, f64)>,
}
