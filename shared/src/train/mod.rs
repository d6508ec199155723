//! The training loop: presets, learning-rate schedules, seeds, per-epoch checkpoints with
//! resume, progress events and cancellation, so a CLI, a server worker or a test can drive it.

mod augment;
#[cfg(feature = "std")]
mod checkpoint;
mod config;
mod event;
mod run;

#[cfg(feature = "std")]
pub use checkpoint::Checkpoint;
pub use config::{Augmentation, OptimizerSpec, TrainConfig, TrainConfigError};
pub use event::TrainEvent;
pub use run::{TrainError, TrainOptions, Trained, train};
