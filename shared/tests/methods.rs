//! Methods that must reduce to Natural, determinism, and checkpoint resume.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use astute::data::{DatasetId, ImageShape};
use astute::method::Method;
use astute::train::{TrainConfig, TrainError, TrainEvent, TrainOptions, train};
use common::{cpu, device_rng_lock, first_difference, flat_weights, toy_dataset, train_quietly};

fn quick_config(method: Method, dropout: f64) -> TrainConfig {
    let mut c = TrainConfig::preset(DatasetId::MnistSample, method);
    c.epochs = 2;
    c.batch_size = 16;
    c.dropout = dropout;
    c.seed = 42;
    c
}

fn weights_after(config: &TrainConfig) -> Vec<f32> {
    let _rng = device_rng_lock();
    let data = toy_dataset(48, ImageShape::new(1, 28, 28), 10, 1);
    let trained = train_quietly(config, &data);
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
        Method::Llr {
            lambda: 0.0,
            mu: 0.0,
        },
        Method::LlrRef { lambda: 0.0 },
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
    assert_eq!(
        first_difference(&weights_after(&config), &weights_after(&config)),
        None
    );
    let mut other = config.clone();
    other.seed = 43;
    assert!(first_difference(&weights_after(&other), &weights_after(&config)).is_some());
}

/// Trains `config` uninterrupted, and again cancelled after its first checkpoint and
/// resumed; both must end with the same weights and losses.
fn assert_resume_matches(config: &TrainConfig) {
    let data = toy_dataset(48, ImageShape::new(1, 28, 28), 10, 2);
    let dir = tempfile::tempdir().unwrap();
    let _rng = device_rng_lock();
    let uninterrupted = train_quietly(config, &data);

    let cancel = AtomicBool::new(false);
    let mut on_event = |e: &TrainEvent| {
        if let TrainEvent::Checkpointed { epoch: 0 } = e {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let checkpoint_dir = Some(dir.path().to_path_buf());
    let stopped = train(
        config,
        &data,
        &cpu(),
        TrainOptions {
            checkpoint_dir: checkpoint_dir.clone(),
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
    let mut record = |e: &TrainEvent| {
        if let TrainEvent::EpochStarted { epoch, .. } = e {
            epochs_run.push(*epoch);
        }
    };
    let resumed = train(
        config,
        &data,
        &cpu(),
        TrainOptions {
            checkpoint_dir,
            on_event: &mut record,
            cancel: None,
        },
    )
    .unwrap();
    assert_eq!(
        epochs_run,
        vec![1, 2],
        "the resumed run must start after the checkpointed epoch"
    );
    let difference = first_difference(
        &flat_weights(&resumed.model),
        &flat_weights(&uninterrupted.model),
    );
    assert_eq!(
        difference, None,
        "{}: resumed and uninterrupted weights differ",
        config.method
    );
    assert_eq!(resumed.mean_losses, uninterrupted.mean_losses);
}

#[test]
fn a_run_resumed_from_a_checkpoint_ends_with_the_same_weights() {
    // SGD with momentum: the optimizer state must survive the checkpoint too.
    let mut natural = quick_config(Method::Natural, 0.5);
    natural.epochs = 3;
    assert_resume_matches(&natural);
    let mut trades = quick_config(Method::Trades { beta: 1.0 }, 0.0);
    trades.epochs = 3;
    assert_resume_matches(&trades);
    let mut adam = quick_config(Method::At, 0.5);
    adam.epochs = 3;
    adam.optimizer = astute::train::OptimizerSpec::Adam {
        lr: 1e-3,
        weight_decay: 0.0,
    };
    assert_resume_matches(&adam);
    // A warm-up that spans the checkpoint: the resumed epoch recomputes its factors.
    let mut warm = quick_config(Method::Rst { lambda: 1.0 }, 0.0);
    warm.epochs = 3;
    warm.warmup_epochs = 2;
    assert_resume_matches(&warm);
}

#[test]
fn a_warmup_of_zero_epochs_is_none_and_one_epoch_changes_the_weights() {
    // Natural training with a warm-up of one epoch differs from none...
    let mut config = quick_config(Method::Natural, 0.0);
    config.epochs = 1;
    let plain = weights_after(&config);
    config.warmup_epochs = 1;
    assert!(first_difference(&weights_after(&config), &plain).is_some());
    // ...and a warm-up of zero epochs is none at all.
    config.warmup_epochs = 0;
    assert_eq!(first_difference(&weights_after(&config), &plain), None);
}

#[test]
fn a_checkpoint_of_another_configuration_is_refused() {
    let _rng = device_rng_lock();
    let data = toy_dataset(16, ImageShape::new(1, 28, 28), 10, 3);
    let dir = tempfile::tempdir().unwrap();
    let mut config = quick_config(Method::Natural, 0.0);
    config.epochs = 1;
    let mut quiet = |_: &TrainEvent| {};
    let checkpoint_dir = Some(dir.path().to_path_buf());
    let first = TrainOptions {
        checkpoint_dir: checkpoint_dir.clone(),
        on_event: &mut quiet,
        cancel: None,
    };
    train(&config, &data, &cpu(), first).unwrap();
    config.seed += 1;
    let second = TrainOptions {
        checkpoint_dir,
        on_event: &mut quiet,
        cancel: None,
    };
    let err = train(&config, &data, &cpu(), second).err().unwrap();
    assert!(err.to_string().contains("different configuration"), "{err}");
}

#[test]
fn every_method_trains_with_dropout_to_a_finite_loss() {
    let _rng = device_rng_lock();
    let data = toy_dataset(32, ImageShape::new(1, 28, 28), 10, 4);
    for method in Method::table_methods()
        .into_iter()
        .chain([Method::LlrRef { lambda: 4.0 }])
    {
        let mut config = quick_config(method, 0.5);
        config.epochs = 1;
        let trained = train_quietly(&config, &data);
        assert!(
            trained.mean_losses.iter().all(|l| l.is_finite()),
            "{method}: {:?}",
            trained.mean_losses
        );
    }
}
