//! `astute attack`: robust accuracy under a seeded attack (PGD-10, APGD-CE or AutoAttack-lite)
//! on the first test images, computed by the same engine the browser playground runs, so the
//! two can be compared exactly.

use std::path::PathBuf;

use anyhow::Context;
use astute::data::DatasetId;
use astute_engine::Lab;
use astute_engine_api::CurveAttack;

use super::data_dirs::DataArgs;
use crate::device::Backend;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Safetensors weights written by `astute train --out`.
    weights: PathBuf,
    #[arg(long, short)]
    dataset: DatasetId,
    /// How many test images, from the first.
    #[arg(long, default_value_t = 100)]
    count: usize,
    /// Radii to attack at (0 = clean accuracy).
    #[arg(long, value_delimiter = ',', default_value = "0,0.1")]
    eps: Vec<f32>,
    /// pgd (PGD-10, step ε/5), apgd-ce, or apgd (APGD-CE then APGD-T).
    #[arg(long, default_value = "pgd", value_parser = parse_curve_attack)]
    attack: CurveAttack,
    /// Image i starts from a uniform point drawn from seed + i (as in the browser).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let split = args.data.load(args.dataset)?;
    let bytes = std::fs::read(&args.weights)
        .with_context(|| format!("reading {}", args.weights.display()))?;
    let lab = Lab::new(args.backend.device()?);
    let model = lab.load(bytes)?;
    let count = args.count.min(split.test.len());
    let per_image = split.test.shape().len();
    let pixels: Vec<f32> = split.test.images()[..count * per_image]
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    let labels: Vec<u8> = split.test.labels()[..count]
        .iter()
        .map(|&l| u8::try_from(l).context("labels above 255 are not supported"))
        .collect::<Result<_, _>>()?;
    let points = futures_executor::block_on(lab.curve(
        model,
        &pixels,
        &labels,
        &args.eps,
        args.attack,
        args.seed,
    ))?;
    println!("{}", serde_json::to_string_pretty(&points)?);
    Ok(())
}

fn parse_curve_attack(name: &str) -> Result<CurveAttack, String> {
    CurveAttack::parse(name)
        .ok_or_else(|| format!("unknown attack '{name}': choose pgd, apgd-ce or apgd"))
}
