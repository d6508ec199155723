//! `astute serve` (the HTTP API with in-process workers) and `astute worker` (workers
//! alone, for more machines on one shared database).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use super::data_dirs::DataArgs;
use super::store_args::StoreArgs;
use crate::device::Backend;
use crate::http::{AppState, Rate, RateLimits, router};
use crate::store::{Store, random_hex};
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
    pub data: DataArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

impl WorkerArgs {
    /// The backend's name, as provenance records it.
    pub fn backend_name(&self) -> String {
        format!("{:?}", self.backend).to_lowercase()
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Jobs run at once in this process (0: leave them to `astute worker` processes).
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
    /// The web app's folder, as `cargo xtask site` builds it.
    #[arg(long, env = "ASTUTE_SITE_DIR", default_value = "target/site")]
    site: std::path::PathBuf,
    #[command(flatten)]
    worker: WorkerArgs,
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

/// Starts `count` workers on `store`; they stop when `shutdown` turns true.
pub(super) fn spawn_workers(
    store: &Store,
    args: &WorkerArgs,
    count: usize,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let process = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "host".to_owned()),
        random_hex(3)?
    );
    Ok((0..count)
        .map(|slot| {
            let config = WorkerConfig {
                name: format!("{process}-{slot}"),
                lease: Duration::from_secs(args.lease_seconds.max(2)),
                poll: Duration::from_millis(500),
                state_dir: args.store.state_dir(),
                data: args.data.dirs(),
                backend: args.backend,
                eval_train: args.eval_train,
            };
            tokio::spawn(work(store.clone(), config, shutdown.clone()))
        })
        .collect())
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
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
        let workers = spawn_workers(&store, &args.worker, args.workers, &shutdown)?;
        let state = AppState {
            store: store.clone(),
            state_dir: args.worker.store.state_dir(),
            data: args.worker.data.dirs(),
            backend: args.worker.backend_name(),
            shutdown: shutdown.clone(),
            datasets: Default::default(),
        };
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("listening on {}", args.addr))?;
        let addr = listener.local_addr()?;
        eprintln!(
            "astute serving on http://{addr} ({} in-process workers)",
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
        axum::serve(
            listener,
            router(state, limits, &args.site).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|&s| s).await;
        })
        .await?;
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
        eprintln!("astute worker: {} slot(s) taking jobs", args.workers);
        for worker in spawn_workers(&store, &args.worker, args.workers, &shutdown)? {
            let _ = worker.await;
        }
        store.close().await;
        Ok(())
    })
}
