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

use astute::api::{ExperimentSpec, SeparationSpec};
use astute::separation::{ReportOptions, SearchOptions, Split};

use crate::device::Backend;
use crate::execute::{Execution, execute};
use crate::separate::measure;
use crate::store::{Claimed, Queue, Status, Store};

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

/// Claims and runs jobs until `shutdown` turns true: separation measurements first (they
/// take seconds), then training runs. A job in progress at shutdown is handed back to the
/// queue (a run resumes from its last checkpoint).
pub async fn work(store: Store, config: WorkerConfig, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(worker = %config.name, "worker started");
    while !*shutdown.borrow() {
        let claimed = match store
            .claim(Queue::Separations, &config.name, config.lease)
            .await
        {
            Ok(None) => store
                .claim(Queue::Runs, &config.name, config.lease)
                .await
                .map(|job| job.map(|job| (Queue::Runs, job))),
            other => other.map(|job| job.map(|job| (Queue::Separations, job))),
        };
        match claimed {
            Ok(Some((queue, job))) => {
                let id = job.id.clone();
                let done = match queue {
                    Queue::Runs => process_run(&store, &config, job, shutdown.clone()).await,
                    Queue::Separations => {
                        process_separation(&store, &config, job, shutdown.clone()).await
                    }
                };
                if let Err(error) = done {
                    tracing::error!(job = %id, "worker: {error:#}");
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

/// What a job's thread tells its driver.
enum Note {
    Train(TrainEvent),
    Evaluating(f32),
}

/// Where a job's notes go while it runs.
trait NoteSink: Send {
    fn take(&mut self, note: Note) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// A job without notes.
struct NoNotes;

impl NoteSink for NoNotes {
    async fn take(&mut self, _note: Note) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A training run's notes, stored as its numbered events: batches at most every
/// [`BATCH_EVENT_INTERVAL`] with an ETA, the rest all.
struct RunEvents<'a> {
    store: &'a Store,
    id: &'a str,
    worker: &'a str,
    /// Number of the last stored event.
    seq: i64,
    started: Instant,
    epochs: f64,
    /// Epochs already done when this attempt started (a resume starts past 0).
    resumed_at: Option<f64>,
    last_batch: Option<Instant>,
}

impl RunEvents<'_> {
    async fn emit(&mut self, event: serde_json::Value) -> anyhow::Result<()> {
        self.seq += 1;
        self.store.append_event(self.id, self.seq, &event).await
    }
}

impl NoteSink for RunEvents<'_> {
    async fn take(&mut self, note: Note) -> anyhow::Result<()> {
        let event = match note {
            Note::Evaluating(epsilon) => {
                return self
                    .emit(json!({"event": "evaluating", "epsilon": crate::store::decimal(epsilon)}))
                    .await;
            }
            Note::Train(event) => event,
        };
        let mut value = serde_json::to_value(&event)?;
        match event {
            TrainEvent::Batch {
                epoch,
                batch,
                batches,
                ..
            } => {
                if self
                    .last_batch
                    .is_some_and(|t| t.elapsed() < BATCH_EVENT_INTERVAL)
                {
                    return Ok(());
                }
                self.last_batch = Some(Instant::now());
                let per_batch = 1.0 / batches.max(1) as f64;
                let done = epoch as f64 + (batch + 1) as f64 * per_batch;
                let first = *self.resumed_at.get_or_insert(done - per_batch);
                value["eta_seconds"] = json!(eta(self.started.elapsed(), self.epochs, first, done));
            }
            TrainEvent::Checkpointed { epoch } => {
                self.store
                    .set_epochs_done(self.id, self.worker, epoch as i64 + 1)
                    .await?;
            }
            _ => {}
        }
        self.emit(value).await
    }
}

/// How a job's thread ended, as seen by its driver.
enum Ending<T> {
    /// The thread returned (its own result: done, failed, or cancelled by request).
    Returned(anyhow::Result<T>),
    /// Another worker holds the job now: this result must not be stored.
    LeaseLost,
    /// This worker is shutting down; the job goes back to the queue.
    ShutDown,
}

/// Runs `job` on a blocking thread while renewing the lease, passing its notes to
/// `on_note`, raising its cancel flag when a cancel is asked for, the lease is lost or the
/// worker shuts down.
async fn drive<T: Send + 'static>(
    store: &Store,
    config: &WorkerConfig,
    queue: Queue,
    id: &str,
    mut shutdown: watch::Receiver<bool>,
    job: impl FnOnce(&AtomicBool, mpsc::UnboundedSender<Note>) -> anyhow::Result<T> + Send + 'static,
    notes_to: &mut impl NoteSink,
) -> anyhow::Result<Ending<T>> {
    let cancel = Arc::new(AtomicBool::new(false));
    let (notes, mut received) = mpsc::unbounded_channel();
    let thread = {
        let cancel = cancel.clone();
        tokio::task::spawn_blocking(move || job(&cancel, notes))
    };
    tokio::pin!(thread);
    let mut heartbeat = tokio::time::interval(config.lease / 4);
    let (mut lease_lost, mut stopping) = (false, false);
    let returned = loop {
        tokio::select! {
            returned = &mut thread => break returned,
            Some(note) = received.recv() => notes_to.take(note).await?,
            _ = heartbeat.tick() => match store.heartbeat(queue, id, &config.name, config.lease).await {
                Ok(Some(true)) => cancel.store(true, Ordering::Relaxed),
                Ok(Some(false)) => {}
                Ok(None) => {
                    lease_lost = true;
                    cancel.store(true, Ordering::Relaxed);
                }
                Err(error) => tracing::warn!(job = %id, "heartbeat failed: {error:#}"),
            },
            _ = shutdown.changed(), if !stopping => {
                stopping = true;
                cancel.store(true, Ordering::Relaxed);
            }
        }
    };
    // Notes sent just before the thread ended.
    while let Ok(note) = received.try_recv() {
        notes_to.take(note).await?;
    }
    let returned = returned.map_err(|e| anyhow::anyhow!("job thread: {e}"))?;
    Ok(if lease_lost {
        tracing::warn!(job = %id, "lease lost to another worker; result discarded");
        Ending::LeaseLost
    } else if stopping && returned.is_err() {
        store.release(queue, id, &config.name).await?;
        tracing::info!(job = %id, "handed back to the queue");
        Ending::ShutDown
    } else {
        Ending::Returned(returned)
    })
}

/// Ends a job whose thread returned an error: cancelled when a cancel was asked for,
/// failed otherwise. Returns the status and the reason stored.
async fn end_unfinished(
    store: &Store,
    queue: Queue,
    id: &str,
    worker: &str,
    cancelled: bool,
    error: &anyhow::Error,
) -> anyhow::Result<(Status, String)> {
    let (status, reason) = if cancelled {
        (Status::Cancelled, "cancelled".to_owned())
    } else {
        (Status::Failed, format!("{error:#}"))
    };
    store.end(queue, id, worker, status, &reason).await?;
    tracing::info!(job = %id, "{}: {reason}", status.as_str());
    Ok((status, reason))
}

/// A claimed job's spec; a spec that no longer parses (stored by an older version) fails
/// the job instead of the worker.
async fn parse_spec<T: serde::de::DeserializeOwned>(
    store: &Store,
    queue: Queue,
    job: &Claimed,
    worker: &str,
) -> anyhow::Result<Option<T>> {
    match serde_json::from_str(&job.spec) {
        Ok(spec) => Ok(Some(spec)),
        Err(error) => {
            let reason = format!("stored spec is not valid: {error}");
            store
                .end(queue, &job.id, worker, Status::Failed, &reason)
                .await?;
            Ok(None)
        }
    }
}

async fn process_run(
    store: &Store,
    config: &WorkerConfig,
    job: Claimed,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    tracing::info!(run = %job.id, attempt = job.attempts, "claimed");
    let Some(spec) = parse_spec::<ExperimentSpec>(store, Queue::Runs, &job, &config.name).await?
    else {
        return Ok(());
    };
    let Claimed { id, attempts, .. } = job;
    let mut events = RunEvents {
        store,
        id: &id,
        worker: &config.name,
        seq: store.last_event(&id).await?,
        started: Instant::now(),
        epochs: spec.train_config()?.epochs as f64,
        resumed_at: None,
        last_batch: None,
    };
    events
        .emit(json!({"event": "claimed", "worker": config.name, "attempt": attempts}))
        .await?;

    let dir = run_dir(&config.state_dir, &id);
    let cancel_requested = Arc::new(AtomicBool::new(false));
    let job = {
        let (dirs, backend, spec) = (config.data.clone(), config.backend, spec.clone());
        let eval_train = (config.eval_train > 0).then_some(config.eval_train);
        let checkpoint_dir = dir.join("checkpoint");
        let cancel_requested = cancel_requested.clone();
        move |cancel: &AtomicBool, notes: mpsc::UnboundedSender<Note>| {
            let split = astute::data::load(spec.dataset, &dirs)?;
            let device = backend.device()?;
            let events = notes.clone();
            let executed = execute(
                &spec,
                &split,
                &device,
                Execution {
                    checkpoint_dir: Some(checkpoint_dir),
                    on_event: &mut |e| {
                        let _ = events.send(Note::Train(e.clone()));
                    },
                    cancel: Some(cancel),
                    eval_train,
                    lipschitz_step: LipschitzStep::FifthOfEpsilon,
                    precision: astute::weights::Precision::Full,
                },
                |epsilon| {
                    let _ = notes.send(Note::Evaluating(epsilon));
                },
            );
            cancel_requested.store(cancel.load(Ordering::Relaxed), Ordering::Relaxed);
            executed
        }
    };
    let ending = drive(store, config, Queue::Runs, &id, shutdown, job, &mut events).await?;
    match ending {
        Ending::LeaseLost => {}
        Ending::ShutDown => {
            events
                .emit(json!({"event": "released", "reason": "worker shut down"}))
                .await?;
        }
        Ending::Returned(Ok(executed)) => {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("weights.safetensors"), &executed.weights)?;
            store.finish_run(&id, &config.name, &executed.row).await?;
            events
                .emit(json!({"event": "finished", "status": "done"}))
                .await?;
            tracing::info!(run = %id, "done");
        }
        Ending::Returned(Err(error)) => {
            let cancelled = cancel_requested.load(Ordering::Relaxed);
            let (status, reason) =
                end_unfinished(store, Queue::Runs, &id, &config.name, cancelled, &error).await?;
            events
                .emit(json!({"event": "finished", "status": status, "error": reason}))
                .await?;
        }
    }
    Ok(())
}

async fn process_separation(
    store: &Store,
    config: &WorkerConfig,
    job: Claimed,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    tracing::info!(separation = %job.id, "claimed");
    let Some(spec) =
        parse_spec::<SeparationSpec>(store, Queue::Separations, &job, &config.name).await?
    else {
        return Ok(());
    };
    let id = job.id;
    let cancel_requested = Arc::new(AtomicBool::new(false));
    let job = {
        let (dirs, spec) = (config.data.clone(), spec.clone());
        let cancel_requested = cancel_requested.clone();
        move |cancel: &AtomicBool, _notes: mpsc::UnboundedSender<Note>| {
            let data = astute::data::load(spec.dataset, &dirs)?;
            let options = SearchOptions {
                metric: spec.metric,
                ..SearchOptions::default()
            };
            let report = ReportOptions {
                epsilon: Some(crate::separate::dataset_epsilon(spec.dataset)),
                ..ReportOptions::default()
            };
            let started = Instant::now();
            let measured = measure(
                &data,
                &[Split::TrainTrain, Split::TestTrain],
                &options,
                &report,
                &|_, _, _| {},
                Some(cancel),
            );
            cancel_requested.store(cancel.load(Ordering::Relaxed), Ordering::Relaxed);
            Ok((measured?, started.elapsed().as_secs_f64()))
        }
    };
    let ending = drive(
        store,
        config,
        Queue::Separations,
        &id,
        shutdown,
        job,
        &mut NoNotes,
    )
    .await?;
    match ending {
        Ending::LeaseLost | Ending::ShutDown => {}
        Ending::Returned(Ok((measured, seconds))) => {
            let reports: Vec<_> = measured.splits.into_iter().map(|m| m.report).collect();
            store
                .finish_separation(&id, &config.name, &reports, seconds)
                .await?;
            tracing::info!(separation = %id, "done in {seconds:.2} s");
        }
        Ending::Returned(Err(error)) => {
            let cancelled = cancel_requested.load(Ordering::Relaxed);
            end_unfinished(
                store,
                Queue::Separations,
                &id,
                &config.name,
                cancelled,
                &error,
            )
            .await?;
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
