//! One separation measurement from a dataset to its reports: the index, then Train–Train
//! and (optionally) Test–Train nearest other-class distances. `astute separation` and the
//! job workers both go through here.

use std::sync::atomic::AtomicBool;

use astute::data::{Catalog, DatasetId, Split as DataSplit};
use astute::separation::{
    Control, Index, ReportOptions, SearchOptions, SeparationReport, Split, build_report,
    check_classes, check_pair,
};

/// The dataset's ε as the decimal the catalog gives (0.1, not 0.10000000149).
pub fn dataset_epsilon(id: DatasetId) -> f64 {
    astute_api::decimal(id.info().epsilon)
}

/// A split's report and the seconds its search took.
pub struct Measured {
    pub report: SeparationReport,
    pub seconds: f64,
}

/// The reports of one measurement, and the seconds the index took to build.
pub struct Measurement {
    pub index_seconds: f64,
    pub splits: Vec<Measured>,
}

/// Measures `splits` of `data`. `progress(split, done, total)` is called from search
/// threads; setting `cancel` stops the search.
pub fn measure(
    data: &DataSplit,
    splits: &[Split],
    options: &SearchOptions,
    report: &ReportOptions,
    progress: &(dyn Fn(Split, usize, usize) + Sync),
    cancel: Option<&AtomicBool>,
) -> anyhow::Result<Measurement> {
    check_classes(&data.train)?;
    if splits.contains(&Split::TestTrain) {
        check_pair(&data.train, &data.test)?;
    }
    let started = std::time::Instant::now();
    let index = Index::for_search(&data.train, options)?;
    let index_seconds = started.elapsed().as_secs_f64();
    let splits = splits
        .iter()
        .map(|&split| {
            let labels = match split {
                Split::TrainTrain => data.train.labels(),
                Split::TestTrain => data.test.labels(),
            };
            let on_progress = |done: usize, total: usize| progress(split, done, total);
            let control = Control {
                progress: Some(&on_progress),
                cancel,
            };
            let started = std::time::Instant::now();
            let nearest = match split {
                Split::TrainTrain => index.nearest_within(false, options, &control)?,
                Split::TestTrain => {
                    index.nearest(data.test.images(), labels, false, options, &control)?
                }
            };
            let seconds = started.elapsed().as_secs_f64();
            Ok(Measured {
                report: build_report(split, options.metric, labels, &index, &nearest, report)?,
                seconds,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Measurement {
        index_seconds,
        splits,
    })
}
