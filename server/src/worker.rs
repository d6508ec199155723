//! A job worker: claims queued runs from the store, trains and evaluates them through
//! [`crate::execute`], streams their events into the store, renews its lease while it
//! works, and checkpoints every epoch into the lab's artifact store, so that a run whose
//! worker died resumes on any machine.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use astute::data::{DataDirs, DatasetId};
use astute_api::{JobEvent, SearchProgress, TrainEvent};
use tokio::sync::{mpsc, watch};

use astute::api::{Budget, ExperimentSpec, SeparationSpec};
use astute::separation::{ReportOptions, SearchOptions, Split};

use crate::device::Backend;
use crate::execute::{Execution, execute};
use crate::separate::measure;
use astute_api::Status;

use crate::artifacts::{self, Artifacts, Kind};
use crate::store::{Claimed, Lease, Queue, Store};

/// How a worker behaves.
#[derive(Clone)]
pub struct WorkerConfig {
    /// Unique per worker process and slot: the lease is held in this name.
    pub name: String,
    /// The machine, as a run's history records it.
    pub host: String,
    /// A claimed run is taken back after this long without a heartbeat.
    pub lease: Duration,
    /// Wait between looks at an empty queue.
    pub poll: Duration,
    /// This worker's own folder: a claimed run trains in `state_dir/scratch/ID/`.
    pub state_dir: PathBuf,
    /// Where checkpoints and weights are kept, for every process of the lab.
    pub artifacts: Artifacts,
    pub data: DataDirs,
    pub backend: Backend,
    /// Training images evaluated per run (the first N).
    pub eval_train: usize,
    /// What one run may cost; a stored spec over it fails (the database is not trusted).
    pub budget: Budget,
}

/// Batch events are stored at most this often; epoch events always.
const BATCH_EVENT_INTERVAL: Duration = Duration::from_millis(500);

/// Whether a frequent note is due for storing, [`BATCH_EVENT_INTERVAL`] after the `last`
/// one stored (then marked stored now).
fn due(last: &mut Option<Instant>) -> bool {
    if last.is_some_and(|t| t.elapsed() < BATCH_EVENT_INTERVAL) {
        return false;
    }
    *last = Some(Instant::now());
    true
}

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
    Searched(SearchProgress),
}

/// Where a job's notes go while it runs.
trait NoteSink: Send {
    fn take(&mut self, note: Note) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// A separation measurement's notes: its search progress, stored at most every
/// [`BATCH_EVENT_INTERVAL`].
struct SearchNotes<'a> {
    store: &'a Store,
    id: &'a str,
    worker: &'a str,
    last: Option<Instant>,
}

impl NoteSink for SearchNotes<'_> {
    async fn take(&mut self, note: Note) -> anyhow::Result<()> {
        let Note::Searched(progress) = note else {
            return Ok(());
        };
        if !due(&mut self.last) {
            return Ok(());
        }
        self.store
            .set_separation_progress(self.id, self.worker, &progress)
            .await
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
    async fn emit(&mut self, event: JobEvent) -> anyhow::Result<()> {
        self.seq += 1;
        self.store.append_event(self.id, self.seq, &event).await
    }
}

