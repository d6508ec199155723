//! The paper's Tables 1–4 with the measured numbers beside the published ones: every
//! published row, matched to the finished runs of the same dataset, ε, architecture,
//! method and dropout, as mean ± standard deviation over those runs (seeds). Written as
//! JSON, CSV, Markdown or LaTeX.

use astute::data::DatasetId;
use astute::metric::LipschitzStep;
use astute::paper::{self, PublishedRow};
use astute::train::TrainConfig;
use astute_api::table::{Cell, Stat, Table, TableRow};
use astute_api::{AttackName, MaskingCheck, RunResult, RunSummary, SeparationRecord, decimal};

use crate::execute::RUN_LIPSCHITZ_STEP;
use crate::separate::dataset_epsilon;

/// The tables that exist.
pub const NUMBERS: [u8; 4] = [1, 2, 3, 4];

/// The measured columns of Tables 2–4: the paper's, with the test accuracy under
/// AutoAttack beside its PGD-10 one (the paper has none), and PGD-10 on the same images as
/// AutoAttack, since a run may attack only the first test images with AutoAttack.
const RUN_COLUMNS: [&str; 8] = [
    "train_acc",
    "test_acc",
    "adv_test_acc",
    "pgd_on_autoattack_images",
    "autoattack_test_acc",
    "test_lipschitz",
    "gap",
    "adv_gap",
];

/// A run's values of [`RUN_COLUMNS`]; `None` where it was not measured.
fn run_values(row: &RunResult) -> [Option<f64>; 8] {
    let m = &row.metrics;
    let autoattack = row.robust_accuracy(AttackName::AutoAttack);
    let pgd_beside = autoattack.and_then(|aa| {
        row.robust
            .iter()
            .find(|r| {
                r.attack == AttackName::PGD_10
                    && r.epsilon == aa.epsilon
                    && r.seed == aa.seed
                    && r.images == aa.images
            })
            .map(|r| r.accuracy)
    });
    [
        Some(m.train.accuracy),
        Some(m.test.accuracy),
        Some(m.test.adversarial_accuracy),
        pgd_beside,
        autoattack.map(|r| r.accuracy),
        Some(m.test.lipschitz),
        Some(m.gap),
        Some(m.adv_gap),
    ]
}

/// Whether a finished run measures the same thing as a published row: its dataset (or,
/// for a run a reproduction made on a stand-in, the row's dataset's stand-in), ε, method
/// and dropout, and the architecture (the row's, or the dataset's default when the row
/// names none; a stand-in keeps its own). A stand-in run made for one paper dataset also
/// serves another with the same stand-in and spec: Table 4's SVHN and CIFAR-10 rows
/// without dropout are the same experiment on Fashion-MNIST.
fn matches(published: &PublishedRow, run: &RunSummary) -> bool {
    let stand_in = run.stands_in_for.is_some()
        && run.dataset != published.dataset
        && run.dataset == crate::reproduce::stand_in(published.dataset);
    let architecture = match published.architecture {
        Some(a) => a == run.architecture,
        None => {
            stand_in
                || TrainConfig::preset(published.dataset, published.method).architecture
                    == run.architecture
        }
    };
    (run.dataset == published.dataset || stand_in)
        && architecture
        && run.method == published.method
        && (run.epsilon - published.epsilon).abs() < 1e-6
        // Runs stored before rates were written as decimals hold the f32 widened (0.2 as
        // 0.20000000298023224): the same rate.
        && (run.dropout - published.dropout.map_or(0.0, decimal)).abs() < 1e-6
}

/// What has been measured: finished runs with their results, finished ℓ∞ separations.
#[derive(Default)]
pub struct Measured {
    pub runs: Vec<(RunSummary, RunResult)>,
    pub separations: Vec<SeparationRecord>,
}

/// Whether a table's measured numbers count the runs that did not train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Untrained {
    /// Left out of the means, listed by the row (the default).
    #[default]
    LeftOut,
    Counted,
}

