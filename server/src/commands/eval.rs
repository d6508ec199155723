//! `astute eval`: a weights file evaluated as a row of the paper's tables, or under chosen
//! attacks; a stored run's weights evaluated under attacks gain those columns in the store.

use std::path::PathBuf;

use anyhow::Context;
use astute::data::{Catalog, DatasetId};
use astute::metric::LipschitzStep;
use astute::model::{Architecture, NetworkConfig};

use super::data_dirs::DataArgs;
use super::store_args::{StoreArgs, record};
use super::train::parse_lipschitz_step;
use crate::artifacts::Kind;
use crate::device::Backend;
use crate::execute::evaluate;
use astute::api::{AttackName, MaskingFlag, RobustEvaluation};
use astute::attack::eval_copy;
use astute::burn::prelude::Device;
use astute::data::Dataset;
use astute::metric::{ATTACK_BATCH, EvalProtocol, RobustProtocol, RunMetrics, accuracy, masking};
use astute::model::Network;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Safetensors weights written by `astute train --out` (or a PyTorch export with --arch);
    /// with --run, the run's own weights when left out.
    weights: Option<PathBuf>,
    /// The dataset to evaluate on; with --run, the run's when left out.
    #[arg(long, short)]
    dataset: Option<DatasetId>,
    /// Evaluate stored run ID under --attack and add the results to it in the store: its
    /// page and the tables gain those columns.
    #[arg(long, value_name = "ID", requires = "attack")]
    run: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
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
    /// Also measure test accuracy under PGD-10 at each of these radii (e.g. 0,0.05,0.1,0.2);
    /// with --attack, under each of those attacks.
    #[arg(long, value_delimiter = ',', value_parser = parse_radius)]
    curve: Vec<f32>,
    /// Measure robust test accuracy under these attacks instead of the paper's row:
    /// pgd[:steps[:restarts]], fgsm, mt, apgd-ce, apgd-t, fab-t, square, apgd (APGD-CE
    /// then APGD-T) or autoattack (APGD-CE, APGD-T, FAB-T, Square), several at once. PGD
    /// draws its starts from the seed too.
    #[arg(long, value_delimiter = ',')]
    attack: Vec<AttackName>,
    /// With --attack: the first N test images only (0 = all).
    #[arg(long, default_value_t = 0)]
    test_images: usize,
    /// With --attack: run every gradient-masking check on those images (without it, the
    /// cheap checks run, and the others where their attacks were asked for).
    #[arg(long)]
    masking: bool,
    /// Seed of every random start and search: image k of a set draws from seed + k (a
    /// stored run's row was measured with the run's seed).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Images per batch of the paper's row; the row does not depend on it.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    batch_size: u32,
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

/// The weights file, the dataset and the stored run (if any) an evaluation is of.
struct Target {
    weights: PathBuf,
    /// A stored run's weights fetched from the lab's artifact store, removed when done.
    _fetched: Option<tempfile::TempPath>,
    dataset: DatasetId,
    run: Option<String>,
    /// The stored run's ε: the default radius, and the only one whose masking checks are
    /// stored with it.
    run_epsilon: Option<f32>,
}

