//! The jobs that reproduce one of the paper's tables at a scale: Table 1 as separation
//! measurements, Tables 2–4 as training runs, one per published row and seed. Where a
//! dataset of the paper is not on this machine, the smoke and CPU scales use a stand-in
//! that is (the MNIST sample for MNIST, Fashion-MNIST for the colour datasets), and the
//! tables say so.

use astute::api::{AttackName, ExperimentSpec, Optimizer, SeparationSpec, decimal};
use astute::data::{Availability, DataDirs, DatasetId};
use astute::paper;
use astute::separation::Metric;

/// How much compute a reproduction gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Minutes for a whole table: tiny subsets, one epoch (for tests and demos).
    Smoke,
    /// Two to three hours for a table on 2 CPU cores, two seeds per row: 3 epochs on 8,000
    /// images (all of the MNIST sample's training split) with Adam and a one-epoch
    /// warm-up, AutoAttack on the first 30 test images.
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
        match self {
            Self::Paper => {}
            Self::Smoke => {
                spec.epochs.get_or_insert(1);
                spec.subset.get_or_insert(256);
                spec.eval_train.get_or_insert(256);
                spec.batch_size.get_or_insert(64);
            }
            Self::Cpu => {
                spec.epochs.get_or_insert(3);
                spec.subset.get_or_insert(8_000);
                spec.eval_train.get_or_insert(1_000);
                // Measured on CNN2, MNIST sample, 2 epochs: with SGD (momentum 0.9) at 0.05,
                // with or without warm-up, RST(2) and LLR stay at chance; with Adam at 1e-3
                // both train (RST(2) 97.2 % train accuracy, LLR 89.1 %, 94.6 % with a
                // one-epoch warm-up). See docs/methods.md. A spec that sets its own
                // learning rate keeps its optimizer.
                if spec.learning_rate.is_none() {
                    spec.optimizer.get_or_insert(Optimizer::Adam);
                }
                spec.warmup_epochs.get_or_insert(1);
            }
        }
    }

    /// What a reproduction's grid measures at this scale beside PGD-10: at the CPU scale,
    /// AutoAttack on the first [`AUTOATTACK_IMAGES`] test images of each run.
    fn add_grid_attacks(self, spec: &mut ExperimentSpec) {
        if self == Self::Cpu && spec.attacks.is_empty() {
            spec.attacks.push(AttackName::AutoAttack);
            spec.attack_images.get_or_insert(AUTOATTACK_IMAGES);
        }
    }
}

/// The test images the CPU scale's AutoAttack column is measured on: AutoAttack costs
/// about 1.7 s per robust MNIST image on 2 cores (166 s for 100 images of a natural CNN1,
/// 76 robust), so 30 images keep AutoAttack to about a quarter of a table; the table's
/// notes say how many images.
pub const AUTOATTACK_IMAGES: usize = 30;

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

/// The dataset that stands in for paper dataset `wanted` where it is missing: the MNIST
/// sample for MNIST, Fashion-MNIST for the colour datasets.
pub fn stand_in(wanted: DatasetId) -> DatasetId {
    match wanted {
        DatasetId::Mnist => DatasetId::MnistSample,
        _ => DatasetId::FashionMnist,
    }
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
    let stand_in = stand_in(wanted);
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
    for row in published.rows_measured(table) {
        let (dataset, stands_in_for) = dataset_here(row.dataset, scale, have)?;
        for seed in 0..seeds {
            let mut spec = ExperimentSpec::new(dataset, row.method);
            spec.architecture = row.architecture;
            spec.dropout = row.dropout.map_or(0.0, decimal);
            spec.epsilon = Some(row.epsilon as f32);
            spec.seed = seed;
            scale.apply(&mut spec);
            scale.add_grid_attacks(&mut spec);
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
        // Two networks × eleven methods (the paper's ten and llr-ref), two seeds each.
        assert_eq!(runs.len(), 2 * 11 * 2);
        assert!(runs.iter().all(|r| r.spec.dataset == DatasetId::MnistSample
            && r.stands_in_for == Some(DatasetId::Mnist)
            && r.spec.epsilon == Some(0.1)
            && r.spec.attacks == [AttackName::AutoAttack]
            && r.spec.attack_images == Some(AUTOATTACK_IMAGES)
            && astute::train::TrainConfig::from_spec(&r.spec).is_ok_and(|c| c.warmup_epochs == 1
                && matches!(c.optimizer, astute::train::OptimizerSpec::Adam { lr, .. } if lr == 1e-3))));
        let methods: Vec<String> = runs
            .iter()
            .filter(|r| r.spec.seed == 0 && r.spec.architecture.unwrap().to_string() == "cnn1")
            .map(|r| r.spec.method.to_string())
            .collect();
        assert_eq!(methods.first().map(String::as_str), Some("natural"));
        assert_eq!(methods[2..4], ["llr", "llr-ref"]);
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
