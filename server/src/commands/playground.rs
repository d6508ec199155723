//! `astute playground`: the pretrained models and sample images the browser playground
//! ships (`static/playground/`). Each model is one `astute train --half` run, written as
//! `models/ID.safetensors` with its result row as `models/ID.json`; a model whose two
//! files exist and whose command in the manifest is the one planned is kept, so the
//! command resumes and retrains only what is missing or planned otherwise. A kept model
//! stored in full precision is rounded to half and measured again as stored.

use std::path::{Path, PathBuf};

use anyhow::Context;
use astute::api::{AttackName, Budget, ExperimentSpec, Optimizer};
use astute::data::{Catalog, DatasetId, idx};
use astute::method::Method;
use astute::metric::{EvalProtocol, LipschitzStep};
use astute::model::Architecture;
use astute::weights::Precision;
use astute_engine_api::{ModelEntry, PlaygroundManifest, SampleSet};

use super::data_dirs::DataArgs;
use super::progress::TrainProgress;
use crate::device::Backend;
use crate::execute::{Execution, evaluate, execute};
use astute_api::RunResult;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The playground folder the site serves.
    #[arg(long, default_value = "static/playground")]
    out: PathBuf,
    /// Test images shipped per dataset (the first N of its test set).
    #[arg(long, default_value_t = 300)]
    samples: usize,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// Train only the models whose id starts with one of these (`fashion-mnist-natural`);
    /// the others stay as the manifest has them.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    #[command(flatten)]
    data: DataArgs,
}

const DATASETS: [DatasetId; 2] = [DatasetId::MnistSample, DatasetId::FashionMnist];
const METHODS: [&str; 3] = ["natural", "at", "trades:6"];
const DROPOUTS: [f64; 2] = [0.0, 0.5];
/// Epochs over each dataset's whole training set.
const EPOCHS: usize = 5;
/// Training images the train-set metrics are measured on (the first N).
const EVAL_TRAIN: usize = 10_000;
/// Test images AutoAttack is measured on (the first N).
const AUTOATTACK_IMAGES: usize = 200;

/// One shipped model: what to train and where it goes.
struct Planned {
    id: String,
    dataset: DatasetId,
    method: String,
    dropout: f64,
}

impl Planned {
    fn all() -> Vec<Self> {
        let mut all = Vec::new();
        for dataset in DATASETS {
            for method in METHODS {
                for dropout in DROPOUTS {
                    let id = format!(
                        "{dataset}-{}-{}",
                        method.replace(':', ""),
                        if dropout > 0.0 { "dropout" } else { "plain" }
                    );
                    all.push(Self {
                        id,
                        dataset,
                        method: method.to_string(),
                        dropout,
                    });
                }
            }
        }
        all
    }

    /// The `astute train` command that trains the same model.
    fn command(&self) -> anyhow::Result<String> {
        let spec = self.spec()?;
        let option = |name: &str, value: Option<String>| {
            value.map_or_else(String::new, |v| format!(" --{name} {v}"))
        };
        Ok(format!(
            "astute train -d {} --arch cnn2 -m {} --dropout {}{}{}{}{}{}{}{}{}{} --seed 0 --no-store --json \
             --half --out models/{id}.safetensors > models/{id}.json",
            self.dataset,
            self.method,
            self.dropout,
            option("epochs", spec.epochs.map(|v| v.to_string())),
            option("subset", spec.subset.map(|v| v.to_string())),
            option("eval-train", spec.eval_train.map(|v| v.to_string())),
            option("batch-size", spec.batch_size.map(|v| v.to_string())),
            option("optimizer", spec.optimizer.map(|v| v.to_string())),
            option("lr", spec.learning_rate.map(|v| v.to_string())),
            option("warmup-epochs", spec.warmup_epochs.map(|v| v.to_string())),
            option(
                "attack",
                (!spec.attacks.is_empty()).then(|| {
                    let names: Vec<String> = spec.attacks.iter().map(|a| a.to_string()).collect();
                    names.join(",")
                })
            ),
            option("attack-images", spec.attack_images.map(|v| v.to_string())),
            id = self.id
        ))
    }

