//! `astute serve` (the HTTP API, with its workers in a process of their own) and
//! `astute worker` (workers alone, for more machines on one shared database).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use super::budget_args::BudgetArgs;
use super::data_dirs::DataArgs;
use super::store_args::StoreArgs;
use crate::device::Backend;
use crate::http::connections::{self, ConnectionLimits};
use crate::http::{AppState, Rate, RateLimits, StreamLimits, router};
use crate::store::{Dialect, Store, WorkerProcess, listen_for_events, random_hex};
use crate::worker::{WorkerConfig, work};

/// How this process's workers run jobs.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
    /// Compute backend the workers train on.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// A claimed run goes back to the queue after this many seconds without a heartbeat.
    #[arg(long, default_value_t = 30)]
    lease_seconds: u64,
    /// Training images evaluated per run (the first N; 0 = all).
    #[arg(long, default_value_t = 10_000)]
    eval_train: usize,
    #[command(flatten)]
    budget: BudgetArgs,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

impl WorkerArgs {
    /// Training images evaluated when a spec does not say (`None`: all).
    pub fn default_eval_train(&self) -> Option<usize> {
        (self.eval_train > 0).then_some(self.eval_train)
    }

    /// The backend's name, as provenance records it.
    pub fn backend_name(&self) -> String {
        self.backend.name().to_owned()
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Jobs run at once by this server's worker process (0: leave them to `astute worker`
    /// processes).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Start a new store empty instead of with the shipped results.
    #[arg(long)]
    no_seed: bool,
    /// Reads per second allowed per client address (0: no limit).
    #[arg(long, default_value_t = 100.0)]
    read_rate: f64,
    /// Reads a client may make at once after a quiet spell.
    #[arg(long, default_value_t = 200.0)]
    read_burst: f64,
    /// Writes (create, cancel, delete) per second allowed per client address (0: no limit).
    #[arg(long, default_value_t = 1.0)]
    write_rate: f64,
    #[arg(long, default_value_t = 10.0)]
    write_burst: f64,
    /// Open connections in all; more are closed at once.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Open connections per client address.
    #[arg(long, default_value_t = 64)]
    max_connections_per_client: usize,
    /// Seconds a client has to send a request's headers; a kept-alive connection idle
    /// this long is closed.
    #[arg(long, default_value_t = 10)]
    header_timeout_seconds: u64,
    /// Runs and separation measurements one token may have queued or running at once
    /// (admin tokens: no limit).
    #[arg(long, default_value_t = 20)]
    max_active_per_token: i64,
    /// Live event streams open per client address.
    #[arg(long, default_value_t = 8)]
    max_streams_per_client: usize,
    /// Live event streams open in all.
    #[arg(long, default_value_t = 1024)]
    max_streams: usize,
    /// Seconds a live event stream stays open; the browser then reconnects where it
    /// left off.
    #[arg(long, default_value_t = 300)]
    stream_seconds: u64,
    /// The reverse proxy in front of this server: only from this address are
    /// `X-Forwarded-For` and `Forwarded` believed, and it is not limited per connection.
    #[arg(long)]
    trusted_proxy: Option<std::net::IpAddr>,
    /// Run only this server's workers, in a process of their own that stops when its
    /// standard input closes: how `serve` starts them, so that a job that brings its
    /// process down (out of memory, say) never takes the HTTP server with it.
    #[arg(long, hide = true)]
    worker_process: bool,
    /// How live event streams learn of new events: `notify`, pushed by PostgreSQL
    /// (`LISTEN`/`NOTIFY`), or `poll`, a look every quarter second (always, with SQLite).
    #[arg(long, value_enum, default_value = "notify")]
    live_events: LiveEvents,
    /// The web app's folder, as `cargo xtask site` builds it.
    #[arg(long, env = "ASTUTE_SITE_DIR", default_value = "target/site")]
    site: std::path::PathBuf,
    #[command(flatten)]
    worker: WorkerArgs,
}

/// How live event streams learn of new events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LiveEvents {
    Notify,
    Poll,
}

/// The results a new store starts with: what `astute reproduce` measured and
/// `astute export` wrote (see the README), never edited by hand.
const SEED: &str = include_str!("../../seed/results.json");

