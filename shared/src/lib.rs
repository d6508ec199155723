//! Astute core: datasets, models, the paper's training methods, attacks, metrics and the
//! exact separation engine of "A Closer Look at Accuracy vs. Robustness" (NeurIPS 2020).
//! Everything works on plain data and a burn `Device`, so the same code runs on the CPU,
//! CUDA, and WebGPU in the browser.

/// `From<T> for String` (through `Display`) and `TryFrom<String>` (through `FromStr`): what
/// `#[serde(into = "String", try_from = "String")]` needs to write a type as its name
/// (`fashion-mnist`, `cnn2`, `trades:6`), the same name the CLI takes.
macro_rules! serialize_as_name {
    ($type:ty) => {
        impl From<$type> for String {
            fn from(value: $type) -> Self {
                value.to_string()
            }
        }

        impl TryFrom<String> for $type {
            type Error = String;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
    };
}

pub mod api;
pub mod attack;
pub mod batch;
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
