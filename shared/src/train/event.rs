//! What the loop reports while it runs (a progress bar, a job's event stream).

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TrainEvent {
    EpochStarted {
        epoch: usize,
        epochs: usize,
        batches: usize,
        learning_rate: f64,
    },
    Batch {
        epoch: usize,
        batch: usize,
        batches: usize,
        loss: f64,
        images_per_second: f64,
    },
    EpochFinished {
        epoch: usize,
        mean_loss: f64,
        seconds: f64,
    },
    /// A checkpoint of the state after `epoch` (0-based) was written.
    Checkpointed { epoch: usize },
}