#[derive(Debug, clap::Args)]
pub struct WorkerOnlyArgs {
    /// Jobs run at once.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    #[command(flatten)]
    worker: WorkerArgs,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Turns true on Ctrl-C or SIGTERM.
fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let terminate = async {
            if let Ok(mut signal) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                signal.recv().await;
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate => {}
        }
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    rx
}

/// This machine's name, as the lab's worker list shows it.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".to_owned())
}

/// Registers this process in the lab's worker list, then starts `count` workers on
/// `store` and the entry's heartbeat (every quarter lease; the entry is removed at the
/// end); all stop when `shutdown` turns true.
pub(super) async fn spawn_workers(
    store: &Store,
    args: &WorkerArgs,
    count: usize,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let host = host_name();
    let process = WorkerProcess {
        name: format!("{host}-{}", random_hex(3)?),
        host: host.clone(),
        backend: args.backend_name(),
        slots: count,
        version: format!("{} ({})", env!("CARGO_PKG_VERSION"), crate::build_commit()),
        lease: Duration::from_secs(args.lease_seconds.max(2)),
    };
    if let Err(error) = store.register_worker(&process).await {
        tracing::warn!("this worker is not in the lab's worker list: {error:#}");
    }
    let mut tasks: Vec<_> = (0..count)
        .map(|slot| {
            let config = WorkerConfig {
                name: format!("{}-{slot}", process.name),
                host: host.clone(),
                lease: process.lease,
                poll: Duration::from_millis(500),
                state_dir: args.store.state_dir(),
                artifacts: args.store.artifacts(store),
                data: args.data.dirs(),
                backend: args.backend,
                eval_train: args.eval_train,
                budget: args.budget.budget(),
            };
            tokio::spawn(work(store.clone(), config, shutdown.clone()))
        })
        .collect();
    tasks.push(tokio::spawn(keep_registered(
        store.clone(),
        process,
        shutdown.clone(),
    )));
    Ok(tasks)
}

/// Keeps registered `process` in the lab's worker list until `shutdown`.
async fn keep_registered(
    store: Store,
    process: WorkerProcess,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut heartbeat = tokio::time::interval(process.lease / 4);
    loop {
        tokio::select! {
            _ = heartbeat.tick() => {
                if let Err(error) = store.worker_heartbeat(&process.name).await {
                    tracing::warn!("worker heartbeat failed: {error:#}");
                }
            }
            _ = stopped(&mut shutdown) => break,
        }
    }
    if let Err(error) = store.remove_worker(&process.name).await {
        tracing::warn!(
            "this worker stays in the lab's worker list until its lease ends: {error:#}"
        );
    }
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.worker_process {
        return worker_process(args);
    }
    runtime()?.block_on(async {
        let store = args.worker.store.open().await?;
        if !args.no_seed {
            let seed: crate::store::Seed = serde_json::from_str(SEED)?;
            if store.import_if_empty(&seed).await? {
                eprintln!(
                    "a new store: starting from the shipped results ({} runs, {} separation measurements)",
                    seed.runs.len(),
                    seed.separations.len()
                );
            }
        }
        let shutdown = shutdown_signal();
        let wakeups = match (&args.worker.store.database_url, args.live_events) {
            (Some(url), LiveEvents::Notify) if store.dialect() == Dialect::Postgres => {
                Some(listen_for_events(url).await.context("listening for run events")?)
            }
            _ => None,
        };
        let workers =
            (args.workers > 0).then(|| tokio::spawn(supervise_workers(shutdown.clone())));
        let state = AppState {
            store: store.clone(),
            artifacts: args.worker.store.artifacts(&store),
            data: args.worker.data.dirs(),
            backend: args.worker.backend_name(),
            shutdown: shutdown.clone(),
            datasets: Default::default(),
            budget: args.worker.budget.budget(),
            default_eval_train: args.worker.default_eval_train(),
            streams: StreamLimits {
                open: Default::default(),
                per_client: args.max_streams_per_client.max(1),
                total: args.max_streams.max(1),
                lifetime: Duration::from_secs(args.stream_seconds.max(1)),
            },
            tables: Default::default(),
            wakeups,
            max_active_per_token: args.max_active_per_token.max(1),
        };
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("listening on {}", args.addr))?;
        let addr = listener.local_addr()?;
        eprintln!(
            "astute serving on http://{addr} ({} workers in a worker process)",
            args.workers
        );
        let rate = |per_second: f64, burst: f64| {
            (per_second > 0.0).then_some(Rate {
                per_second,
                burst: burst.max(1.0),
            })
        };
        let limits = RateLimits::new(
            rate(args.read_rate, args.read_burst),
            rate(args.write_rate, args.write_burst),
        );
        let mut stop = shutdown.clone();
        let connection_limits = ConnectionLimits {
            total: args.max_connections.max(1),
            per_client: args.max_connections_per_client.max(1),
            header_timeout: Duration::from_secs(args.header_timeout_seconds.max(1)),
            trusted_proxy: args.trusted_proxy,
        };
        connections::serve(
            listener,
            router(state, limits, &args.site),
            connection_limits,
            async move {
                let _ = stop.wait_for(|&s| s).await;
            },
        )
        .await;
        if let Some(workers) = workers {
            let _ = workers.await;
        }
        store.close().await;
        Ok(())
    })
}

