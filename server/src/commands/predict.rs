//! `astute predict`: the logits of a weights file on the first test images, as JSON, for
//! comparing with another implementation (e.g. PyTorch, see docs/pytorch_interop.py).

use std::path::PathBuf;

use anyhow::Context;
use astute::batch::to_tensors;
use astute::data::DatasetId;
use astute::model::Classifier;

use super::data_dirs::DataArgs;
use crate::device::Backend;

#[derive(Debug, clap::Args)]
pub struct Args {
    weights: PathBuf,
    #[arg(long, short)]
    dataset: DatasetId,
    /// How many test images, from the first.
    #[arg(long, default_value_t = 16)]
    count: usize,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let device = args.backend.device()?;
    let split = args.data.load(args.dataset)?;
    let bytes = std::fs::read(&args.weights)
        .with_context(|| format!("reading {}", args.weights.display()))?;
    let (model, _) = astute::weights::from_bytes(bytes, None, &device)
        .with_context(|| format!("loading {}", args.weights.display()))?;
    let indices: Vec<usize> = (0..args.count.min(split.test.len())).collect();
    let (images, _) = to_tensors(&split.test, &indices, &device);
    let logits = model.forward(images);
    let [n, classes] = logits.dims();
    let values = logits
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let rows: Vec<&[f32]> = values.chunks(classes).take(n).collect();
    println!("{}", serde_json::to_string(&rows)?);
    Ok(())
}
