//! What Astute's processes say to each other: the names of datasets, networks and methods,
//! what a user asks for (specs), what a run measures, runs and separation measurements as
//! stored and listed, job events, the workers of a lab, the paper's tables and the one
//! renderer of their text formats. The server, the CLI, the workers and the web app all use these types, so a
//! field renamed here fails to compile on every side at once. No burn inside: the web app
//! stays light.

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
            type Error = $crate::NameError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
    };
}

/// An OpenAPI schema for a type written as its name: a string, described.
macro_rules! name_schema {
    ($type:ty, $description:expr) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $type {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($description))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $type {}
    };
}

mod architecture;
mod attack;
mod dataset;
mod event;
mod finding;
mod method;
mod metrics;
mod name;
mod optimizer;
mod run;
mod separation;
mod spec;
pub mod table;
mod worker;

pub use architecture::Architecture;
pub use attack::{AttackName, MaskingCheck, MaskingFlag, RobustEvaluation};
pub use dataset::{DatasetEntry, DatasetId};
pub use event::{JobEvent, TrainEvent};
pub use finding::{Finding, Verdict};
pub use method::Method;
pub use metrics::{Provenance, RunMetrics, RunResult, SetEvaluation};
pub use name::NameError;
pub use optimizer::Optimizer;
pub use run::{
    ErrorBody, Health, JobState, MAX_OVERLAID_RUNS, ModelEntry, RunAnswer, RunDetail, RunList,
    RunQuery, RunSummary, ScaleSettings, Status, StatusEvent, StoredEvent, StreamEnd,
    UNTRAINED_MARGIN, did_not_train,
};
pub use separation::{
    ClosestPair, Histogram, Metric, SearchProgress, SeparationRecord, SeparationReport, Split,
};
pub use spec::{ExperimentSpec, SeparationSpec, SpecError};
pub use worker::{WorkerEntry, WorkerJob};

/// The `f64` of an `f32`'s shortest decimal form (0.02, not 0.019999999552965164): how a
/// radius or rate set as `f32` is written where `f64`s are.
pub fn decimal(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}
