//! Methods that must reduce to Natural, determinism, and checkpoint resume.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use astute::data::{DatasetId, ImageShape};
use astute::method::Method;
use astute::train::{TrainConfig, TrainError, TrainEvent, TrainOptions, train};
use common::{cpu, flat_weights, toy_dataset};

fn quick_config(method: Method, dropout: f64) -> TrainConfig {
    let mut c = TrainConfig::preset(DatasetId::MnistSample, method);
    c.epochs = 2;
    c.batch_size = 16;
    c.dropout = dropout;
    c.seed = 42;
    c
}

fn weights_after(config: &TrainConfig) -> Vec<f32> {
    let data = toy_dataset(48, ImageShape::new(1, 28, 28), 10, 1);
    let trained = train(
        config,
        &data,
        &cpu(),
        TrainOptions {
            checkpoint_dir: None,
            on_event: &mut |_| {},
            cancel: None,
        },
    )
    .unwrap();
    flat_weights(&trained.model)
}

#[test]
fn zero_coefficients_reduce_to_natural_training_exactly() {
    let natural = weights_after(&quick_config(Method::Natural, 0.0));
    for method in [
        Method::Trades { beta: 0.0 },
        Method::Rst { lambda: 0.0 },
        Method::Gr {
            lambda: 0.0,
            h: 1.0,
        },
    ] {
        let w = weights_after(&quick_config(method, 0.0));
        assert_eq!(
            w, natural,
            "{method} with a zero coefficient differs from natural training"
        );
    }
    // …and a non-zero coefficient does change the result.
    assert_ne!(
        weights_after(&quick_config(Method::Trades { beta: 1.0 }, 0.0)),
        natural
    );
}

#[test]
fn the_same_seed_gives_the_same_weights() {
    let config = quick_config(Method::At, 0.5);
    assert_eq!(weights_after(&config), weights_after(&config));
    let mut other = config.clone();
    other.seed = 43;
    assert_ne!(weights_after(&other), weights_after(&config));
}

#[test]
fn a_run_resumed_from_a_checkpoint_ends_with_the_same_weights() {
    let data = toy_dataset(48, ImageShape::new(1, 28, 28), 10, 2);
    let mut config = quick_config(Method::Trades { beta: 1.0 }, 0.5);
    config.epochs = 3;
    let dir = tempfile::tempdir().unwrap();

    let uninterrupted = train(
        &config,
        &data,
        &cpu(),
        TrainOptions {
            checkpoint_dir: None,
            on_event: &mut |_| {},
            cancel: None,
        },
    )
    .unwrap();

    let cancel = AtomicBool::new(false);
    let mut on_event = |e: &TrainEvent| {
        if let TrainEvent::Checkpointed { epoch: 0 } = e {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let stopped = train(
        &config,
        &data,
        &cpu(),
        TrainOptions {
            checkpoint_dir: Some(dir.path().to_path_buf()),
            on_event: &mut on_event,
            cancel: Some(&cancel),
        },
    );
    assert!(
        matches!(stopped, Err(TrainError::Cancelled { epochs_done: 1 })),
        "{:?}",
        stopped.err()
    );

    let mut epochs_run = Vec::new();
    let resumed = train(
        &config,
        &data,
        &cpu(),
        TrainOptions {
            checkpoint_dir: Some(dir.path().to_path_buf()),
            on_event: &mut |e| {
                if let TrainEvent::EpochStarted { epoch, .. } = e {
                    epochs_run.push(*epoch);
                }
            },
            cancel: None,
        },
    )
    .unwrap();
    assert_eq!(
        epochs_run,
        vec![1, 2],
        "the resumed run must start after the checkpointed epoch"
    );
    assert_eq!(
        flat_weights(&resumed.model),
        flat_weights(&uninterrupted.model)
    );
    assert_eq!(resumed.mean_losses, uninterrupted.mean_losses);
}

#[test]
fn a_checkpoint_of_another_configuration_is_refused() {
    let data = toy_dataset(16, ImageShape::new(1, 28, 28), 10, 3);
    let dir = tempfile::tempdir().unwrap();
    let mut config = quick_config(Method::Natural, 0.0);
    config.epochs = 1;
    let opts = |dir: &std::path::Path| TrainOptions {
        checkpoint_dir: Some(dir.to_path_buf()),
        on_event: &mut |_| {},
        cancel: None,
    };
    train(&config, &data, &cpu(), opts(dir.path())).unwrap();
    config.seed += 1;
    let err = train(&config, &data, &cpu(), opts(dir.path()))
        .err()
        .unwrap();
    assert!(err.to_string().contains("different configuration"), "{err}");
}

#[test]
fn every_method_trains_with_dropout_and_lowers_the_loss_or_stays_finite() {
    let data = toy_dataset(32, ImageShape::new(1, 28, 28), 10, 4);
    for method in Method::table_methods() {
        let mut config = quick_config(method, 0.5);
        config.epochs = 1;
        let trained = train(
            &config,
            &data,
            &cpu(),
            TrainOptions {
                checkpoint_dir: None,
                on_event: &mut |_| {},
                cancel: None,
            },
        )
        .unwrap();
        assert!(
            trained.mean_losses.iter().all(|l| l.is_finite()),
            "{method}: {:?}",
            trained.mean_losses
        );
    }
}
