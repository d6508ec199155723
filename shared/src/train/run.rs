//! One training run from a configuration to trained weights.

#[cfg(feature = "std")]
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::optim::{
    AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig, decay::WeightDecayConfig,
    momentum::MomentumConfig,
};
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{Augmentation, OptimizerSpec, TrainConfig, TrainEvent, augment};
use crate::attack::eval_copy;
use crate::batch::{from_batch, sequential_batches};
use crate::data::Dataset;
use crate::method::{MethodContext, with_regularisation_scaled};
use crate::model::{Network, NetworkConfig};

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Config(#[from] super::TrainConfigError),
    #[error("training was cancelled after {epochs_done} finished epoch(s)")]
    Cancelled { epochs_done: usize },
    #[error(
        "the training loss became {loss} at epoch {epoch}, batch {batch}: lower the learning rate"
    )]
    Diverged {
        epoch: usize,
        batch: usize,
        loss: f64,
    },
    #[cfg(feature = "std")]
    #[error(transparent)]
    Checkpoint(#[from] super::CheckpointError),
}

/// How a run is driven: where it checkpoints, who hears its progress, who may cancel it.
pub struct TrainOptions<'a> {
    /// Folder for per-epoch checkpoints; a checkpoint found there is resumed from.
    #[cfg(feature = "std")]
    pub checkpoint_dir: Option<PathBuf>,
    pub on_event: &'a mut dyn FnMut(&TrainEvent),
    pub cancel: Option<&'a AtomicBool>,
}

pub struct Trained {
    /// The trained network on the (autodiff) training device.
    pub model: Network,
    pub mean_losses: Vec<f64>,
    /// Seconds spent in this process's training epochs.
    pub seconds: f64,
}

fn build_optimizer(spec: OptimizerSpec) -> ModuleOptimizer {
    match spec {
        OptimizerSpec::Sgd {
            momentum,
            weight_decay,
            ..
        } => {
            let mut config = SgdConfig::new();
            if momentum > 0.0 {
                config = config.with_momentum(Some(MomentumConfig {
                    momentum,
                    dampening: 0.0,
                    nesterov: false,
                }));
            }
            if weight_decay > 0.0 {
                config =
                    config.with_weight_decay(Some(WeightDecayConfig::new(weight_decay as f32)));
            }
            config.init()
        }
        OptimizerSpec::Adam { weight_decay, .. } => {
            let mut config = AdamConfig::new().with_epsilon(1e-8);
            if weight_decay > 0.0 {
                config =
                    config.with_weight_decay(Some(WeightDecayConfig::new(weight_decay as f32)));
            }
            config.init()
        }
    }
}

/// The order of epoch `epoch`'s images: a function of seed and epoch only, so a resumed
/// run sees exactly the batches an uninterrupted one would.
fn epoch_order(len: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut StdRng::seed_from_u64(
        seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    ));
    order
}

/// The optimizer, first epoch and loss history to start from: a checkpoint's when
/// `options` names a folder holding one, a fresh start otherwise.
fn resume(
    options: &TrainOptions<'_>,
    config: &TrainConfig,
    model: &mut Network,
    optimizer: ModuleOptimizer,
) -> Result<(ModuleOptimizer, usize, Vec<f64>), TrainError> {
    #[cfg(feature = "std")]
    if let Some(dir) = &options.checkpoint_dir
        && let Some(saved) = super::Checkpoint::read(dir)?
    {
        if saved.config != *config {
            return Err(super::CheckpointError::OtherConfiguration(dir.clone()).into());
        }
        let optimizer = super::Checkpoint::restore(dir, model, optimizer)?;
        return Ok((optimizer, saved.epochs_done, saved.mean_losses));
    }
    #[cfg(not(feature = "std"))]
    let _ = (options, config, &model);
    Ok((optimizer, 0, Vec::new()))
}

