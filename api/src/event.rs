//! What happens to a job, as a numbered stream of events: the training loop's own (a
//! progress bar shows them) and the worker's around them (claimed, evaluating, finished).

use crate::Status;

/// What the training loop reports while it runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        /// Seconds left in the whole run, estimated by whoever knows where it resumed
        /// (the worker); the loop itself leaves it out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        eta_seconds: Option<f64>,
    },
    EpochFinished {
        epoch: usize,
        mean_loss: f64,
        seconds: f64,
    },
    /// A checkpoint of the state after `epoch` (0-based) was written.
    Checkpointed { epoch: usize },
}

/// One event in a run's history (`GET /api/runs/{id}/events`, `progress` events).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JobEvent {
    /// A worker took the job (again, after a lost lease: `attempt` counts), on `host`
    /// with `backend` (both absent from events stored before they were recorded).
    Claimed {
        worker: String,
        attempt: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backend: Option<String>,
    },
    /// Training is over; the model is measured at radius `epsilon`.
    Evaluating { epsilon: f64 },
    /// The worker handed the job back to the queue (it is shutting down).
    Released { reason: String },
    /// The job ended.
    Finished {
        status: Status,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The training loop's own events, as they are.
    #[serde(untagged)]
    Train(TrainEvent),
}

impl JobEvent {
    /// The event's name, as its `event` field writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Claimed { .. } => "claimed",
            Self::Evaluating { .. } => "evaluating",
            Self::Released { .. } => "released",
            Self::Finished { .. } => "finished",
            Self::Train(TrainEvent::EpochStarted { .. }) => "epoch_started",
            Self::Train(TrainEvent::Batch { .. }) => "batch",
            Self::Train(TrainEvent::EpochFinished { .. }) => "epoch_finished",
            Self::Train(TrainEvent::Checkpointed { .. }) => "checkpointed",
        }
    }

    /// Whether it is a per-batch event (frequent, left out of exports).
    pub fn is_batch(&self) -> bool {
        matches!(self, Self::Train(TrainEvent::Batch { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_and_training_events_read_back_as_written() {
        let events = [
            r#"{"event":"claimed","worker":"w1","attempt":2}"#,
            r#"{"event":"epoch_started","epoch":0,"epochs":3,"batches":10,"learning_rate":0.01}"#,
            r#"{"event":"batch","epoch":0,"batch":4,"batches":10,"loss":2.5,"images_per_second":100.0,"eta_seconds":12.0}"#,
            r#"{"event":"checkpointed","epoch":0}"#,
            r#"{"event":"evaluating","epsilon":0.1}"#,
            r#"{"event":"finished","status":"failed","error":"out of memory"}"#,
        ];
        for text in events {
            let event: JobEvent = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&event).unwrap(), text);
            assert!(text.starts_with(&format!(r#"{{"event":"{}""#, event.name())));
        }
        let batch: JobEvent = serde_json::from_str(events[2]).unwrap();
        assert!(batch.is_batch());
        assert!(matches!(
            batch,
            JobEvent::Train(TrainEvent::Batch {
                eta_seconds: Some(12.0),
                ..
            })
        ));
        assert!(serde_json::from_str::<JobEvent>(r#"{"event":"exploded"}"#).is_err());
    }
}
