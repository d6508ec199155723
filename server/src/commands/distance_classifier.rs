//! `astute distance-classifier`: the classifier of Theorem 4.2 on a test set, with clean
//! accuracy and certified astuteness, exact and attack-free; for 2-D data also the binary
//! function of Theorem 4.4 on a grid (the heat map of Figure 4).

use std::path::PathBuf;

use anyhow::Context;
use astute::data::{Catalog, DatasetId};
use astute::separation::{Control, decision_grid, distance_classifier};

use super::data_dirs::DataArgs;
use super::search_args::SearchArgs;
use super::separation::search_bar;
use crate::separate::dataset_epsilon;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, short)]
    dataset: DatasetId,
    /// Radii at which to certify astuteness, comma-separated (default: the dataset's ε).
    #[arg(long, value_delimiter = ',')]
    eps: Vec<f64>,
    /// For 2-D data: grid points per side of the heat map of f.
    #[arg(long, default_value_t = 101)]
    grid: usize,
    /// For 2-D data: write the heat map of f as SVG.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Include the predictions (and for 2-D data the grid values) in the JSON output.
    #[arg(long)]
    full: bool,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    search: SearchArgs,
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let data = args.data.load(args.dataset)?;
    let eps = if args.eps.is_empty() {
        vec![dataset_epsilon(args.dataset)]
    } else {
        args.eps.clone()
    };
    let options = args.search.options();
    let bar = search_bar("test-train", data.test.len());
    let progress = |done: usize, _total: usize| bar.set_position(done as u64);
    let control = Control {
        progress: Some(&progress),
        cancel: None,
    };
    let started = std::time::Instant::now();
    let mut report = distance_classifier(&data.train, &data.test, &eps, &options, &control)?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let grid = if data.train.shape().len() == 2 {
        Some(decision_grid(
            &data.train,
            args.grid,
            &options,
            &Control::default(),
        )?)
    } else {
        None
    };
    if let (Some(grid), Some(path)) = (&grid, &args.svg) {
        let points: Vec<(f64, f64, u16)> = (0..data.train.len())
            .map(|i| {
                let p = data.train.image(i);
                (
                    f64::from(p[0]) / 255.0,
                    f64::from(p[1]) / 255.0,
                    data.train.labels()[i],
                )
            })
            .collect();
        let title = format!(
            "{}: f of Theorem 4.4 (r = {:.4})",
            args.dataset.info().title,
            grid.separation
        );
        let svg = astute::plot::decision_grid_svg(grid, &points, &title)?;
        std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
    } else if args.svg.is_some() {
        anyhow::bail!("--svg draws the heat map of f, which needs 2-D data such as the spiral");
    }
    if args.json {
        if !args.full {
            report.predictions.clear();
        }
        let grid_json = grid.map(|mut g| {
            if !args.full {
                g.values.clear();
                g.xs.clear();
                g.ys.clear();
            }
            g
        });
        let out = serde_json::json!({
            "dataset": args.dataset.id(),
            "seconds": seconds,
            "report": report,
            "decision_grid": grid_json,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{}: distance classifier ({}), {} training points, {} test points, {seconds:.2} s",
        args.dataset.info().title,
        args.search.metric,
        report.train,
        report.test
    );
    println!(
        "clean accuracy {:.4} ({}/{})",
        report.clean_accuracy, report.correct, report.test
    );
    for c in &report.certified {
        println!(
            "certified astuteness at ε = {}: {:.4} ({}/{})",
            c.epsilon, c.astuteness, c.astute, report.test
        );
    }
    if let Some(g) = &grid {
        let positive = g.values.iter().filter(|&&v| v > 0.0).count();
        println!(
            "f of Theorem 4.4 on a {0}×{0} grid: r = {1:.4}, f > 0 (class 1) on {2} of {3} points, |f| ≥ 1 on {4}",
            g.resolution,
            g.separation,
            positive,
            g.values.len(),
            g.values.iter().filter(|v| v.abs() >= 1.0).count()
        );
    }
    Ok(())
}