impl NoteSink for RunEvents<'_> {
    async fn take(&mut self, note: Note) -> anyhow::Result<()> {
        let event = match note {
            Note::Evaluating(epsilon) => {
                return self
                    .emit(JobEvent::Evaluating {
                        epsilon: astute_api::decimal(epsilon),
                    })
                    .await;
            }
            Note::Train(event) => event,
            Note::Searched(_) => return Ok(()),
        };
        let mut event = event;
        match &mut event {
            TrainEvent::Batch {
                epoch,
                batch,
                batches,
                eta_seconds,
                ..
            } => {
                if !due(&mut self.last_batch) {
                    return Ok(());
                }
                let per_batch = 1.0 / (*batches).max(1) as f64;
                let done = *epoch as f64 + (*batch + 1) as f64 * per_batch;
                let first = *self.resumed_at.get_or_insert(done - per_batch);
                *eta_seconds = eta(self.started.elapsed(), self.epochs, first, done);
            }
            TrainEvent::Checkpointed { epoch } => {
                self.store
                    .set_epochs_done(self.id, self.worker, *epoch as i64 + 1)
                    .await?;
            }
            _ => {}
        }
        self.emit(JobEvent::Train(event)).await
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
    job: impl FnOnce(Arc<AtomicBool>, mpsc::UnboundedSender<Note>) -> anyhow::Result<T> + Send + 'static,
    notes_to: &mut impl NoteSink,
) -> anyhow::Result<Ending<T>> {
    let cancel = Arc::new(AtomicBool::new(false));
    let (notes, mut received) = mpsc::unbounded_channel();
    let thread = {
        let cancel = cancel.clone();
        tokio::task::spawn_blocking(move || job(cancel, notes))
    };
    tokio::pin!(thread);
    let mut heartbeat = tokio::time::interval(config.lease / 4);
    let (mut lease_lost, mut stopping) = (false, false);
    let returned = loop {
        tokio::select! {
            returned = &mut thread => break returned,
            Some(note) = received.recv() => notes_to.take(note).await?,
            _ = heartbeat.tick() => match store.heartbeat(queue, id, &config.name, config.lease).await {
                Ok(Lease::CancelRequested) => cancel.store(true, Ordering::Relaxed),
                Ok(Lease::Held) => {}
                Ok(Lease::Lost) => {
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
    // A panic in the job ends the job, not the worker: it fails with the panic's message.
    let returned = returned.unwrap_or_else(|error| Err(panic_error(error)));
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

/// The error a job's thread left with when it did not return: a panic's message.
fn panic_error(error: tokio::task::JoinError) -> anyhow::Error {
    if !error.is_panic() {
        return anyhow::anyhow!("the job's thread was stopped: {error}");
    }
    let payload = error.into_panic();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    anyhow::anyhow!("internal error in the job (a bug in Astute, please report it): {message}")
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
    let eval_train = (config.eval_train > 0).then_some(config.eval_train);
    // The store is not trusted: a spec over this worker's budget fails before anything is
    // built.
    let epochs = match config.budget.check(&spec, eval_train) {
        Ok((train, _)) => train.epochs as f64,
        Err(error) => {
            let reason = format!("not run: {error}");
            store
                .end(Queue::Runs, &job.id, &config.name, Status::Failed, &reason)
                .await?;
            tracing::info!(run = %job.id, "failed: {reason}");
            return Ok(());
        }
    };
    let Claimed { id, attempts, .. } = job;
    let mut events = RunEvents {
        store,
        id: &id,
        worker: &config.name,
        seq: store.last_event(&id).await?,
        started: Instant::now(),
        epochs,
        resumed_at: None,
        last_batch: None,
    };
    events
        .emit(JobEvent::Claimed {
            worker: config.name.clone(),
            attempt: attempts,
            host: Some(config.host.clone()),
            backend: Some(config.backend.name().to_owned()),
        })
        .await?;

    // Training resumes from the lab's last stored checkpoint of the run, whichever machine
    // stored it.
    let scratch = config.state_dir.join("scratch").join(&id);
    match artifacts::fetch_checkpoint(&*config.artifacts, &id, &scratch).await {
        Ok(true) => tracing::info!(run = %id, "resuming from its stored checkpoint"),
        Ok(false) => {}
        Err(error) => {
            tracing::warn!(run = %id, "its stored checkpoint cannot be read, training from the start: {error:#}");
            let _ = tokio::fs::remove_dir_all(&scratch).await;
        }
    }
    let cancel_requested = Arc::new(AtomicBool::new(false));
    let job = {
        let (dirs, backend, budget) = (config.data.clone(), config.backend, config.budget);
        let spec = spec.clone();
        let (checkpoint_dir, artifacts, run) =
            (scratch.clone(), config.artifacts.clone(), id.clone());
        let runtime = tokio::runtime::Handle::current();
        let cancel_requested = cancel_requested.clone();
        move |cancel: Arc<AtomicBool>, notes: mpsc::UnboundedSender<Note>| {
            let split = load_data(spec.dataset, &dirs)?;
            let device = backend.device()?;
            let events = notes.clone();
            let executed = execute(
                &spec,
                &split,
                &device,
                Execution {
                    checkpoint_dir: Some(checkpoint_dir.clone()),
                    on_event: &mut |e| {
                        // A checkpoint counts (and a resume starts from it) once it is in the
                        // artifact store; training waits for the upload.
                        if let TrainEvent::Checkpointed { epoch } = e {
                            let stored = runtime.block_on(artifacts::put_checkpoint(
                                &*artifacts,
                                &run,
                                &checkpoint_dir,
                            ));
                            if let Err(error) = stored {
                                tracing::warn!(run = %run, epoch, "checkpoint not stored: {error:#}");
                                return;
                            }
                        }
                        let _ = events.send(Note::Train(e.clone()));
                    },
                    cancel: Some(cancel.clone()),
                    eval_train,
                    lipschitz_step: crate::execute::RUN_LIPSCHITZ_STEP,
                    precision: astute::weights::Precision::Full,
                    budget,
                },
                |epsilon| {
                    let _ = notes.send(Note::Evaluating(epsilon));
                },
            );
            cancel_requested.store(cancel.load(Ordering::Relaxed), Ordering::Relaxed);
            executed
        }
    };
    let ending = drive(store, config, Queue::Runs, &id, shutdown, job, &mut events).await;
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    match ending? {
        Ending::LeaseLost => {}
        Ending::ShutDown => {
            events
                .emit(JobEvent::Released {
                    reason: "worker shut down".into(),
                })
                .await?;
        }
        Ending::Returned(Ok(executed)) => {
            let weights = config
                .state_dir
                .join("scratch")
                .join(format!("{id}.safetensors"));
            tokio::fs::write(&weights, &executed.weights).await?;
            let stored = config.artifacts.put(&id, Kind::Weights, &weights).await;
            let _ = tokio::fs::remove_file(&weights).await;
            stored?;
            store
                .finish_run(&id, &config.name, &executed.result)
                .await?;
            // A finished run resumes no more.
            if let Err(error) = config.artifacts.delete(&id, Some(Kind::Checkpoint)).await {
                tracing::warn!(run = %id, "its last checkpoint stays stored: {error:#}");
            }
            events
                .emit(JobEvent::Finished {
                    status: Status::Done,
                    error: None,
                })
                .await?;
            tracing::info!(run = %id, "done");
        }
        Ending::Returned(Err(error)) => {
            let cancelled = cancel_requested.load(Ordering::Relaxed);
            let (status, reason) =
                end_unfinished(store, Queue::Runs, &id, &config.name, cancelled, &error).await?;
            events
                .emit(JobEvent::Finished {
                    status,
                    error: Some(reason),
                })
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
        move |cancel: Arc<AtomicBool>, notes: mpsc::UnboundedSender<Note>| {
            let data = load_data(spec.dataset, &dirs)?;
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
                &|split, done, total| {
                    let _ = notes.send(Note::Searched(SearchProgress { split, done, total }));
                },
                Some(&cancel),
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
        &mut SearchNotes {
            store,
            id: &id,
            worker: &config.name,
            last: None,
        },
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

/// A job's dataset. The reason a load failed names this machine's folders: it goes to
/// the worker's log, and the job's stored (public) error names only the dataset.
fn load_data(dataset: DatasetId, dirs: &DataDirs) -> anyhow::Result<astute::data::Split> {
    astute::data::load(dataset, dirs).map_err(|error| {
        tracing::warn!("{dataset}: {error}");
        anyhow::anyhow!(
            "{dataset} could not be read on this worker (`astute datasets` there says why)"
        )
    })
}

/// Seconds left until `epochs` are done, at the pace of this attempt: `done` epochs now,
/// `first` when it started, after `elapsed`.
fn eta(elapsed: Duration, epochs: f64, first: f64, done: f64) -> Option<f64> {
    let pace = elapsed.as_secs_f64() / (done - first);
    (done > first).then(|| pace * (epochs - done).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MAX_ATTEMPTS, Origin};
    use astute::method::Method;

    /// A store in a fresh folder and a worker configuration for it.
    async fn lab() -> (tempfile::TempDir, Store, WorkerConfig) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        let config = WorkerConfig {
            name: "test-0".to_owned(),
            host: "test".to_owned(),
            lease: Duration::from_secs(2),
            poll: Duration::from_millis(50),
            state_dir: dir.path().to_owned(),
            artifacts: std::sync::Arc::new(crate::artifacts::Files::new(dir.path())),
            data: DataDirs::new(None),
            backend: crate::device::Backend::Cpu,
            eval_train: 0,
            budget: Budget::DEFAULT,
        };
        (dir, store, config)
    }

    async fn queue_spiral(store: &Store) -> String {
        let spec = ExperimentSpec::new(DatasetId::Spiral, Method::Natural);
        store
            .create_run(
                &spec,
                &Origin::default(),
                &crate::provenance::of_this_process("cpu"),
            )
            .await
            .unwrap()
    }

    /// Claims the next run for `config`'s worker with `lease`; it must exist.
    async fn claim(store: &Store, config: &WorkerConfig, lease: Duration) -> Claimed {
        store
            .claim(Queue::Runs, &config.name, lease)
            .await
            .unwrap()
            .expect("a run to claim")
    }

    /// Asserts run `id` failed with an error that says `why`.
    async fn assert_failed(store: &Store, id: &str, why: &str) {
        let run = store.run(id).await.unwrap().unwrap().summary;
        assert_eq!(run.status, Status::Failed);
        let error = run.error.unwrap_or_default();
        assert!(error.contains(why), "{error:?} should say {why:?}");
    }

    /// A job without notes.
    struct NoNotes;

    impl NoteSink for NoNotes {
        async fn take(&mut self, _note: Note) -> anyhow::Result<()> {
            Ok(())
        }
    }

    /// A panic in a job ends the job as failed with the panic's message, and the worker
    /// goes on.
    #[tokio::test]
    async fn a_panicking_job_fails_with_its_message() {
        let (_dir, store, config) = lab().await;
        let id = queue_spiral(&store).await;
        let job = claim(&store, &config, config.lease).await;
        let (_stop, shutdown) = watch::channel(false);
        let panicking = |_: Arc<AtomicBool>,
                         _: mpsc::UnboundedSender<Note>|
         -> anyhow::Result<()> { panic!("capacity overflow") };
        let ending = drive(
            &store,
            &config,
            Queue::Runs,
            &job.id,
            shutdown,
            panicking,
            &mut NoNotes,
        )
        .await
        .unwrap();
        let Ending::Returned(Err(error)) = ending else {
            panic!("the panic was not returned as the job's error");
        };
        end_unfinished(&store, Queue::Runs, &id, &config.name, false, &error)
            .await
            .unwrap();
        assert_failed(&store, &id, "capacity overflow").await;
    }

    /// A job whose worker dies every time (its lease runs out while running) is failed
    /// after MAX_ATTEMPTS claims instead of crashing workers forever; a job handed back at
    /// shutdown does not use up an attempt.
    #[tokio::test]
    async fn a_job_that_keeps_killing_its_worker_is_failed() {
        let (_dir, store, config) = lab().await;
        let id = queue_spiral(&store).await;
        let released = claim(&store, &config, config.lease).await;
        store
            .release(Queue::Runs, &released.id, &config.name)
            .await
            .unwrap();
        for attempt in 1..=MAX_ATTEMPTS {
            let job = claim(&store, &config, Duration::from_millis(1)).await;
            assert_eq!(job.attempts, attempt);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let next = store.claim(Queue::Runs, &config.name, config.lease).await;
        assert!(next.unwrap().is_none());
        assert_failed(&store, &id, "3 times").await;
    }

    /// A run left `running` by a worker that died can be cancelled at once, then deleted.
    #[tokio::test]
    async fn a_stuck_run_can_be_cancelled_and_deleted() {
        let (_dir, store, config) = lab().await;
        let id = queue_spiral(&store).await;
        claim(&store, &config, Duration::from_millis(1)).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(
            store.delete(&id).await.unwrap(),
            crate::store::Deletion::Running
        );
        assert_eq!(
            store.cancel(Queue::Runs, &id).await.unwrap(),
            Some(Status::Cancelled)
        );
        assert_eq!(
            store.delete(&id).await.unwrap(),
            crate::store::Deletion::Deleted
        );
        assert!(store.run(&id).await.unwrap().is_none());
    }

    /// The store is not trusted: a stored spec over the worker's budget fails, naming
    /// why, without anything being built.
    #[tokio::test]
    async fn a_stored_spec_over_the_budget_fails_without_running() {
        let (_dir, store, mut config) = lab().await;
        config.budget.max_parameters = 1_000;
        let id = queue_spiral(&store).await;
        let job = claim(&store, &config, config.lease).await;
        let (_stop, shutdown) = watch::channel(false);
        process_run(&store, &config, job, shutdown).await.unwrap();
        assert_failed(
            &store,
            &id,
            "not run: architecture mlp-3-64: 8642 parameters, over the limit of 1000",
        )
        .await;
    }
}
