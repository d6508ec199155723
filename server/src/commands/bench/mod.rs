//! `astute bench`: Astute's CNN2 training steps (natural, AT, TRADES), the evaluation
//! protocol and WRN-16-4 steps, then the PyTorch reference on the same machine in the same
//! invocation (when `python3` imports `torch`), each figure with its ratio; and the natural
//! CNN2 step's arithmetic rate against the machine's peak.
//!
//! Shared machines are noisy: every figure is the median of `--rounds` measurements, and
//! each round measures Astute and then PyTorch, so both see the same conditions.

mod peak;
mod steps;
mod torch;

use astute::data::ImageShape;
use astute::method::Method;
use astute::model::Architecture;
use astute::ops::{self, Kernels};

use crate::device::Backend;
use steps::Steps;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// CNN2 training steps: natural, AT (PGD-10), TRADES (10 steps).
    Train,
    /// The evaluation protocol (clean + PGD-10 + Eq. (3)) of a CNN2.
    Eval,
    /// WRN-16-4 training steps on 32×32×3: natural and AT.
    Wrn,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which benchmarks to run (comma-separated; all by default).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Part>,
    /// Measurements of each figure; the median is reported.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Timed CNN2 steps of AT and TRADES (natural runs five times as many), as the
    /// reference's `--steps`.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Images of the evaluation benchmark.
    #[arg(long, default_value_t = 2000)]
    eval_images: usize,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// Convolutions and pooling on the CPU with burn's own kernels instead of Astute's
    /// (the figures before Astute had its own).
    #[arg(long)]
    burn_kernels: bool,
    /// Leave the PyTorch reference out.
    #[arg(long)]
    no_torch: bool,
}

/// One benchmark's figure for Astute and for PyTorch, over the rounds.
struct Row {
    name: String,
    astute: Vec<f64>,
    torch: Vec<f64>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.rounds > 0, "--rounds must be at least 1");
    anyhow::ensure!(
        args.batch > 0 && args.steps > 0,
        "--batch and --steps must be at least 1"
    );
    let device = args.backend.device()?;
    device.seed(0);
    if args.burn_kernels {
        ops::select(Kernels::Burn);
    }
    let threads = rayon::current_num_threads();
    let torch_folder = if args.no_torch {
        None
    } else {
        match torch::version() {
            Ok(version) => {
                let folder = tempfile::tempdir()?;
                torch::write_scripts(folder.path())?;
                println!("PyTorch {version}, {threads} threads, beside Astute");
                Some(folder)
            }
            Err(why) => {
                println!("PyTorch left out: {why}");
                None
            }
        }
    };
    let kernels = match ops::selected() {
        Kernels::Astute => "Astute's CPU kernels",
        Kernels::Burn => "burn's CPU kernels",
    };
    println!(
        "Astute on {:?} ({kernels}), {threads} threads, batch {}, median of {} rounds\n",
        args.backend, args.batch, args.rounds
    );
    let wanted = |part| args.only.is_empty() || args.only.contains(&part);
    let mut rows: Vec<Row> = Vec::new();
    let mut row = |name: String, astute: f64, torch: Option<f64>| match rows
        .iter_mut()
        .find(|r| r.name == name)
    {
        Some(r) => {
            r.astute.push(astute);
            r.torch.extend(torch);
        }
        None => rows.push(Row {
            name,
            astute: vec![astute],
            torch: torch.into_iter().collect(),
        }),
    };
    for round in 1..=args.rounds {
        eprintln!("round {round} of {}", args.rounds);
        if wanted(Part::Train) {
            let cnn2 = |method, steps| Steps {
                architecture: Architecture::Cnn2,
                input: ImageShape::new(1, 28, 28),
                method,
                epsilon: 0.1,
                batch: args.batch,
                warm_up: 3,
                steps,
            };
            let natural = cnn2(Method::Natural, args.steps * 5).run(&device)?;
            let at = cnn2(Method::At, args.steps).run(&device)?;
            let trades = cnn2(Method::Trades { beta: 6.0 }, args.steps).run(&device)?;
            let reference = match &torch_folder {
                Some(folder) => torch::training(folder.path(), threads, args.batch, args.steps)?,
                None => torch::Figures::default(),
            };
            let batch = args.batch;
            row(
                format!("CNN2 step, natural (batch {batch})"),
                natural,
                reference.natural,
            );
            row(
                format!("CNN2 step, AT PGD-10 (batch {batch})"),
                at,
                reference.at,
            );
            row(
                format!("CNN2 step, TRADES 10 (batch {batch})"),
                trades,
                reference.trades,
            );
        }
        if wanted(Part::Eval) {
            let astute = steps::evaluation(&device, args.eval_images)?;
            let reference = match &torch_folder {
                Some(folder) => torch::evaluation(folder.path(), threads, args.eval_images)?,
                None => None,
            };
            let name = format!("CNN2 evaluation, {} images", args.eval_images);
            row(name, astute, reference);
        }
        if wanted(Part::Wrn) {
            let wrn = |method, warm_up, steps| Steps {
                architecture: Architecture::WRN_CPU,
                input: ImageShape::new(3, 32, 32),
                method,
                epsilon: 0.031,
                batch: 64,
                warm_up,
                steps,
            };
            let natural = wrn(Method::Natural, 1, 5).run(&device)?;
            let at = wrn(Method::At, 1, 2).run(&device)?;
            let reference = match &torch_folder {
                Some(folder) => torch::wrn(folder.path(), threads)?,
                None => torch::Figures::default(),
            };
            row(
                "WRN-16-4 step, natural (batch 64)".into(),
                natural,
                reference.natural,
            );
            row(
                "WRN-16-4 step, AT PGD-10 (batch 64)".into(),
                at,
                reference.at,
            );
        }
    }
    print_table(&rows, torch_folder.is_some());
    if let Some(natural) = rows
        .iter()
        .find(|r| r.name.starts_with("CNN2 step, natural"))
    {
        let achieved = median(&natural.astute) * peak::cnn2_step_flops() / 1e9;
        print!(
            "\nCNN2 natural step: {achieved:.1} GFLOP/s ({:.1} MFLOP per image)",
            peak::cnn2_step_flops() / 1e6
        );
        match peak::fma_peak() {
            Some((peak, isa)) => println!(
                ", {:.0} % of the machine's peak of {peak:.1} GFLOP/s ({isa} fused multiply–adds on all {threads} threads, measured)",
                100.0 * achieved / peak
            ),
            None => println!(" (no peak measurement for this CPU)"),
        }
    }
    Ok(())
}

fn print_table(rows: &[Row], with_torch: bool) {
    println!(
        "{:<40} {:>14} {:>14} {:>8}",
        "benchmark", "Astute", "PyTorch", "ratio"
    );
    for row in rows {
        let astute = median(&row.astute);
        let (torch, ratio) = if with_torch && !row.torch.is_empty() {
            let torch = median(&row.torch);
            (
                format!("{torch:.1} img/s"),
                format!("{:.2}×", astute / torch),
            )
        } else {
            ("–".into(), "–".into())
        };
        println!(
            "{:<40} {:>14} {torch:>14} {ratio:>8}",
            row.name,
            format!("{astute:.1} img/s")
        );
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}
