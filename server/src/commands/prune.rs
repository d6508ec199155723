//! `astute prune`: adversarial pruning, removing as few training points as possible so
//! that the rest is r-separated.

use std::path::PathBuf;

use anyhow::Context;
use astute::data::{Catalog, Dataset, DatasetId};
use astute::separation::{Control, PruneReport, prune, verify_separated};

use super::data_dirs::DataArgs;
use super::search_args::SearchArgs;
use super::separation::search_bar;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, short)]
    dataset: DatasetId,
    /// The separation r to reach: after pruning, points of different classes are ≥ 2r apart.
    #[arg(long)]
    radius: f64,
    /// Write the removed training indices here, one per line.
    #[arg(long)]
    out: PathBuf,
    /// Restrict to two classes (e.g. `--classes 0,6`): pruning is then exact.
    #[arg(long, value_delimiter = ',')]
    classes: Option<Vec<u16>>,
    /// Check the result with the separation search.
    #[arg(long)]
    verify: bool,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    search: SearchArgs,
    #[command(flatten)]
    data: DataArgs,
}

/// The training images of two classes, relabelled 0 and 1, with their original indices.
fn class_pair(train: &Dataset, a: u16, b: u16) -> anyhow::Result<(Dataset, Vec<usize>)> {
    let classes = train.num_classes();
    if usize::from(a) >= classes || usize::from(b) >= classes || a == b {
        anyhow::bail!("--classes needs two different classes below {classes}, got {a},{b}");
    }
    let keep: Vec<usize> = (0..train.len())
        .filter(|&i| train.labels()[i] == a || train.labels()[i] == b)
        .collect();
    let subset = train.select(&keep)?;
    let labels = subset.labels().iter().map(|&l| u16::from(l == b)).collect();
    let names = vec![
        train.class_names()[usize::from(a)].clone(),
        train.class_names()[usize::from(b)].clone(),
    ];
    let pair = Dataset::new(subset.shape(), subset.images().to_vec(), labels, names)?;
    Ok((pair, keep))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let data = args.data.load(args.dataset)?;
    let (train, original) = match &args.classes {
        Some(c) if c.len() == 2 => class_pair(&data.train, c[0], c[1])?,
        Some(c) => anyhow::bail!("--classes takes two classes, e.g. 0,6; got {c:?}"),
        None => (data.train.clone(), (0..data.train.len()).collect()),
    };
    let options = args.search.options();
    let bar = search_bar("conflicts", train.len());
    let progress = |done: usize, _total: usize| bar.set_position(done as u64);
    let report: PruneReport = prune(
        &train,
        args.radius,
        &options,
        &Control {
            progress: Some(&progress),
            cancel: None,
        },
    )?;
    bar.finish_and_clear();
    let removed: Vec<usize> = report.removed.iter().map(|&i| original[i]).collect();
    let text: String = removed.iter().map(|i| format!("{i}\n")).collect();
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))?;
    let verified = if args.verify {
        Some(verify_separated(
            &train,
            &report.removed,
            args.radius,
            &options,
        )?)
    } else {
        None
    };
    if args.json {
        let out = serde_json::json!({
            "dataset": args.dataset.id(),
            "classes": args.classes,
            "class_names": train.class_names(),
            "report": PruneReport { removed: removed.clone(), ..report },
            "verified_min_distance": verified.and_then(|v| v.0),
            "verified": verified.map(|v| v.1),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{}: r = {} ({}), {} cross-class pairs closer than 2r = {}",
        args.dataset.info().title,
        args.radius,
        args.search.metric,
        report.conflicts,
        2.0 * args.radius
    );
    println!(
        "removed {} of {} training points ({}), kept {}",
        removed.len(),
        train.len(),
        if report.optimal {
            "minimum, by maximum matching"
        } else {
            "greedy approximation"
        },
        report.kept
    );
    for (class, &count) in report.removed_per_class.iter().enumerate() {
        if count > 0 {
            println!("  {}: {count}", train.class_names()[class]);
        }
    }
    if let Some((min, ok)) = verified {
        let min = min.map_or("none".to_string(), |m| format!("{m:.4}"));
        println!(
            "verified by search: minimum cross-class distance {min} → {}",
            if ok { "r-separated" } else { "NOT r-separated" }
        );
    }
    println!("removed indices written to {}", args.out.display());
    Ok(())
}