/// Table `number` with what was `measured` beside the paper; `None` for a table the
/// paper does not have.
pub fn build(number: u8, measured: &Measured, untrained: Untrained) -> Option<Table> {
    let paper = paper::published();
    let runs = &measured.runs;
    match number {
        1 => {
            let rows = separation_rows(&measured.separations);
            let mut notes = vec![
                "Exact nearest differently labelled image in ℓ∞ over all pixels in [0, 1] (no sampling); r / ε is half the Train–Train minimum over the table's ε.".to_owned(),
            ];
            for row in rows.iter().filter(|r| !r.measured_on.is_empty()) {
                notes.push(format!(
                    "{} is not on the machine that measured this table: its row is measured on {}, a sample of its images. Fewer images tend to lie farther apart, so a sample's minima tend to be larger than the full dataset's.",
                    row.dataset, row.measured_on[0]
                ));
            }
            Some(Table {
            number,
            title:
                "Separation of real data: minimum ℓ∞ distance between differently labelled points"
                    .into(),
            decimals: 3,
            columns: [
                "min_train_train",
                "min_test_train",
                "separation_over_epsilon",
            ]
            .map(str::to_owned)
            .to_vec(),
            rows,
            notes,
        })
        }
        2..=4 => Some(Table {
            number,
            title: match number {
                2 => "MNIST: methods compared on two networks",
                3 => "CIFAR-10 and Restricted ImageNet: methods compared",
                _ => "Dropout: each method with and without",
            }
            .into(),
            decimals: 2,
            columns: RUN_COLUMNS.map(str::to_owned).to_vec(),
            notes: run_notes(number, runs),
            rows: paper
                .rows_measured(number)
                .iter()
                .map(|published| {
                    let all: Vec<&(RunSummary, RunResult)> =
                        runs.iter().filter(|(s, _)| matches(published, s)).collect();
                    let (not_trained, trained): (Vec<_>, Vec<_>) =
                        all.iter().copied().partition(|(s, _)| s.did_not_train);
                    let matching = match untrained {
                        Untrained::LeftOut => trained,
                        Untrained::Counted => all.clone(),
                    };
                    let values: Vec<[Option<f64>; 8]> =
                        matching.iter().map(|(_, r)| run_values(r)).collect();
                    let p = &published.metrics;
                    let paper_values = [
                        p.train_acc,
                        p.test_acc,
                        p.adv_test_acc,
                        None,
                        None,
                        p.test_lipschitz,
                        p.gap,
                        p.adv_gap,
                    ];
                    let mut masking: Vec<MaskingCheck> = matching
                        .iter()
                        .flat_map(|(_, r)| r.masking_raised())
                        .collect();
                    masking.sort_by_key(|check| check.headline());
                    masking.dedup();
                    TableRow {
                        setting: published.setting.clone(),
                        dataset: published.dataset,
                        epsilon: published.epsilon,
                        architecture: published.architecture,
                        method: Some(published.method),
                        dropout: published.dropout.map(decimal),
                        runs: matching.iter().map(|(s, _)| s.id.clone()).collect(),
                        masking,
                        measured_on: stand_ins(
                            all.iter().map(|(s, _)| s.dataset),
                            published.dataset,
                        ),
                        untrained: not_trained.iter().map(|(s, _)| s.id.clone()).collect(),
                        untrained_included: untrained == Untrained::Counted,
                        cells: paper_values
                            .iter()
                            .enumerate()
                            .map(|(k, &paper)| Cell {
                                paper,
                                measured: Stat::of(
                                    &values.iter().filter_map(|v| v[k]).collect::<Vec<_>>(),
                                ),
                            })
                            .collect(),
                    }
                })
                .collect(),
        }),
        _ => None,
    }
}

/// How Table `number`'s measured numbers were made: the Lipschitz step, what `llr-ref`
/// is, each stand-in with its networks, and the images AutoAttack saw.
fn run_notes(number: u8, runs: &[(RunSummary, RunResult)]) -> Vec<String> {
    let step = match RUN_LIPSCHITZ_STEP {
        LipschitzStep::FifthOfEpsilon => "ε/5 (the paper's text; its code used 0.003)".to_owned(),
        LipschitzStep::Fixed(step) => step.to_string(),
    };
    let mut notes = vec![format!(
        "Test Lipschitz: Eq. (3) on the test set, 10 ascent steps of {step} from N(0, 0.001²) noise seeded with each run's seed."
    )];
    let published: Vec<PublishedRow> = paper::published().rows_measured(number);
    if published
        .iter()
        .any(|r| matches!(r.method, astute::method::Method::LlrRef { .. }))
    {
        notes.push(
            "llr-ref is LLR as the paper's reference code ran it, with the input gradient zeroed; the paper's LLR numbers stand beside both llr and llr-ref.".into(),
        );
    }
    let mut stand_ins: Vec<(DatasetId, DatasetId, String)> = Vec::new();
    let mut autoattack_images: Vec<usize> = Vec::new();
    for (summary, result) in runs {
        let Some(row) = published.iter().find(|p| matches(p, summary)) else {
            continue;
        };
        if summary.dataset != row.dataset {
            let key = (
                row.dataset,
                summary.dataset,
                summary.architecture.to_string(),
            );
            if !stand_ins.contains(&key) {
                stand_ins.push(key);
            }
        }
        if let Some(evaluation) = result.robust_accuracy(AttackName::AutoAttack) {
            autoattack_images.push(evaluation.images);
        }
    }
    stand_ins.sort();
    for group in stand_ins.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (paper_dataset, here, _) = &group[0];
        let networks: Vec<&str> = group.iter().map(|(.., a)| a.as_str()).collect();
        notes.push(format!(
            "{paper_dataset} is not on the machine that measured this table: its rows are measured on {here} with {}.",
            networks.join(" and ")
        ));
    }
    autoattack_images.sort_unstable();
    autoattack_images.dedup();
    if !autoattack_images.is_empty() {
        let counts: Vec<String> = autoattack_images.iter().map(|n| n.to_string()).collect();
        notes.push(format!(
            "AutoAttack (standard: APGD-CE, APGD-T, FAB-T, Square) on the first {} test images of each run, beside PGD-10 on the same images where it was measured.",
            counts.join(" or ")
        ));
    }
    notes
}