    /// Every model: CNN2 on the dataset's whole training set for [`EPOCHS`] epochs with
    /// Adam at 1e-3 and a one-epoch warm-up (the CPU scale's schedule, which trains every
    /// method), AutoAttack on the first [`AUTOATTACK_IMAGES`] test images.
    fn spec(&self) -> anyhow::Result<ExperimentSpec> {
        let method: Method = self.method.parse().map_err(anyhow::Error::msg)?;
        Ok(ExperimentSpec {
            architecture: Some(Architecture::Cnn2),
            dropout: self.dropout,
            epochs: Some(EPOCHS),
            optimizer: Some(Optimizer::Adam),
            warmup_epochs: Some(1),
            eval_train: Some(EVAL_TRAIN),
            attacks: vec![AttackName::AutoAttack],
            attack_images: Some(AUTOATTACK_IMAGES),
            ..ExperimentSpec::new(self.dataset, method)
        })
    }
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Trains `planned` unless its weights and row are already there and were made by the
/// planned command (`made_by`, from the manifest); returns the row and the size of the
/// weights.
fn model(
    planned: &Planned,
    made_by: Option<&str>,
    models: &Path,
    args: &Args,
) -> anyhow::Result<(RunResult, u64)> {
    let weights = models.join(format!("{}.safetensors", planned.id));
    let row_path = models.join(format!("{}.json", planned.id));
    let command = planned.command()?;
    if made_by != Some(command.as_str()) {
        eprintln!("{}: planned with another command", planned.id);
    } else if let (Ok(bytes), Ok(text)) = (std::fs::read(&weights), std::fs::read(&row_path)) {
        let row: RunResult = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a result row", row_path.display()))?;
        if Precision::of(&bytes)? == Precision::Half {
            eprintln!("{}: kept", planned.id);
            return Ok((row, bytes.len() as u64));
        }
        return halve(planned, bytes, row, (&weights, &row_path), args);
    }
    eprintln!("{}: training ({command})", planned.id);
    let split = args.data.load(planned.dataset)?;
    let spec = planned.spec()?;
    let mut progress = TrainProgress::new(true);
    let executed = execute(
        &spec,
        &split,
        &args.backend.device()?,
        Execution {
            checkpoint_dir: None,
            on_event: &mut |e| progress.observe(e),
            cancel: None,
            eval_train: spec.eval_train,
            lipschitz_step: LipschitzStep::FifthOfEpsilon,
            precision: Precision::Half,
            budget: Budget::DEFAULT,
        },
        |epsilon| eprintln!("evaluating (PGD-10 and local Lipschitz at ε = {epsilon}) ..."),
    )?;
    progress.finish();
    write(&weights, &executed.weights)?;
    write(
        &row_path,
        serde_json::to_string_pretty(&executed.result)?.as_bytes(),
    )?;
    Ok((executed.result, executed.weights.len() as u64))
}

/// Rounds a kept full-precision model to half precision and measures the rounded
/// weights with the protocol its training used, so its row describes the file shipped.
fn halve(
    planned: &Planned,
    full: Vec<u8>,
    row: RunResult,
    (weights, row_path): (&Path, &Path),
    args: &Args,
) -> anyhow::Result<(RunResult, u64)> {
    eprintln!(
        "{}: storing in half precision and measuring again ...",
        planned.id
    );
    let device = args.backend.device()?.autodiff();
    let (model, network) = astute::weights::from_bytes(full, None, &device)?;
    let half = astute::weights::to_bytes(&model, &network, Precision::Half)?;
    let (rounded, _) = astute::weights::from_bytes(half.clone(), None, &device)?;
    let spec = planned.spec()?;
    let split = args.data.load(planned.dataset)?;
    let protocol = EvalProtocol {
        train_images: spec.eval_train,
        seed: spec.seed,
        ..EvalProtocol::paper(row.epsilon)
    };
    let (metrics, accuracy_vs_epsilon) =
        evaluate(&rounded, &protocol, &spec.curve, &split, &device);
    let (before, after) = (&row.metrics.test, &metrics.test);
    eprintln!(
        "{}: test accuracy {:.2} → {:.2} %, PGD-10 {:.2} → {:.2} %, Lipschitz {:.2} → {:.2}",
        planned.id,
        before.accuracy,
        after.accuracy,
        before.adversarial_accuracy,
        after.adversarial_accuracy,
        before.lipschitz,
        after.lipschitz
    );
    // The further attacks and masking checks were measured on the full-precision weights:
    // left out rather than shown for the rounded ones.
    let row = RunResult {
        metrics,
        accuracy_vs_epsilon,
        robust: Vec::new(),
        masking: Vec::new(),
        ..row
    };
    write(weights, &half)?;
    write(row_path, serde_json::to_string_pretty(&row)?.as_bytes())?;
    Ok((row, half.len() as u64))
}

/// The first `count` test images of `dataset` as an IDX pair beside the manifest.
fn samples(dataset: DatasetId, args: &Args) -> anyhow::Result<SampleSet> {
    let split = args.data.load(dataset)?;
    let test = &split.test;
    let count = args.samples.min(test.len());
    let shape = test.shape();
    let per_image = shape.len();
    let labels: Vec<u8> = test.labels()[..count]
        .iter()
        .map(|&l| u8::try_from(l).context("a label above 255 does not fit IDX"))
        .collect::<Result<_, _>>()?;
    let images = format!("samples/{dataset}-images.idx");
    let labels_file = format!("samples/{dataset}-labels.idx");
    write(
        &args.out.join(&images),
        &idx::encode_images(
            count as u32,
            shape.height as u32,
            shape.width as u32,
            &test.images()[..count * per_image],
        ),
    )?;
    write(&args.out.join(&labels_file), &idx::encode_labels(&labels))?;
    let info = dataset.info();
    Ok(SampleSet {
        dataset: dataset.to_string(),
        title: info.title.to_string(),
        class_names: test.class_names().to_vec(),
        shape: [shape.channels, shape.height, shape.width],
        count,
        images,
        labels: labels_file,
        epsilon: info.epsilon,
    })
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let planned_all = Planned::all();
    let chosen = |planned: &Planned| {
        args.only.is_empty()
            || args
                .only
                .iter()
                .any(|prefix| planned.id.starts_with(prefix))
    };
    if !planned_all.iter().any(chosen) {
        anyhow::bail!(
            "no model's id starts with {}; the ids are {}",
            args.only.join(" or "),
            planned_all
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let models = args.out.join("models");
    for dir in [&models, &args.out.join("samples")] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let path = args.out.join("manifest.json");
    // What made the models there now, when a manifest says. The manifest is written after
    // every model, with the earlier entries of those not yet done, so an interrupted run
    // keeps what it trained.
    let previous: Vec<ModelEntry> = std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<PlaygroundManifest>(&bytes).ok())
        .map(|m| m.models)
        .unwrap_or_default();
    let mut manifest = PlaygroundManifest {
        samples: Vec::new(),
        models: Vec::new(),
    };
    for dataset in DATASETS {
        manifest.samples.push(samples(dataset, &args)?);
    }
    for (done, planned) in planned_all.iter().enumerate() {
        let earlier = previous.iter().find(|e| e.id == planned.id);
        if !chosen(planned) {
            manifest.models.extend(earlier.cloned());
            continue;
        }
        let made_by = earlier.map(|e| e.command.as_str());
        let (row, bytes) = model(planned, made_by, &models, &args)?;
        let test = row.metrics.test;
        let autoattack = row.robust_accuracy(AttackName::AutoAttack);
        manifest.models.push(ModelEntry {
            id: planned.id.clone(),
            dataset: planned.dataset.to_string(),
            architecture: row.architecture.to_string(),
            method: planned.method.clone(),
            dropout: planned.dropout,
            weights: format!("models/{}.safetensors", planned.id),
            bytes,
            test_accuracy: test.accuracy,
            test_adversarial_accuracy: test.adversarial_accuracy,
            test_lipschitz: test.lipschitz,
            test_images: test.images,
            test_autoattack_accuracy: autoattack.map(|a| a.accuracy),
            autoattack_images: autoattack.map(|a| a.images),
            epsilon: row.epsilon,
            command: planned.command()?,
        });
        let not_yet = planned_all[done + 1..]
            .iter()
            .filter_map(|p| previous.iter().find(|e| e.id == p.id).cloned());
        let so_far = PlaygroundManifest {
            samples: manifest.samples.clone(),
            models: manifest.models.iter().cloned().chain(not_yet).collect(),
        };
        write(&path, serde_json::to_string_pretty(&so_far)?.as_bytes())?;
    }
    eprintln!(
        "{}: {} models, {} sample sets",
        path.display(),
        manifest.models.len(),
        manifest.samples.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::{Cli, Command};
    use super::*;

    /// The command the manifest shows for a model is the one that trains it: parsed as
    /// `astute train` flags, it asks for the model's spec.
    #[test]
    fn each_models_command_asks_for_its_spec() {
        for planned in Planned::all() {
            let command = planned.command().unwrap();
            let words = command.split(" > ").next().unwrap().split_whitespace();
            let Command::Train(args) = Cli::try_parse_from(words).unwrap().command else {
                panic!("{command} is not astute train");
            };
            assert_eq!(args.spec(), planned.spec().unwrap(), "{command}");
        }
    }
}