/// What `args` evaluate: a weights file on a dataset, or a stored run (its weights and
/// dataset unless given).
fn target(args: &Args) -> anyhow::Result<Target> {
    let Some(id) = &args.run else {
        return match (&args.weights, args.dataset) {
            (Some(weights), Some(dataset)) => Ok(Target {
                weights: weights.clone(),
                _fetched: None,
                dataset,
                run: None,
                run_epsilon: None,
            }),
            _ => anyhow::bail!("give a WEIGHTS file and --dataset, or --run ID"),
        };
    };
    let (mut dataset, mut run_epsilon, mut fetched) = (None, None, None);
    record(&args.store, async |store| {
        let run = store
            .run(id)
            .await?
            .with_context(|| format!("no run {id} in the store"))?;
        let result = run
            .result
            .with_context(|| format!("run {id} is {} and has no result yet", run.summary.status))?;
        dataset = Some(result.dataset);
        run_epsilon = Some(result.epsilon);
        if args.weights.is_none() {
            let file = tempfile::NamedTempFile::new()?.into_temp_path();
            let found = args
                .store
                .artifacts(store)
                .fetch(id, Kind::Weights, &file)
                .await?;
            anyhow::ensure!(
                found,
                "run {id} has no stored weights (a run finished before this store kept them \
                 stays on the machine that trained it: give the file as WEIGHTS)"
            );
            fetched = Some(file);
        }
        Ok(())
    })?;
    let weights = match (&args.weights, &fetched) {
        (Some(weights), _) => weights.clone(),
        (None, fetched) => fetched
            .as_deref()
            .context("the run's weights were fetched")?
            .to_owned(),
    };
    Ok(Target {
        weights,
        _fetched: fetched,
        dataset: args.dataset.or(dataset).context("the run has a dataset")?,
        run: Some(id.clone()),
        run_epsilon,
    })
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let target = target(&args)?;
    let device = args.backend.device()?.autodiff();
    let split = args.data.load(target.dataset)?;
    let bytes = std::fs::read(&target.weights)
        .with_context(|| format!("reading {}", target.weights.display()))?;
    let fallback = args.arch.map(|architecture| NetworkConfig {
        architecture,
        input: split.train.shape(),
        classes: split.train.num_classes(),
        dropout: 0.0,
    });
    let (model, network) = astute::weights::from_bytes(bytes, fallback, &device)
        .with_context(|| format!("loading {}", target.weights.display()))?;
    if network.input != split.test.shape() || network.classes != split.test.num_classes() {
        anyhow::bail!(
            "{} was trained on {}×{}×{} images with {} classes; {} has {}×{}×{} with {}",
            target.weights.display(),
            network.input.channels,
            network.input.height,
            network.input.width,
            network.classes,
            target.dataset,
            split.test.shape().channels,
            split.test.shape().height,
            split.test.shape().width,
            split.test.num_classes()
        );
    }
    let epsilon = args
        .eps
        .or(target.run_epsilon)
        .unwrap_or(target.dataset.info().epsilon);
    if !args.attack.is_empty() || args.masking {
        return attacks(
            &args,
            &target,
            &eval_copy(&model),
            &split.test,
            epsilon,
            &device,
        );
    }
    let started = web_time::Instant::now();
    let protocol = EvalProtocol {
        lipschitz_step: args.lipschitz_step,
        train_images: (args.eval_train > 0).then_some(args.eval_train),
        batch_size: args.batch_size as usize,
        seed: args.seed,
        ..EvalProtocol::paper(epsilon)
    };
    let (metrics, accuracy_vs_epsilon) = evaluate(&model, &protocol, &args.curve, &split, &device);
    let evaluation = Evaluation {
        dataset: target.dataset,
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

/// Robust accuracy on (the first images of) `test` under each attack of `args`, with the
/// time each took, and the gradient-masking checks (all of them with `--masking`); added to
/// the stored run when there is one.
fn attacks(
    args: &Args,
    target: &Target,
    model: &Network,
    test: &Dataset,
    epsilon: f32,
    device: &Device,
) -> anyhow::Result<()> {
    let data = if args.test_images > 0 {
        test.take(args.test_images)
    } else {
        test.clone()
    };
    let clean = accuracy(model, &data, ATTACK_BATCH, device);
    if !args.json {
        println!(
            "{:<12} {:>8.2} %   ({} test images of {}, ε = {epsilon}, seed {})",
            "clean",
            clean,
            data.len(),
            target.dataset,
            args.seed
        );
    }
    let protocol = RobustProtocol {
        attacks: args.attack.clone(),
        images: Some(data.len()),
        epsilon,
        seed: args.seed,
    };
    // The run's ε first, then the curve's other radii, each under every attack.
    let mut radii = vec![epsilon];
    for &radius in &args.curve {
        if radius > 0.0 && !radii.contains(&radius) {
            radii.push(radius);
        }
    }
    let mut measured = Vec::new();
    for radius in radii {
        let at_radius = RobustProtocol {
            epsilon: radius,
            ..protocol.clone()
        };
        measured.extend(at_radius.run(model, &data, device, |evaluation| {
            if !args.json {
                println!(
                    "{:<12} {:>8.2} % {:>9.1} s{}",
                    evaluation.attack.to_string(),
                    evaluation.accuracy,
                    evaluation.seconds,
                    if radius == epsilon {
                        String::new()
                    } else {
                        format!("   at ε = {radius}")
                    }
                );
            }
        }));
    }
    let depth = if args.masking {
        masking::Depth::Full
    } else {
        masking::Depth::Quick
    };
    let flags = protocol.masking(model, &data, device, &measured, depth);
    if !args.json {
        super::row::print_masking(&flags);
    }
    if let Some(id) = &target.run {
        // Checks at another radius than the run's would stand for it on its page.
        let stored_flags = if target.run_epsilon == Some(epsilon) {
            flags.clone()
        } else {
            Vec::new()
        };
        record(&args.store, async |store| {
            store.add_robust(id, &measured, stored_flags).await
        })?;
        if !args.json {
            println!("added to run {id}");
        }
    }
    if args.json {
        let report = AttackReport {
            dataset: target.dataset,
            run: target.run.clone(),
            clean_accuracy: clean,
            robust: measured,
            masking: flags,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

/// What `astute eval --attack ... --json` prints.
#[derive(serde::Serialize)]
struct AttackReport {
    dataset: DatasetId,
    /// The stored run the results were added to.
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<String>,
    clean_accuracy: f64,
    robust: Vec<RobustEvaluation>,
    masking: Vec<MaskingFlag>,
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
