//! Training runs as the store keeps them and the API lists and shows them, and the small
//! answers around them.

use crate::{
    Architecture, DatasetId, ExperimentSpec, JobEvent, MaskingCheck, Method, Provenance, RunResult,
};

/// Where a job (a run or a separation measurement) is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl Status {
    pub const ALL: [Self; 5] = [
        Self::Queued,
        Self::Running,
        Self::Done,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// Done, failed or cancelled: nothing will change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

impl std::str::FromStr for Status {
    type Err = crate::NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| {
            crate::NameError::new(
                "status",
                format!("unknown status {s:?}: queued, running, done, failed or cancelled"),
            )
        })
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Points above chance (100 / classes %) under which a final train accuracy means the
/// network did not train: a classifier that ignores its input scores chance.
pub const UNTRAINED_MARGIN: f64 = 5.0;

/// Whether a train accuracy (%) on `classes` classes is within [`UNTRAINED_MARGIN`] points
/// of chance.
pub fn did_not_train(train_accuracy: f64, classes: usize) -> bool {
    train_accuracy <= 100.0 / classes.max(1) as f64 + UNTRAINED_MARGIN
}

/// A run as listed: what it is, where it is, and its headline numbers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    pub id: String,
    pub dataset: DatasetId,
    pub architecture: Architecture,
    pub method: Method,
    pub dropout: f64,
    pub epsilon: f64,
    pub epochs: i64,
    /// Any `u64`: the database holds its bits in a signed 64-bit column.
    pub seed: u64,
    pub status: Status,
    /// Milliseconds since the Unix epoch, as are the other times.
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub epochs_done: i64,
    pub attempts: i64,
    pub error: Option<String>,
    /// Accuracy on the training images it was evaluated on.
    #[serde(default)]
    pub train_acc: Option<f64>,
    /// Its final train accuracy is within [`UNTRAINED_MARGIN`] points of chance: a
    /// constant classifier. Tables leave it out of their means unless asked.
    #[serde(default)]
    pub did_not_train: bool,
    pub test_acc: Option<f64>,
    /// Accuracy under PGD-10 on the training images it was evaluated on.
    #[serde(default)]
    pub adv_train_acc: Option<f64>,
    pub adv_test_acc: Option<f64>,
    /// Eq. (3) on the training images.
    #[serde(default)]
    pub train_lipschitz: Option<f64>,
    pub test_lipschitz: Option<f64>,
    /// Test accuracy under AutoAttack at the run's ε, once it was evaluated with it.
    #[serde(default)]
    pub autoattack_test_acc: Option<f64>,
    /// The gradient-masking checks it raised (none when they did not run or raised none).
    #[serde(default)]
    pub masking_raised: Vec<MaskingCheck>,
    /// The `astute reproduce` scale that made it, if any.
    pub scale: Option<String>,
    /// The paper's dataset its numbers are for, when its own dataset stands in.
    pub stands_in_for: Option<DatasetId>,
}

impl RunSummary {
    /// Train minus test accuracy in points: the paper's generalization gap.
    pub fn gap(&self) -> Option<f64> {
        Some(self.train_acc? - self.test_acc?)
    }

    /// Train minus test accuracy under PGD-10: the paper's adversarial gap.
    pub fn adv_gap(&self) -> Option<f64> {
        Some(self.adv_train_acc? - self.adv_test_acc?)
    }
}

/// A run with its spec, full result and provenance: what the store keeps and exports.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunDetail {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub spec: ExperimentSpec,
    pub result: Option<RunResult>,
    pub provenance: Provenance,
}

/// A run as `GET /api/runs/{id}` answers: the stored run, and where its weights are when
/// the lab's artifact store holds them (shipped runs, and runs trained on another machine
/// of a lab that keeps its artifacts in files, have none).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunAnswer {
    #[serde(flatten)]
    pub run: RunDetail,
    pub weights: Option<String>,
}

/// A page of runs (`GET /api/runs`) and how many match in all.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunList {
    pub runs: Vec<RunSummary>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// A job's id and status: the answer to creating or cancelling one.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobState {
    pub id: String,
    pub status: Status,
}

/// A trained model the browser can load (`GET /api/models`): the run, and where its
/// weights are.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelEntry {
    #[serde(flatten)]
    pub run: RunSummary,
    pub weights: String,
}

/// One stored event of a run, numbered from 1.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredEvent {
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    pub event: JobEvent,
}

/// How a live event stream ends (its `status` event): the run's final status, or that
/// the run was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StreamEnd {
    Done,
    Failed,
    Cancelled,
    Deleted,
}

impl StreamEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Deleted => "deleted",
        }
    }

    /// The end of a stream of a run with this `status`, `None` while it goes on.
    pub fn of(status: Status) -> Option<Self> {
        match status {
            Status::Done => Some(Self::Done),
            Status::Failed => Some(Self::Failed),
            Status::Cancelled => Some(Self::Cancelled),
            Status::Queued | Status::Running => None,
        }
    }
}

/// The data of a live stream's final `status` event.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusEvent {
    pub status: StreamEnd,
}

/// A reproduction scale's settings for one dataset (`GET /api/scales`), resolved against
/// the dataset's preset.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScaleSettings {
    pub name: String,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: crate::Optimizer,
    pub learning_rate: f64,
    /// Epochs of learning-rate and regulariser warm-up (0 = none).
    pub warmup_epochs: usize,
    /// Training images (all of the training set when absent).
    pub subset: Option<usize>,
    /// Training images evaluated after training (the worker's default when absent).
    pub eval_train: Option<usize>,
}

/// `GET /api/health`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// Every refusal and failure of the API: a sentence that says what is wrong.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: String,
}

/// Which runs to list (`GET /api/runs`, `GET /api/models`), in what order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>))]
    pub dataset: Option<DatasetId>,
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>))]
    pub architecture: Option<Architecture>,
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>))]
    pub method: Option<Method>,
    pub status: Option<Status>,
    /// A column of [`RunQuery::SORT_COLUMNS`], `-` in front for descending (default
    /// `-created_at`).
    pub sort: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// The most runs one overlaid figure draws (`/api/plots/loss.svg?runs=`): one colour each.
pub const MAX_OVERLAID_RUNS: usize = 12;

impl RunQuery {
    /// Columns a run list may be sorted by (API name = column name).
    pub const SORT_COLUMNS: [&str; 7] = [
        "created_at",
        "finished_at",
        "test_acc",
        "adv_test_acc",
        "autoattack_test_acc",
        "test_lipschitz",
        "epochs",
    ];
    /// The most runs one list request returns.
    pub const MAX_PAGE: i64 = 500;

    /// The sort as (column, descending), or why it is not one.
    pub fn order(&self) -> Result<(&'static str, bool), String> {
        let sort = self.sort.as_deref().unwrap_or("-created_at");
        let (name, descending) = match sort.strip_prefix('-') {
            Some(name) => (name, true),
            None => (sort, false),
        };
        Self::SORT_COLUMNS
            .iter()
            .find(|&&column| column == name)
            .map(|&column| (column, descending))
            .ok_or_else(|| {
                format!(
                    "cannot sort by {name:?}: choose one of {} (prefix - for descending)",
                    Self::SORT_COLUMNS.join(", ")
                )
            })
    }
}