/// Keeps this server's worker process running until `shutdown`: the same command line
/// with `--worker-process`, started again (after a pause that grows while it keeps dying
/// young) whenever it ends. At shutdown its standard input is closed, and it hands its
/// jobs back and stops.
async fn supervise_workers(mut shutdown: watch::Receiver<bool>) {
    const FIRST_PAUSE: Duration = Duration::from_secs(1);
    const LONGEST_PAUSE: Duration = Duration::from_secs(60);
    let mut pause = FIRST_PAUSE;
    loop {
        let stopping = *shutdown.borrow();
        if stopping {
            return;
        }
        let started = std::time::Instant::now();
        let child = std::env::current_exe().and_then(|exe| {
            tokio::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .arg("--worker-process")
                .stdin(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
        });
        match child {
            Ok(mut child) => {
                // Held here, not in `child`: waiting on a child closes its stdin.
                let stdin = child.stdin.take();
                tokio::select! {
                    status = child.wait() => match status {
                        Ok(status) => tracing::error!("the worker process ended ({status}); starting another"),
                        Err(error) => tracing::error!("the worker process: {error}"),
                    },
                    _ = stopped(&mut shutdown) => {
                        drop(stdin);
                        let _ = child.wait().await;
                        return;
                    }
                }
            }
            Err(error) => tracing::error!("could not start the worker process: {error}"),
        }
        if started.elapsed() > LONGEST_PAUSE {
            pause = FIRST_PAUSE;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stopped(&mut shutdown) => return,
        }
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Completes when `shutdown` turns true.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|&stop| stop).await;
}

/// The worker process of `astute serve`: its workers, until its parent closes its
/// standard input (or exits) or a signal arrives.
fn worker_process(args: ServeArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let store = args.worker.store.open().await?;
        let (stop, shutdown) = watch::channel(false);
        let mut signal = shutdown_signal();
        tokio::spawn(async move {
            let mut stdin = tokio::io::stdin();
            let mut sink = [0u8; 64];
            let parent_gone = async {
                use tokio::io::AsyncReadExt;
                while stdin.read(&mut sink).await.is_ok_and(|n| n > 0) {}
            };
            tokio::select! {
                _ = parent_gone => {}
                _ = stopped(&mut signal) => {}
            }
            let _ = stop.send(true);
        });
        let workers = spawn_workers(&store, &args.worker, args.workers, &shutdown).await?;
        eprintln!(
            "astute worker process {}: {} slot(s) taking jobs",
            std::process::id(),
            args.workers
        );
        for worker in workers {
            let _ = worker.await;
        }
        store.close().await;
        Ok(())
    })
}

pub fn worker(args: WorkerOnlyArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let store = args.worker.store.open().await?;
        let shutdown = shutdown_signal();
        let workers = spawn_workers(&store, &args.worker, args.workers, &shutdown).await?;
        // Said once this process is in the lab's worker list.
        eprintln!("astute worker: {} slot(s) taking jobs", args.workers);
        for worker in workers {
            let _ = worker.await;
        }
        store.close().await;
        Ok(())
    })
}