/// Table 1's rows: the paper's datasets, then every other dataset measured here (with no
/// published numbers beside it). A paper dataset not measured here shows the numbers of
/// its sample when that is ([`sample_of`]), in its own row.
fn separation_rows(separations: &[SeparationRecord]) -> Vec<TableRow> {
    let measured = |dataset: DatasetId| -> Vec<&SeparationRecord> {
        separations
            .iter()
            .filter(|r| r.dataset == dataset)
            .collect()
    };
    let mut rows = Vec::new();
    let mut shown: Vec<DatasetId> = Vec::new();
    for published in &paper::published().separation {
        let paper = [
            published.min_train_train,
            published.min_test_train,
            published.ratio_to_epsilon(),
        ];
        let own = measured(published.dataset);
        let sample = sample_of(published.dataset)
            .map(|sample| (sample, measured(sample)))
            .filter(|(_, records)| !records.is_empty());
        let (ours, measured_on) = match sample {
            Some((sample, records)) if own.is_empty() => (records, vec![sample]),
            _ => (own, Vec::new()),
        };
        shown.push(published.dataset);
        shown.extend(&measured_on);
        rows.push(separation_row(
            published.dataset,
            published.epsilon,
            paper.map(Some),
            &ours,
            measured_on,
        ));
    }
    for record in separations {
        if !shown.contains(&record.dataset) {
            shown.push(record.dataset);
            let epsilon = dataset_epsilon(record.dataset);
            let ours = measured(record.dataset);
            rows.push(separation_row(
                record.dataset,
                epsilon,
                [None; 3],
                &ours,
                Vec::new(),
            ));
        }
    }
    rows
}

/// The dataset whose separation may stand in for a paper dataset's in Table 1: a sample of
/// the same images (the MNIST sample for MNIST). A different dataset (Fashion-MNIST in
/// CIFAR-10's place elsewhere) says nothing of CIFAR-10's separation.
fn sample_of(paper: DatasetId) -> Option<DatasetId> {
    (paper == DatasetId::Mnist).then_some(DatasetId::MnistSample)
}

/// One row of Table 1: the published numbers and the mean ± std of `ours`.
fn separation_row(
    dataset: DatasetId,
    epsilon: f64,
    paper: [Option<f64>; 3],
    ours: &[&SeparationRecord],
    measured_on: Vec<DatasetId>,
) -> TableRow {
    let train_train: Vec<f64> = ours.iter().filter_map(|r| r.min_train_train).collect();
    let test_train: Vec<f64> = ours.iter().filter_map(|r| r.min_test_train).collect();
    let ratios: Vec<f64> = train_train.iter().map(|m| m / 2.0 / epsilon).collect();
    TableRow {
        setting: dataset.to_string(),
        dataset,
        epsilon,
        architecture: None,
        method: None,
        dropout: None,
        runs: ours.iter().map(|r| r.id.clone()).collect(),
        masking: Vec::new(),
        measured_on,
        untrained: Vec::new(),
        untrained_included: false,
        cells: paper
            .into_iter()
            .zip([&train_train, &test_train, &ratios])
            .map(|(paper, values)| Cell {
                paper,
                measured: Stat::of(values),
            })
            .collect(),
    }
}

