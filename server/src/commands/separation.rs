//! `astute separation`: the exact distance from every point to the nearest training point
//! of another class (Section 3, Table 1, Figure 3 of the paper).

use std::path::PathBuf;

use anyhow::Context;
use astute::data::{Catalog, Dataset, DatasetId};
use astute::paper::PublishedSeparation;
use astute::separation::{Metric, ReportOptions, SeparationReport, Split};
use indicatif::{ProgressBar, ProgressStyle};

use super::data_dirs::DataArgs;
use super::search_args::SearchArgs;
use super::store_args::{StoreArgs, record};
use crate::separate::{dataset_epsilon, measure};
use astute_api::{SeparationRecord, Status};

use crate::provenance;
use crate::store::{now_ms, random_hex};

/// Which queries to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Splits {
    TrainTrain,
    TestTrain,
    Both,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, short)]
    dataset: DatasetId,
    #[arg(long, value_enum, default_value = "both")]
    split: Splits,
    /// Print the reports as JSON.
    #[arg(long)]
    json: bool,
    /// Write the histogram (Figure 3) as SVG.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// How many closest cross-class pairs and smallest distances to list.
    #[arg(long, default_value_t = 10)]
    top_k: usize,
    /// Also report the minimum after dropping this many smallest distances.
    #[arg(long, default_value_t = 0)]
    drop_smallest: usize,
    /// ε for the headline ratio r/ε (default: the dataset's).
    #[arg(long)]
    eps: Option<f64>,
    #[command(flatten)]
    search: SearchArgs,
    /// Do not record the measurement in the store (see `astute serve`).
    #[arg(long)]
    no_store: bool,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    data: DataArgs,
}

/// An indicatif bar for one search, on stderr.
pub(crate) fn search_bar(label: &str, total: usize) -> ProgressBar {
    let bar = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} queries ({elapsed}, eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}

/// Searches `queries` (or the training set itself for Train–Train) and summarises.
pub fn run(args: Args) -> anyhow::Result<()> {
    let data = args.data.load(args.dataset)?;
    let epsilon = args.eps.unwrap_or_else(|| dataset_epsilon(args.dataset));
    let options = args.search.options();
    let report_options = ReportOptions {
        top_k: args.top_k,
        drop_smallest: args.drop_smallest,
        epsilon: Some(epsilon),
        bins: 20,
    };
    let splits: &[Split] = match args.split {
        Splits::TrainTrain => &[Split::TrainTrain],
        Splits::TestTrain => &[Split::TestTrain],
        Splits::Both => &[Split::TrainTrain, Split::TestTrain],
    };
    let bars: Vec<(Split, ProgressBar)> = splits
        .iter()
        .map(|&split| {
            let total = match split {
                Split::TrainTrain => data.train.len(),
                Split::TestTrain => data.test.len(),
            };
            (split, search_bar(split.name(), total))
        })
        .collect();
    let progress = |split: Split, done: usize, _total: usize| {
        if let Some((_, bar)) = bars.iter().find(|(s, _)| *s == split) {
            bar.set_position(done as u64);
        }
    };
    let created_at = crate::store::now_ms();
    let measured = measure(&data, splits, &options, &report_options, &progress, None)?;
    for (_, bar) in &bars {
        bar.finish_and_clear();
    }
    let build_seconds = measured.index_seconds;
    let (reports, seconds): (Vec<SeparationReport>, Vec<f64>) = measured
        .splits
        .into_iter()
        .map(|m| (m.report, m.seconds))
        .unzip();
    if !args.no_store {
        let min_of = |split| reports.iter().find(|r| r.split == split).map(|r| r.min);
        let measurement = SeparationRecord {
            id: random_hex(8)?,
            dataset: args.dataset,
            metric: args.search.metric,
            status: Status::Done,
            created_at,
            finished_at: Some(now_ms()),
            error: None,
            min_train_train: min_of(Split::TrainTrain),
            min_test_train: min_of(Split::TestTrain),
            seconds: Some(build_seconds + seconds.iter().sum::<f64>()),
            reports: Some(reports.clone()),
            provenance: provenance::of_this_process("cpu"),
            scale: None,
            progress: None,
        };
        record(&args.store, async |store| {
            store.record_separation(&measurement).await
        })?;
        eprintln!("recorded as separation {} in the store", measurement.id);
    }
    if let Some(path) = &args.svg {
        let refs: Vec<&SeparationReport> = reports.iter().collect();
        let title = format!(
            "{}: {} separation",
            args.dataset.info().title,
            args.search.metric.symbol()
        );
        let svg = astute::plot::separation_histogram_svg(&refs, &title)?;
        std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
    }
    // The paper's Table 1 measures ℓ∞ only.
    let published = match args.search.metric {
        Metric::Linf => astute::paper::published().separation_of(args.dataset),
        Metric::L2 => None,
    };
    if args.json {
        let out = serde_json::json!({
            "dataset": args.dataset.id(),
            "metric": args.search.metric,
            "epsilon": epsilon,
            "kernel": args.search.kernel_name(),
            "index_seconds": build_seconds,
            "search_seconds": seconds,
            "reports": reports,
            "paper_table1": published,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{} ({} train, {} test), {} distance, ε = {epsilon}, kernel {}",
        args.dataset.info().title,
        data.train.len(),
        data.test.len(),
        args.search.metric,
        args.search.kernel_name()
    );
    for (report, s) in reports.iter().zip(&seconds) {
        print_report(report, &data.train, &data.test, *s, published);
    }
    Ok(())
}

fn print_report(
    report: &SeparationReport,
    train: &Dataset,
    test: &Dataset,
    seconds: f64,
    published: Option<&PublishedSeparation>,
) {
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|d| format!("{d:.4}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!();
    println!(
        "{} ({} queries, {seconds:.2} s)",
        report.split, report.queries
    );
    println!(
        "  min {:.4}  mean {:.4}  median {:.4}  max {:.4}",
        report.min, report.mean, report.median, report.max
    );
    if let Some(paper) = published {
        let min = match report.split {
            Split::TrainTrain => paper.min_train_train,
            Split::TestTrain => paper.min_test_train,
        };
        println!("  the paper's Table 1: min {min:.3}");
    }
    println!("  smallest: {}", fmt(&report.smallest));
    if report.drop_smallest > 0 {
        println!(
            "  min after dropping the {} smallest: {:.4}",
            report.drop_smallest, report.min_after_drop
        );
    }
    if let (Some(eps), Some(ratio)) = (report.epsilon, report.separation_over_epsilon) {
        println!(
            "  separation r = min/2 = {:.4}; r/ε = {ratio:.2} (ε = {eps})",
            report.separation
        );
    }
    let bars: Vec<String> = report
        .histogram
        .fractions
        .iter()
        .map(|f| format!("{:.3}", f))
        .collect();
    println!(
        "  histogram on [{}, {}] (20 bins): {}",
        report.histogram.lo,
        report.histogram.hi,
        bars.join(" ")
    );
    let queries = match report.split {
        Split::TrainTrain => train,
        Split::TestTrain => test,
    };
    println!("  closest cross-class pairs:");
    for p in &report.closest_pairs {
        println!(
            "    {} #{} ({}) – train #{} ({}): {:.4}",
            if report.split == Split::TrainTrain {
                "train"
            } else {
                "test"
            },
            p.query_index,
            queries.class_names()[usize::from(p.query_label)],
            p.train_index,
            train.class_names()[usize::from(p.train_label)],
            p.distance
        );
    }
}
