//! `astute lab-bench`: what a lab's shared store does per second, measured against a real
//! database: how long a worker's event takes to reach a browser's live stream (a server's
//! streams polling, against PostgreSQL pushing word with `LISTEN`/`NOTIFY`), and how many
//! jobs N workers claim per second (each job claimed once, checked), and how fast the
//! lab's artifact store takes and gives back a checkpoint.
//!
//! It adds its own jobs to the database and removes them after: run it on a lab's
//! database when the lab is idle, or on an empty one.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use astute::api::{DatasetId, ExperimentSpec};
use astute::method::Method;
use astute_api::{JobEvent, Status};

use super::store_args::StoreArgs;
use crate::artifacts::{ArtifactStore, Kind};
use crate::store::{Origin, Queue, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Event latency from the store to a live stream, polling and pushed.
    Events,
    /// Jobs claimed per second by 1, 4 and 16 workers.
    Claims,
    /// MB/s storing and fetching one artifact of `--artifact-mib`.
    Artifacts,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which measurements to make (comma-separated; all by default).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Part>,
    /// Events whose latency is measured, per way of learning of them.
    #[arg(long, default_value_t = 200)]
    events: usize,
    /// Jobs claimed by each number of workers.
    #[arg(long, default_value_t = 1000)]
    jobs: usize,
    /// Size of the artifact stored and fetched, in MiB.
    #[arg(long, default_value_t = 256)]
    artifact_mib: usize,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.events > 0 && args.jobs > 0,
        "--events and --jobs must be at least 1"
    );
    let wants = |part| args.only.is_empty() || args.only.contains(&part);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let store = runtime.block_on(args.store.open())?;
    let postgres = store.dialect() == crate::store::Dialect::Postgres;
    if wants(Part::Events) {
        println!(
            "Live-event latency, store → server → stream, over {} events (ms):",
            args.events
        );
        let ways: &[&str] = if postgres {
            &["poll", "notify"]
        } else {
            &["poll"]
        };
        for way in ways {
            let latencies = runtime.block_on(event_latencies(&store, &args, way))?;
            println!(
                "  {way:<6}  median {:7.2}  p99 {:7.2}  max {:7.2}",
                quantile(&latencies, 0.5),
                quantile(&latencies, 0.99),
                quantile(&latencies, 1.0)
            );
        }
        if !postgres {
            println!("  (notify needs PostgreSQL: give --database-url postgres://...)");
        }
    }
    if wants(Part::Claims) {
        println!(
            "Jobs claimed and ended per second, {} jobs each:",
            args.jobs
        );
        for workers in [1, 4, 16] {
            let rate = runtime.block_on(claim_rate(&store, args.jobs, workers))?;
            println!("  {workers:>2} worker(s)  {rate:8.1} jobs/s, none claimed twice");
        }
    }
    if wants(Part::Artifacts) {
        let artifacts = args.store.artifacts(&store);
        let (put, fetch) = runtime.block_on(artifact_rates(&*artifacts, args.artifact_mib))?;
        println!(
            "One {} MiB artifact: stored at {put:.0} MB/s, fetched (checksum checked) at {fetch:.0} MB/s",
            args.artifact_mib
        );
    }
    runtime.block_on(store.close());
    Ok(())
}

/// MB/s storing, then fetching, one artifact of `mib` MiB of varied bytes.
async fn artifact_rates(artifacts: &dyn ArtifactStore, mib: usize) -> anyhow::Result<(f64, f64)> {
    let dir = tempfile::tempdir()?;
    let source = dir.path().join("source");
    let mut state = 1u64;
    let bytes: Vec<u8> = (0..mib << 20)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            (state >> 56) as u8
        })
        .collect();
    std::fs::write(&source, &bytes)?;
    let megabytes = bytes.len() as f64 / 1e6;
    drop(bytes);
    let run = "lab-bench-artifact";
    let started = Instant::now();
    artifacts.put(run, Kind::Checkpoint, &source).await?;
    let put = megabytes / started.elapsed().as_secs_f64();
    let started = Instant::now();
    anyhow::ensure!(
        artifacts
            .fetch(run, Kind::Checkpoint, &dir.path().join("fetched"))
            .await?,
        "the artifact just stored is not there"
    );
    let fetch = megabytes / started.elapsed().as_secs_f64();
    artifacts.delete(run, None).await?;
    Ok((put, fetch))
}

/// The `q` quantile of `values` (nearest rank).
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// A tiny queued run for the benchmark (never trained).
async fn bench_run(store: &Store, seed: u64) -> anyhow::Result<String> {
    let mut spec = ExperimentSpec::new(DatasetId::Spiral, Method::Natural);
    spec.seed = seed;
    let origin = Origin {
        scale: Some("lab-bench".into()),
        ..Origin::default()
    };
    store
        .create_run(&spec, &origin, &crate::provenance::of_this_process("cpu"))
        .await
}

