//! `astute serve` (the HTTP API with in-process workers) and `astute worker` (workers
//! alone, for more machines on one shared database).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use super::data_dirs::DataArgs;
use super::store_args::StoreArgs;
use crate::device::Backend;
use crate::http::{AppState, router};
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
    data: DataArgs,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Jobs run at once in this process (0: leave them to `astute worker` processes).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    #[command(flatten)]
    worker: WorkerArgs,
}

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
fn spawn_workers(
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
        let shutdown = shutdown_signal();
        let workers = spawn_workers(&store, &args.worker, args.workers, &shutdown)?;
        let state = AppState {
            store: store.clone(),
            state_dir: args.worker.store.state_dir(),
            data: args.worker.data.dirs(),
            backend: format!("{:?}", args.worker.backend).to_lowercase(),
            shutdown: shutdown.clone(),
        };
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("listening on {}", args.addr))?;
        let addr = listener.local_addr()?;
        eprintln!(
            "astute serving on http://{addr} ({} in-process workers)",
            args.workers
        );
        let mut stop = shutdown.clone();
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
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
