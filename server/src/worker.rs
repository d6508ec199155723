//! A job worker: claims queued runs from the store, trains and evaluates them through
//! [`crate::execute`], streams their events into the store, renews its lease while it
//! works, and checkpoints every epoch so that a run whose worker died resumes elsewhere.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use astute::data::DataDirs;
use astute::metric::LipschitzStep;
use astute::train::TrainEvent;
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::device::Backend;
use crate::execute::{Execution, execute};
use crate::store::{Claimed, Status, Store};

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Unique per worker process and slot: the lease is held in this name.
    pub name: String,
    /// A claimed run is taken back after this long without a heartbeat.
    pub lease: Duration,
    /// Wait between looks at an empty queue.
    pub poll: Duration,
    /// Per-run checkpoints and weights go under `state_dir/runs/ID/`.
    pub state_dir: PathBuf,
    pub data: DataDirs,
    pub backend: Backend,
    /// Training images evaluated per run (the first N).
    pub eval_train: usize,
}

/// Where run `id`'s files live.
pub fn run_dir(state_dir: &std::path::Path, id: &str) -> PathBuf {
    state_dir.join("runs").join(id)
}

/// Batch events are stored at most this often; epoch events always.
const BATCH_EVENT_INTERVAL: Duration = Duration::from_millis(500);

/// Claims and runs jobs until `shutdown` turns true. A run in progress at shutdown is
/// handed back to the queue (it resumes from its last checkpoint).
pub async fn work(store: Store, config: WorkerConfig, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(worker = %config.name, "worker started");
    while !*shutdown.borrow() {
        match store.claim(&config.name, config.lease).await {
            Ok(Some(job)) => {
                let id = job.id.clone();
                if let Err(error) = process(&store, &config, job, shutdown.clone()).await {
                    tracing::error!(run = %id, "worker: {error:#}");
                }
            }
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(config.poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(error) => {
                tracing::error!("worker could not claim a job: {error:#}");
                tokio::select! {
                    _ = tokio::time::sleep(config.poll * 4) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
    tracing::info!(worker = %config.name, "worker stopped");
}

/// What the training thread tells the event writer.
enum Note {
    Train(TrainEvent),
    Evaluating(f32),
}

async fn process(
    store: &Store,
    config: &WorkerConfig,
    job: Claimed,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Claimed { id, spec, attempts } = job;
    tracing::info!(run = %id, attempt = attempts, "claimed");
    let mut seq = store.last_event(&id).await?;
    let mut emit = async |event: serde_json::Value| -> anyhow::Result<()> {
        seq += 1;
        store.append_event(&id, seq, &event).await
    };
    emit(json!({"event": "claimed", "worker": config.name, "attempt": attempts})).await?;

    let dir = run_dir(&config.state_dir, &id);
    let cancel = Arc::new(AtomicBool::new(false));
    let (notes, mut received) = mpsc::unbounded_channel();
    let training = {
        let (cancel, dirs, backend, spec) = (
            cancel.clone(),
            config.data.clone(),
            config.backend,
            spec.clone(),
        );
        let eval_train = (config.eval_train > 0).then_some(config.eval_train);
        let checkpoint_dir = dir.join("checkpoint");
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let split = astute::data::load(spec.dataset, &dirs)?;
            let device = backend.device()?;
            let events = notes.clone();
            execute(
                &spec,
                &split,
                &device,
                Execution {
                    checkpoint_dir: Some(checkpoint_dir),
                    on_event: &mut |e| {
                        let _ = events.send(Note::Train(e.clone()));
                    },
                    cancel: Some(&cancel),
                    eval_train,
                    lipschitz_step: LipschitzStep::FifthOfEpsilon,
                },
                |epsilon| {
                    let _ = notes.send(Note::Evaluating(epsilon));
                },
            )
        })
    };
    tokio::pin!(training);

    let started = Instant::now();
    let epochs = spec.train_config()?.epochs as f64;
    // Epochs already done when this attempt started (a resume starts past 0).
    let mut resumed_at: Option<f64> = None;
    let mut heartbeat = tokio::time::interval(config.lease / 4);
    let mut last_batch = Instant::now() - BATCH_EVENT_INTERVAL;
    let mut lease_lost = false;
    let mut stopping = false;
    let outcome = loop {
        tokio::select! {
            outcome = &mut training => break outcome,
            Some(note) = received.recv() => match note {
                Note::Train(event) => {
                    if let TrainEvent::Batch { .. } = event {
                        if last_batch.elapsed() < BATCH_EVENT_INTERVAL {
                            continue;
                        }
                        last_batch = Instant::now();
                    }
                    if let TrainEvent::Checkpointed { epoch } = event {
                        store.set_epochs_done(&id, &config.name, epoch as i64 + 1).await?;
                    }
                    let mut value = serde_json::to_value(&event)?;
                    if let TrainEvent::Batch { epoch, batch, batches, .. } = event {
                        let done = epoch as f64 + (batch + 1) as f64 / batches.max(1) as f64;
                        let first = *resumed_at.get_or_insert(done - 1.0 / batches.max(1) as f64);
                        value["eta_seconds"] = json!(eta(started.elapsed(), epochs, first, done));
                    }
                    emit(value).await?;
                }
                Note::Evaluating(epsilon) => {
                    emit(json!({"event": "evaluating", "epsilon": epsilon})).await?;
                }
            },
            _ = heartbeat.tick() => match store.heartbeat(&id, &config.name, config.lease).await {
                Ok(Some(true)) => cancel.store(true, Ordering::Relaxed),
                Ok(Some(false)) => {}
                Ok(None) => {
                    lease_lost = true;
                    cancel.store(true, Ordering::Relaxed);
                }
                Err(error) => tracing::warn!(run = %id, "heartbeat failed: {error:#}"),
            },
            _ = shutdown.changed(), if !stopping => {
                stopping = true;
                cancel.store(true, Ordering::Relaxed);
            }
        }
    };
    if lease_lost {
        tracing::warn!(run = %id, "lease lost to another worker; result discarded");
        return Ok(());
    }
    let outcome = outcome.map_err(|e| anyhow::anyhow!("training thread: {e}"))?;
    match outcome {
        Ok(executed) => {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("weights.safetensors"), &executed.weights)?;
            store.finish(&id, &config.name, Ok(&executed.row)).await?;
            emit(json!({"event": "finished", "status": "done"})).await?;
            tracing::info!(run = %id, "done");
        }
        Err(_) if stopping => {
            store.release(&id, &config.name).await?;
            emit(json!({"event": "released", "reason": "worker shut down"})).await?;
            tracing::info!(run = %id, "handed back to the queue");
        }
        Err(error) => {
            let (status, reason) = if cancel.load(Ordering::Relaxed) {
                (Status::Cancelled, "cancelled".to_owned())
            } else {
                (Status::Failed, format!("{error:#}"))
            };
            store
                .finish(&id, &config.name, Err((status, &reason)))
                .await?;
            emit(json!({"event": "finished", "status": status, "error": reason})).await?;
            tracing::info!(run = %id, "{}: {reason}", status.as_str());
        }
    }
    Ok(())
}

/// Seconds left until `epochs` are done, at the pace of this attempt: `done` epochs now,
/// `first` when it started, after `elapsed`.
fn eta(elapsed: Duration, epochs: f64, first: f64, done: f64) -> Option<f64> {
    let pace = elapsed.as_secs_f64() / (done - first);
    (done > first).then(|| pace * (epochs - done).max(0.0))
}
