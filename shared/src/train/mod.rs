//! The training loop: presets, learning-rate schedules, seeds, per-epoch checkpoints with
//! resume, progress events and cancellation, so a CLI, a server worker or a test can drive it.

mod augment;
#[cfg(feature = "std")]
mod checkpoint;
mod config;
mod run;

pub use astute_api::TrainEvent;
#[cfg(feature = "std")]
pub use checkpoint::{Checkpoint, CheckpointError};
pub use config::{Augmentation, OptimizerSpec, TrainConfig, TrainConfigError};
pub use run::{TrainError, TrainOptions, Trained, train};