/// The distinct datasets among `used` other than `paper`'s.
fn stand_ins(used: impl Iterator<Item = DatasetId>, paper: DatasetId) -> Vec<DatasetId> {
    let mut out: Vec<DatasetId> = used.filter(|d| *d != paper).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use astute_api::table::Format;

    #[test]
    fn published_numbers_appear_in_every_format() {
        let table = build(2, &Measured::default(), Untrained::LeftOut).unwrap();
        // Table 2, CNN1 natural: test accuracy 99.2 in the paper.
        let row = table
            .rows
            .iter()
            .find(|r| {
                r.architecture == Some(astute::model::Architecture::Cnn1)
                    && r.method == Some(astute::method::Method::Natural)
            })
            .unwrap();
        assert_eq!(row.cells[1].paper, Some(99.2));
        assert!(row.cells[1].measured.is_none());
        assert!(table.render(Format::Csv).contains("99.2000"));
        assert!(table.render(Format::Markdown).contains("99.20 / –"));
        assert!(table.render(Format::Latex).contains("99.20 / --"));
        assert!(table.render(Format::Json).contains("99.2"));
        assert!(build(5, &Measured::default(), Untrained::LeftOut).is_none());
    }

    #[test]
    fn a_stand_in_run_serves_every_row_with_its_stand_in_and_spec() {
        let shipped: crate::store::Seed =
            serde_json::from_str(include_str!("../seed/results.json")).unwrap();
        let mut summary = shipped.runs[0].run.summary.clone();
        summary.dataset = DatasetId::FashionMnist;
        summary.stands_in_for = Some(DatasetId::Cifar10);
        summary.architecture = astute::model::Architecture::Cnn2;
        summary.method = astute::method::Method::At;
        summary.epsilon = 0.031;
        summary.dropout = 0.0;
        let rows = paper::published().rows_measured(4);
        let served: Vec<String> = rows
            .iter()
            .filter(|p| matches(p, &summary))
            .map(|p| format!("{} {:?}", p.dataset, p.dropout))
            .collect();
        // Made for CIFAR-10, it is also SVHN's AT row without dropout; with dropout, neither.
        assert_eq!(served, ["cifar10 None", "svhn None"]);
        // A Fashion-MNIST run nobody made as a stand-in serves no paper row.
        summary.stands_in_for = None;
        assert!(!rows.iter().any(|p| matches(p, &summary)));
    }

    #[test]
    fn table_1_shows_the_mnist_sample_in_mnists_row_until_mnist_is_measured() {
        let seed: crate::store::Seed =
            serde_json::from_str(include_str!("../seed/results.json")).unwrap();
        let sample: Vec<&SeparationRecord> = seed
            .separations
            .iter()
            .filter(|r| r.dataset == DatasetId::MnistSample)
            .collect();
        assert!(!sample.is_empty());
        let mut measured = Measured {
            separations: seed.separations.clone(),
            ..Measured::default()
        };
        let table = build(1, &measured, Untrained::LeftOut).unwrap();
        assert!(
            !table
                .rows
                .iter()
                .any(|r| r.dataset == DatasetId::MnistSample)
        );
        let mnist = table
            .rows
            .iter()
            .find(|r| r.dataset == DatasetId::Mnist)
            .unwrap();
        assert_eq!(mnist.measured_on, [DatasetId::MnistSample]);
        let ids: Vec<String> = sample.iter().map(|r| r.id.clone()).collect();
        assert_eq!(mnist.runs, ids);
        // The paper's 0.737 beside the sample's own minimum.
        assert_eq!(mnist.cells[0].paper, Some(0.737));
        let minimum = sample[0].min_train_train.unwrap();
        assert_eq!(mnist.cells[0].measured.unwrap().mean, minimum);
        assert!(
            table
                .render(Format::Markdown)
                .contains("| mnist (measured on mnist-sample) |")
        );
        assert!(
            table
                .notes
                .iter()
                .any(|n| n.contains("measured on mnist-sample, a sample"))
        );
        // Fashion-MNIST, in no paper row, has its own.
        assert!(
            table
                .rows
                .iter()
                .any(|r| r.dataset == DatasetId::FashionMnist)
        );

        // Once MNIST itself is measured, its row holds its numbers, and the sample a row of
        // its own.
        let mut full = sample[0].clone();
        (full.id, full.dataset, full.min_train_train) =
            ("full".into(), DatasetId::Mnist, Some(0.74));
        measured.separations.push(full);
        let table = build(1, &measured, Untrained::LeftOut).unwrap();
        let mnist = table
            .rows
            .iter()
            .find(|r| r.dataset == DatasetId::Mnist)
            .unwrap();
        assert_eq!(
            (mnist.runs.as_slice(), mnist.measured_on.as_slice()),
            (["full".to_owned()].as_slice(), [].as_slice())
        );
        let own = table
            .rows
            .iter()
            .find(|r| r.dataset == DatasetId::MnistSample)
            .unwrap();
        assert_eq!((own.runs.clone(), own.cells[0].paper), (ids, None));
    }
}
