//! The in-browser engine: Astute's own models, attacks and training (the `astute` core),
//! running on WebGPU or on the CPU backend compiled to WebAssembly. [`Lab`] holds the
//! playground's work, [`TheoryLab`] the theory page's, and [`separation`] measures a
//! visitor's own files; both are plain async Rust, tested
//! natively; `browser` (feature `browser`) is the thin
//! wasm-bindgen surface the web app imports.

mod lab;
mod own_data;
mod readback;
mod theory;

#[cfg(feature = "browser")]
mod browser;

pub use lab::{Lab, LabError};
pub use own_data::{OwnSet, read_files, separation};
pub use theory::TheoryLab;
