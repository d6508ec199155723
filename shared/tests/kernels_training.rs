//! Training on Astute's CPU kernels follows training on burn's own, step by step, and
//! stays repeatable. (Its own test binary: it switches the process's kernels.)

mod common;

use std::path::PathBuf;

use astute::data::{DataDirs, Dataset, DatasetId, load};
use astute::method::Method;
use astute::ops::{self, Kernels};
use astute::train::{OptimizerSpec, TrainConfig, TrainEvent, TrainOptions, train};
use common::{cpu, first_difference, flat_weights};

/// The first 12,800 Fashion-MNIST training images (Debian's `dataset-fashion-mnist`), or
/// `None` (skip) when they are absent off CI.
fn fashion_mnist() -> Option<Dataset> {
    let dirs = DataDirs::only([PathBuf::from("/usr/share/datasets")]);
    match load(DatasetId::FashionMnist, &dirs) {
        Ok(split) => Some(split.train.take(12_800)),
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "{e} (required on CI)");
            eprintln!("skipping: {e}");
            None
        }
    }
}

/// The loss of each of 200 CNN2 steps (batches of 64) and the trained weights.
fn run(kernels: Kernels, data: &Dataset) -> (Vec<f64>, Vec<f32>) {
    ops::select(kernels);
    let mut config = TrainConfig::preset(DatasetId::MnistSample, Method::Natural);
    config.epochs = 1;
    config.batch_size = 64;
    config.dropout = 0.0;
    config.seed = 7;
    config.optimizer = OptimizerSpec::Sgd {
        lr: 0.008,
        momentum: 0.9,
        weight_decay: 0.0,
    };
    let mut losses = Vec::new();
    let trained = train(
        &config,
        data,
        &cpu(),
        TrainOptions {
            checkpoint_dir: None,
            on_event: &mut |event| {
                if let TrainEvent::Batch { loss, .. } = event {
                    losses.push(*loss);
                }
            },
            cancel: None,
        },
    )
    .unwrap();
    ops::select(Kernels::Astute);
    (losses, flat_weights(&trained.model))
}

/// The paper's MNIST optimizer (SGD with momentum 0.9) at a learning rate of 0.008: the
/// mean loss of 20 steps falls from 2.303 to 2.261 over the 200 steps and the two runs
/// stay within 1e-4 of each other. At 0.01
/// the network leaves the initial plateau near step 170, and there the last-bit
/// differences of two exact implementations (summation order) grow exponentially, as they
/// do between any two: 1e-3 near step 180, 3e-2 at step 200.
#[test]
fn two_hundred_steps_match_burns_kernels_and_replay_bit_for_bit() {
    let Some(data) = fashion_mnist() else {
        return;
    };
    let (ours, weights) = run(Kernels::Astute, &data);
    let (burns, _) = run(Kernels::Burn, &data);
    assert_eq!(ours.len(), 200);
    assert_eq!(burns.len(), 200);
    for (step, (a, b)) in ours.iter().zip(&burns).enumerate() {
        assert!(
            (a - b).abs() <= 1e-3,
            "step {step}: loss {a} with Astute's kernels, {b} with burn's"
        );
    }
    let mean = |losses: &[f64]| losses.iter().sum::<f64>() / losses.len() as f64;
    let (first, last) = (mean(&ours[..20]), mean(&ours[180..]));
    assert!(
        last < first - 0.03,
        "the network did not learn: {first} → {last}"
    );

    let (again, weights_again) = run(Kernels::Astute, &data);
    assert_eq!(again, ours, "the same seed gave other losses");
    assert_eq!(first_difference(&weights, &weights_again), None);
}
