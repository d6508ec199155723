//! The jobs that reproduce one of the paper's tables at a scale: Table 1 as separation
//! measurements, Tables 2–4 as training runs, one per published row and seed. Where a
//! dataset of the paper is not on this machine, the smoke and CPU scales use a stand-in
//! that is (the MNIST sample for MNIST, Fashion-MNIST for the colour datasets), and the
//! tables say so.

use astute::api::{ExperimentSpec, SeparationSpec};
use astute::data::{Availability, DataDirs, DatasetId};
use astute::paper;
use astute::separation::Metric;

/// How much compute a reproduction gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Minutes for a whole table: tiny subsets, one epoch (for tests and demos).
    Smoke,
    /// About two hours for a table on 2 CPU cores: the MNIST sample, Fashion-MNIST
    /// subsets, a few epochs.
    Cpu,
    /// The paper's protocol on the paper's datasets (a GPU's work).
    Paper,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Self::Smoke => "smoke",
            Self::Cpu => "cpu",
            Self::Paper => "paper",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Smoke, Self::Cpu, Self::Paper]
            .into_iter()
            .find(|s| s.name() == name)
    }

    /// Fills the fields of `spec` that this scale sets and `spec` leaves open.
    pub fn apply(self, spec: &mut ExperimentSpec) {
        let (epochs, subset, eval_train, batch_size) = match self {
            Self::Paper => return,
            Self::Smoke => (1, 256, 256, Some(64)),
            // A grid of 20 runs, 16 of them adversarial (each batch attacked 10 times),
            // must fit in about two hours on 2 cores: 24,000 training images per run, and
            // the train-set metrics on 1,000 of them.
            Self::Cpu => (3, 8_000, 1_000, None),
        };
        spec.epochs.get_or_insert(epochs);
        spec.subset.get_or_insert(subset);
        spec.eval_train.get_or_insert(eval_train);
        if let Some(batch_size) = batch_size {
            spec.batch_size.get_or_insert(batch_size);
        }
        if self == Self::Cpu && matches!(spec.dataset, DatasetId::Mnist | DatasetId::MnistSample) {
            // SGD at the preset's 0.01 barely moves in 3 epochs on 8,000 digits.
            spec.learning_rate.get_or_insert(0.05);
        }
    }
}

/// One training run of a table's grid.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    pub spec: ExperimentSpec,
    /// The paper's dataset this run's numbers are for, when `spec.dataset` stands in.
    pub stands_in_for: Option<DatasetId>,
}

/// What reproducing a table takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Separations(Vec<SeparationSpec>),
    Runs(Vec<PlannedRun>),
}

/// The dataset a paper dataset is measured on here at `scale`: itself when present,
/// otherwise (not at paper scale) its stand-in.
fn dataset_here(
    wanted: DatasetId,
    scale: Scale,
    have: &dyn Fn(DatasetId) -> bool,
) -> Result<(DatasetId, Option<DatasetId>), String> {
    if have(wanted) {
        return Ok((wanted, None));
    }
    let stand_in = match wanted {
        DatasetId::Mnist => DatasetId::MnistSample,
        _ => DatasetId::FashionMnist,
    };
    if scale == Scale::Paper || !have(stand_in) {
        return Err(format!(
            "{wanted} is not on this machine (see `astute datasets`){}",
            if scale == Scale::Paper {
                ": the paper scale uses the paper's datasets"
            } else {
                ""
            }
        ));
    }
    Ok((stand_in, Some(wanted)))
}