/// A server on the same database learning of events the `way` given, killed when dropped.
struct Server {
    child: Child,
    base: String,
    _state: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(store_args: &StoreArgs, way: &str) -> anyhow::Result<Server> {
    let state = tempfile::tempdir()?;
    let mut command = Command::new(std::env::current_exe()?);
    command.args([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--workers",
        "0",
        "--no-seed",
    ]);
    command.args(["--read-rate", "0", "--live-events", way, "--state-dir"]);
    match &store_args.database_url {
        Some(url) => command.arg(state.path()).args(["--database-url", url]),
        // The embedded database is in the state folder: the server must use the same one.
        None => command.arg(store_args.state_dir()),
    };
    let mut child = command.stderr(Stdio::piped()).spawn()?;
    let stderr = child.stderr.take().context("the server's standard error")?;
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines
            .next()
            .context("the server ended before it served")??;
        if let Some(rest) = line.split("serving on ").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
    };
    // The rest of its log is not needed, but must be read for the server not to block.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(Server {
        child,
        base,
        _state: state,
    })
}

/// Milliseconds from storing each of `args.events` events of one run to a live stream of
/// a fresh server receiving it, the server learning of events the `way` given.
async fn event_latencies(store: &Store, args: &Args, way: &str) -> anyhow::Result<Vec<f64>> {
    let server = start_server(&args.store, way)?;
    let id = bench_run(store, 0).await?;
    let (received, arrivals) = mpsc::channel::<(i64, Instant)>();
    let url = format!("{}/api/runs/{id}/events", server.base);
    std::thread::spawn(move || -> anyhow::Result<()> {
        let response = ureq::get(&url).call()?;
        let mut seq = None;
        for line in BufReader::new(response.into_body().into_reader()).lines() {
            let line = line?;
            if let Some(number) = line.strip_prefix("id:") {
                seq = number.trim().parse().ok();
            } else if line.starts_with("event: progress")
                && let Some(seq) = seq
                && received.send((seq, Instant::now())).is_err()
            {
                return Ok(());
            }
        }
        Ok(())
    });
    // Events at irregular intervals longer than a poll (20 to 531 ms), so that a polling
    // stream is asleep for a uniformly random part of its poll when one is stored.
    let mut pause = 12345u64;
    let mut latencies = Vec::with_capacity(args.events);
    for seq in 1..=args.events as i64 {
        pause = pause.wrapping_mul(6364136223846793005).wrapping_add(1);
        tokio::time::sleep(Duration::from_millis(20 + (pause >> 55))).await;
        let stored = Instant::now();
        let event = JobEvent::Released {
            reason: format!("lab-bench event {seq}"),
        };
        store.append_event(&id, seq, &event).await?;
        let arrived = loop {
            let (got, at) =
                tokio::task::block_in_place(|| arrivals.recv_timeout(Duration::from_secs(10)))
                    .context("an event did not reach the stream within 10 s")?;
            if got == seq {
                break at;
            }
        };
        latencies.push(arrived.duration_since(stored).as_secs_f64() * 1000.0);
    }
    drop(server);
    store.cancel(Queue::Runs, &id).await?;
    store.delete(&id).await?;
    Ok(latencies)
}

/// Jobs per second that `workers` concurrent workers claim and end, of `jobs` queued; fails
/// if one is claimed twice.
async fn claim_rate(store: &Store, jobs: usize, workers: usize) -> anyhow::Result<f64> {
    let mut ids = Vec::with_capacity(jobs);
    for seed in 0..jobs {
        ids.push(bench_run(store, seed as u64).await?);
    }
    let queued: std::sync::Arc<std::collections::HashSet<String>> =
        std::sync::Arc::new(ids.iter().cloned().collect());
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let store = store.clone();
            let ids = queued.clone();
            tokio::spawn(async move {
                let name = format!("lab-bench-{w}");
                let mut claimed = Vec::new();
                while let Some(job) = store
                    .claim(Queue::Runs, &name, Duration::from_secs(60))
                    .await?
                {
                    // Other queued runs of the lab stay as they were.
                    if !ids.contains(&job.id) {
                        store.release(Queue::Runs, &job.id, &name).await?;
                        anyhow::bail!(
                            "the queue holds runs other than the benchmark's: run it on an idle lab"
                        );
                    }
                    store
                        .end(Queue::Runs, &job.id, &name, Status::Cancelled, "lab-bench")
                        .await?;
                    claimed.push(job.id);
                }
                anyhow::Ok(claimed)
            })
        })
        .collect();
    let mut claimed = Vec::with_capacity(jobs);
    for task in tasks {
        claimed.extend(task.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    claimed.sort();
    let mut unique = claimed.clone();
    unique.dedup();
    anyhow::ensure!(
        unique.len() == claimed.len(),
        "{} job(s) claimed twice",
        claimed.len() - unique.len()
    );
    anyhow::ensure!(
        claimed.len() == jobs,
        "{} of {jobs} jobs claimed",
        claimed.len()
    );
    for id in &ids {
        store.delete(id).await?;
    }
    Ok(jobs as f64 / seconds)
}
