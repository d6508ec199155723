//! Serde types that the CLI, the server and the browser exchange: what a user asks for,
//! validated once, in one place.

mod experiment;

pub use experiment::ExperimentSpec;