/// The jobs of Table `table` at `scale`, `seeds` seeds each, with `have` telling which
/// datasets this machine has.
pub fn plan(
    table: u8,
    scale: Scale,
    seeds: u64,
    have: &dyn Fn(DatasetId) -> bool,
) -> Result<Plan, String> {
    let published = paper::published();
    if table == 1 {
        let mut datasets: Vec<DatasetId> = published
            .separation
            .iter()
            .map(|s| s.dataset)
            .filter(|&d| have(d))
            .collect();
        if scale != Scale::Paper {
            // The stand-ins are measured too: their rows show how they compare.
            datasets.extend(
                [DatasetId::MnistSample, DatasetId::FashionMnist]
                    .into_iter()
                    .filter(|&d| have(d)),
            );
        }
        if datasets.is_empty() {
            return Err("none of Table 1's datasets is on this machine".into());
        }
        return Ok(Plan::Separations(
            datasets
                .into_iter()
                .map(|dataset| SeparationSpec {
                    dataset,
                    metric: Metric::Linf,
                })
                .collect(),
        ));
    }
    if !(2..=4).contains(&table) {
        return Err(format!("the paper has tables 1 to 4, not {table}"));
    }
    let mut runs = Vec::new();
    for row in published.table(table) {
        let (dataset, stands_in_for) = dataset_here(row.dataset, scale, have)?;
        for seed in 0..seeds {
            let mut spec = ExperimentSpec::new(dataset, row.method);
            spec.architecture = row.architecture;
            spec.dropout = row.dropout.map_or(0.0, f64::from);
            spec.epsilon = Some(row.epsilon as f32);
            spec.seed = seed;
            scale.apply(&mut spec);
            runs.push(PlannedRun {
                spec,
                stands_in_for,
            });
        }
    }
    Ok(Plan::Runs(runs))
}

/// Whether `dirs` holds (or can generate) dataset `id`.
pub fn available(dirs: &DataDirs) -> impl Fn(DatasetId) -> bool + use<> {
    let present: Vec<DatasetId> = dirs
        .availability()
        .into_iter()
        .filter(|(_, a)| !matches!(a, Availability::Missing(_)))
        .map(|(id, _)| id)
        .collect();
    move |id| present.contains(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(ids: &'static [DatasetId]) -> impl Fn(DatasetId) -> bool {
        move |id| ids.contains(&id)
    }

    #[test]
    fn table2_is_the_papers_grid_on_the_mnist_sample_at_cpu_scale() {
        let have = only(&[DatasetId::MnistSample, DatasetId::FashionMnist]);
        let Plan::Runs(runs) = plan(2, Scale::Cpu, 2, &have).unwrap() else {
            panic!("Table 2 is training runs");
        };
        // Two networks × ten methods, two seeds each.
        assert_eq!(runs.len(), 2 * 10 * 2);
        assert!(runs.iter().all(|r| r.spec.dataset == DatasetId::MnistSample
            && r.stands_in_for == Some(DatasetId::Mnist)
            && r.spec.epsilon == Some(0.1)
            && astute::train::TrainConfig::from_spec(&r.spec).is_ok()));
        let methods: Vec<String> = runs
            .iter()
            .filter(|r| r.spec.seed == 0 && r.spec.architecture.unwrap().to_string() == "cnn1")
            .map(|r| r.spec.method.to_string())
            .collect();
        assert_eq!(methods.first().map(String::as_str), Some("natural"));
        assert_eq!(methods.last().map(String::as_str), Some("trades:6"));
    }

    #[test]
    fn paper_scale_needs_the_papers_datasets() {
        let have = only(&[DatasetId::MnistSample]);
        let error = plan(2, Scale::Paper, 1, &have).unwrap_err();
        assert!(error.contains("mnist is not on this machine"), "{error}");
        let have = only(&[DatasetId::Mnist]);
        let Plan::Runs(runs) = plan(2, Scale::Paper, 1, &have).unwrap() else {
            panic!()
        };
        assert!(
            runs.iter()
                .all(|r| r.stands_in_for.is_none() && r.spec.epochs.is_none())
        );
    }

    #[test]
    fn table1_measures_the_datasets_here_and_the_stand_ins() {
        let have = only(&[DatasetId::MnistSample, DatasetId::FashionMnist]);
        let Plan::Separations(specs) = plan(1, Scale::Cpu, 1, &have).unwrap() else {
            panic!()
        };
        let datasets: Vec<DatasetId> = specs.iter().map(|s| s.dataset).collect();
        assert_eq!(datasets, [DatasetId::MnistSample, DatasetId::FashionMnist]);
        assert!(plan(1, Scale::Paper, 1, &have).is_err());
        assert!(plan(5, Scale::Cpu, 1, &have).is_err());
    }

    #[test]
    fn table4_pairs_each_method_with_and_without_dropout() {
        let have = only(&[DatasetId::FashionMnist]);
        let Plan::Runs(runs) = plan(4, Scale::Smoke, 1, &have).unwrap() else {
            panic!()
        };
        let with = runs.iter().filter(|r| r.spec.dropout > 0.0).count();
        assert_eq!(with * 2, runs.len());
        assert!(runs.iter().all(|r| r.spec.epochs == Some(1)));
    }
}
