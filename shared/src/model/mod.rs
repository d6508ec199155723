//! The networks of the paper, each with its dropout placement and a configurable rate.
//!
//! Every network maps a batch of images `[N, C, H, W]` in [0, 1] to logits `[N, classes]`.
//! [`Network`] wraps them so the CLI, the server and the browser pick one at run time.

mod cnn;
mod mlp;
mod network;
mod resnet;
mod size;
mod wrn;

pub use astute_api::Architecture;
pub use cnn::{Cnn1, Cnn2};
pub use mlp::Mlp;
pub use network::{Network, NetworkConfig, NetworkError};
pub use resnet::ResNet50;
pub use size::NetworkSize;
pub use wrn::Wrn;

use burn::prelude::*;

/// A model that turns images into logits: what methods, attacks and metrics need.
pub trait Classifier: Module + Clone + core::fmt::Debug {
    fn forward(&self, images: Tensor<4>) -> Tensor<2>;
}
