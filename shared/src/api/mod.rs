//! Serde types that the CLI, the server and the browser exchange: what a user asks for,
//! validated once, in one place.

mod budget;
mod experiment;
mod separation;

pub use budget::{Budget, Cost};
pub use experiment::ExperimentSpec;
pub use separation::SeparationSpec;
