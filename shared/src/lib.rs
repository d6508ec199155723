//! Astute core: datasets, models, the paper's training methods, attacks, metrics and the
//! exact separation engine of "A Closer Look at Accuracy vs. Robustness" (NeurIPS 2020).
//! Everything works on plain data and a burn `Device`, so the same code runs on the CPU,
//! CUDA, and WebGPU in the browser. Without the `networks` feature (which every backend
//! feature turns on) it is the data, separation, paper and figure modules alone, with no
//! burn: what the separation kernels' tests on other CPUs build.

pub mod api;
#[cfg(feature = "networks")]
pub mod attack;
#[cfg(feature = "networks")]
pub mod batch;
#[cfg(feature = "networks")]
pub mod cancel;
pub mod data;
#[cfg(feature = "networks")]
pub mod loss;
#[cfg(feature = "networks")]
pub mod method;
#[cfg(feature = "networks")]
pub mod metric;
#[cfg(feature = "networks")]
pub mod model;
#[cfg(feature = "networks")]
pub mod ops;
pub mod paper;
pub mod plot;
pub mod separation;
#[cfg(feature = "networks")]
pub mod train;
#[cfg(feature = "networks")]
pub mod weights;
#[cfg(feature = "networks")]
pub use burn;
