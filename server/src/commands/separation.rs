//! `astute separation`: the exact distance from every point to the nearest training point
//! of another class (Section 3, Table 1, Figure 3 of the paper).

use std::path::PathBuf;

use anyhow::Context;
use astute::data::{Dataset, DatasetId};
use astute::paper::PublishedSeparation;
use astute::separation::{
    Control, Index, Metric, ReportOptions, SearchOptions, SeparationReport, Split, check_classes,
    check_pair,
};
use indicatif::{ProgressBar, ProgressStyle};

use super::data_dirs::DataArgs;
use super::search_args::SearchArgs;

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
    #[command(flatten)]
    data: DataArgs,
}

/// The dataset's ε as the decimal the catalog gives (0.1, not 0.10000000149).
pub(crate) fn dataset_epsilon(id: DatasetId) -> f64 {
    let eps = id.info().epsilon;
    eps.to_string().parse().unwrap_or(f64::from(eps))
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
fn measure(
    split: Split,
    index: &Index,
    train: &Dataset,
    test: &Dataset,
    options: &SearchOptions,
    report: &ReportOptions,
) -> anyhow::Result<(SeparationReport, f64)> {
    let labels = match split {
        Split::TrainTrain => train.labels(),
        Split::TestTrain => test.labels(),
    };
    let bar = search_bar(split.name(), labels.len());
    let progress = |done: usize, _total: usize| bar.set_position(done as u64);
    let control = Control {
        progress: Some(&progress),
        cancel: None,
    };
    let started = std::time::Instant::now();
    let nearest = match split {
        Split::TrainTrain => index.nearest_within(false, options, &control)?,
        Split::TestTrain => {
            index.nearest(test.images(), test.labels(), false, options, &control)?
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    Ok((
        SeparationReport::build(split, options.metric, labels, index, &nearest, report)?,
        seconds,
    ))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let data = args.data.load(args.dataset)?;
    check_classes(&data.train)?;
    if args.split != Splits::TrainTrain {
        check_pair(&data.train, &data.test)?;
    }
    let epsilon = args.eps.unwrap_or_else(|| dataset_epsilon(args.dataset));
    let options = args.search.options();
    let report_options = ReportOptions {
        top_k: args.top_k,
        drop_smallest: args.drop_smallest,
        epsilon: Some(epsilon),
        bins: 20,
    };
    let started = std::time::Instant::now();
    let index = Index::for_search(&data.train, &options)?;
    let build_seconds = started.elapsed().as_secs_f64();
    let splits: &[Split] = match args.split {
        Splits::TrainTrain => &[Split::TrainTrain],
        Splits::TestTrain => &[Split::TestTrain],
        Splits::Both => &[Split::TrainTrain, Split::TestTrain],
    };
    let mut reports = Vec::new();
    let mut seconds = Vec::new();
    for &split in splits {
        let (report, s) = measure(
            split,
            &index,
            &data.train,
            &data.test,
            &options,
            &report_options,
        )?;
        reports.push(report);
        seconds.push(s);
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
