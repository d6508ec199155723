//! `astute reproduce --table N --scale S`: queues the jobs that reproduce one of the
//! paper's tables in the store (the same jobs the API queues), then works on them here
//! until they are done and prints the table, paper beside measured.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::sync::watch;

use super::serve::{WorkerArgs, spawn_workers};
use crate::reproduce::{Plan, Scale, available, plan};
use astute_api::Status;

use crate::store::Origin;
use crate::{findings, provenance};
use astute_api::table::Format;

use crate::tables::{self, Measured};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// 1 (separation), 2 (MNIST), 3 (CIFAR-10, SVHN, Restricted ImageNet), 4 (dropout).
    #[arg(long)]
    table: u8,
    #[arg(long, value_enum, default_value = "cpu")]
    scale: Scale,
    /// Seeds per row (tables show mean ± std over them).
    #[arg(long, default_value_t = 2)]
    seeds: u64,
    /// Only queue the jobs (for `astute serve` or `astute worker` processes to run).
    #[arg(long)]
    no_wait: bool,
    /// Jobs run at once here while waiting.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    #[command(flatten)]
    worker: WorkerArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.seeds == 0 || args.seeds > 100 {
        anyhow::bail!("--seeds {}: choose 1 to 100", args.seeds);
    }
    let have = available(&args.worker.data.dirs());
    let plan = plan(args.table, args.scale, args.seeds, &have).map_err(anyhow::Error::msg)?;
    // Table 1 has no seeds: its measurements are exact.
    let seeds = if args.table == 1 {
        String::new()
    } else {
        format!(" --seeds {}", args.seeds)
    };
    let command = format!(
        "astute reproduce --table {} --scale {}{seeds}",
        args.table,
        args.scale.name(),
    );
    let provenance = provenance::provenance(command.clone(), &args.worker.backend_name());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = args.worker.store.open().await?;
        let scale = Some(args.scale.name().to_owned());
        let at_scale = Origin {
            scale: scale.clone(),
            ..Origin::default()
        };
        let mut runs = Vec::new();
        let mut reused = 0;
        let mut separations = Vec::new();
        match &plan {
            Plan::Separations(specs) => {
                for spec in specs {
                    separations.push(
                        store
                            .create_separation(spec, &at_scale, &provenance)
                            .await?,
                    );
                }
            }
            Plan::Runs(planned) => {
                for p in planned {
                    let origin = Origin {
                        stands_in_for: p.stands_in_for,
                        ..at_scale.clone()
                    };
                    match store.find_run(&p.spec, scale.as_deref()).await? {
                        Some(id) => {
                            reused += 1;
                            runs.push(id);
                        }
                        None => runs.push(store.create_run(&p.spec, &origin, &provenance).await?),
                    }
                }
            }
        }
        eprintln!(
            "{command}: queued {} training run(s) and {} separation measurement(s); \
             {reused} run(s) of this table at this scale were already queued or done",
            runs.len() - reused,
            separations.len()
        );
        if args.no_wait {
            store.close().await;
            return Ok(());
        }
        let (stop, shutdown) = watch::channel(false);
        let workers = spawn_workers(&store, &args.worker, args.workers, &shutdown).await?;
        let started = std::time::Instant::now();
        let mut reported = BTreeSet::new();
        loop {
            let mut open = 0;
            for id in &runs {
                let run = store.run(id).await?.map(|r| r.summary);
                match run {
                    Some(s) if s.status.is_final() => {
                        if reported.insert(id.clone()) {
                            eprintln!(
                                "[{:>5.0} s] run {id} {} {} {} seed {}: {} (test {:.2}, adv {:.2})",
                                started.elapsed().as_secs_f64(),
                                s.dataset,
                                s.architecture,
                                s.method,
                                s.seed,
                                s.status.as_str(),
                                s.test_acc.unwrap_or(f64::NAN),
                                s.adv_test_acc.unwrap_or(f64::NAN)
                            );
                        }
                    }
                    _ => open += 1,
                }
            }
            for id in &separations {
                match store.separation(id).await? {
                    Some(r) if r.status.is_final() => {
                        if reported.insert(id.clone()) {
                            eprintln!(
                                "[{:>5.0} s] separation {id} {}: {} (Train–Train min {:.4}, Test–Train min {:.4})",
                                started.elapsed().as_secs_f64(),
                                r.dataset,
                                r.status.as_str(),
                                r.min_train_train.unwrap_or(f64::NAN),
                                r.min_test_train.unwrap_or(f64::NAN)
                            );
                        }
                    }
                    _ => open += 1,
                }
            }
            if open == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let _ = stop.send(true);
        for worker in workers {
            let _ = worker.await;
        }
        let measured = Measured {
            runs: store.done_results().await?,
            separations: store.done_separations().await?,
        };
        store.close().await;
        let failed = reported.len() - count_done(&measured, &runs, &separations);
        if let Some(table) = tables::build(args.table, &measured, tables::Untrained::LeftOut) {
            println!("{}", table.render(Format::Markdown));
            for finding in findings::check(std::slice::from_ref(&table)) {
                println!("{}", finding.line());
            }
        }
        eprintln!(
            "{command}: {} job(s) in {:.0} s{}",
            reported.len(),
            started.elapsed().as_secs_f64(),
            if failed > 0 {
                format!(", {failed} not done (see `GET /api/runs?status=failed`)")
            } else {
                String::new()
            }
        );
        Ok(())
    })
}

/// How many of this reproduction's jobs finished as done.
fn count_done(measured: &Measured, runs: &[String], separations: &[String]) -> usize {
    measured
        .runs
        .iter()
        .filter(|(s, _)| s.status == Status::Done && runs.contains(&s.id))
        .count()
        + measured
            .separations
            .iter()
            .filter(|r| separations.contains(&r.id))
            .count()
}
