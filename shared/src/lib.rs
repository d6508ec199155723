//! Astute core: datasets, models, the paper's training methods, attacks, metrics and the
//! exact separation engine of "A Closer Look at Accuracy vs. Robustness" (NeurIPS 2020).
//! Everything works on plain data and a burn `Device`, so the same code runs on the CPU,
//! CUDA, and WebGPU in the browser.

pub mod api;
pub mod attack;
pub mod batch;
pub mod cancel;
pub mod data;
pub mod loss;
pub mod method;
pub mod metric;
pub mod model;
pub mod ops;
pub mod paper;
pub mod plot;
pub mod separation;
pub mod train;
pub mod weights;
pub use burn;