/// Trains `config` on `data` on `device` (an autodiff device is derived from it).
pub fn train(
    config: &TrainConfig,
    data: &Dataset,
    device: &Device,
    options: TrainOptions<'_>,
) -> Result<Trained, TrainError> {
    config.validate()?;
    let data = match config.subset {
        Some(n) => data.take(n),
        None => data.clone(),
    };
    let device = device.clone().autodiff();
    device.seed(config.seed);
    let network = NetworkConfig {
        architecture: config.architecture,
        input: data.shape(),
        classes: data.num_classes(),
        dropout: config.dropout,
    };
    let mut model = network
        .init(&device)
        .map_err(|e| TrainError::Config(e.into()))?;
    let (mut optimizer, first_epoch, mut mean_losses) = resume(
        &options,
        config,
        &mut model,
        build_optimizer(config.optimizer),
    )?;

    let context = MethodContext::paper(config.epsilon);
    let shape = data.shape();
    let started = web_time::Instant::now();
    for epoch in first_epoch..config.epochs {
        device.seed(config.seed.wrapping_add(1 + epoch as u64));
        let mut augment_rng =
            StdRng::seed_from_u64(config.seed.wrapping_add(0xA5A5 + epoch as u64));
        let order = epoch_order(data.len(), config.seed, epoch);
        let batches = data.len().div_ceil(config.batch_size);
        let lr = config.learning_rate(epoch);
        (options.on_event)(&TrainEvent::EpochStarted {
            epoch,
            epochs: config.epochs,
            batches,
            // The rate of the epoch's first batch, warm-up included.
            learning_rate: lr * config.warmup(epoch, 0, batches),
        });
        let epoch_start = web_time::Instant::now();
        let mut loss_sum = 0.0;
        for (batch, positions) in sequential_batches(order.len(), config.batch_size).enumerate() {
            if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(TrainError::Cancelled { epochs_done: epoch });
            }
            let batch_start = web_time::Instant::now();
            let indices: Vec<usize> = positions.iter().map(|&p| order[p]).collect();
            let (mut pixels, labels) = data.batch_f32(&indices);
            if config.augmentation == Augmentation::CropFlip {
                augment::crop_flip(&mut pixels, shape, &mut augment_rng);
            }
            let (images, labels) = from_batch(pixels, &labels, shape, &device);

            let warmup = config.warmup(epoch, batch, batches);
            let method = with_regularisation_scaled(config.method, warmup as f32);
            let attacker = eval_copy(&model);
            let loss = crate::method::loss(method, &model, &attacker, &images, &labels, &context);
            let loss_value = loss.clone().into_scalar::<f64>();
            if !loss_value.is_finite() {
                return Err(TrainError::Diverged {
                    epoch,
                    batch,
                    loss: loss_value,
                });
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(lr * warmup, model, grads);
            loss_sum += loss_value;
            let seconds = batch_start.elapsed().as_secs_f64().max(1e-9);
            (options.on_event)(&TrainEvent::Batch {
                epoch,
                batch,
                batches,
                loss: loss_value,
                images_per_second: indices.len() as f64 / seconds,
                eta_seconds: None,
            });
        }
        let mean_loss = loss_sum / batches.max(1) as f64;
        mean_losses.push(mean_loss);
        (options.on_event)(&TrainEvent::EpochFinished {
            epoch,
            mean_loss,
            seconds: epoch_start.elapsed().as_secs_f64(),
        });
        #[cfg(feature = "std")]
        if let Some(dir) = &options.checkpoint_dir {
            let checkpoint = super::Checkpoint {
                config: config.clone(),
                epochs_done: epoch + 1,
                mean_losses: mean_losses.clone(),
            };
            checkpoint.save(dir, &model, &optimizer)?;
            (options.on_event)(&TrainEvent::Checkpointed { epoch });
        }
    }
    Ok(Trained {
        model,
        mean_losses,
        seconds: started.elapsed().as_secs_f64(),
    })
}
