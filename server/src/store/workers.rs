//! The worker processes of a lab (`migrations/0009_workers.sql`): registered at start,
//! kept alive by a heartbeat, listed with the jobs their slots run while their lease holds.

use std::time::Duration;

use astute_api::{WorkerEntry, WorkerJob};
use sqlx::Row;

use super::{Queue, Store, now_ms};

/// What a worker process says of itself when it starts.
#[derive(Debug, Clone)]
pub struct WorkerProcess {
    pub name: String,
    pub host: String,
    pub backend: String,
    pub slots: usize,
    pub version: String,
    /// Silent this long, it is dead.
    pub lease: Duration,
}

/// Dead workers' rows are removed this long after their last heartbeat.
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;

impl Store {
    /// Registers `worker` as alive now (and forgets workers long dead).
    pub async fn register_worker(&self, worker: &WorkerProcess) -> anyhow::Result<()> {
        let now = now_ms();
        sqlx::query("DELETE FROM workers WHERE heartbeat_at < $1")
            .bind(now - FORGET_AFTER_MS)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO workers (name, host, backend, slots, version, started_at, heartbeat_at, lease_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(&worker.name)
        .bind(&worker.host)
        .bind(&worker.backend)
        .bind(i64::try_from(worker.slots)?)
        .bind(&worker.version)
        .bind(now)
        .bind(i64::try_from(worker.lease.as_millis())?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Worker `name` is alive now.
    pub async fn worker_heartbeat(&self, name: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE workers SET heartbeat_at = $1 WHERE name = $2")
            .bind(now_ms())
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Worker `name` stopped.
    pub async fn remove_worker(&self, name: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM workers WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The workers whose lease holds, oldest first, each with the jobs its slots run.
    pub async fn live_workers(&self) -> anyhow::Result<Vec<WorkerEntry>> {
        let rows = sqlx::query(
            "SELECT name, host, backend, slots, version, started_at, heartbeat_at FROM workers \
             WHERE heartbeat_at + lease_ms >= $1 ORDER BY started_at, name",
        )
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await?;
        let mut running = Vec::new();
        for queue in [Queue::Runs, Queue::Separations] {
            let jobs = sqlx::query(&format!(
                "SELECT id, worker FROM {} WHERE status = 'running' AND worker IS NOT NULL",
                queue.table()
            ))
            .fetch_all(&self.pool)
            .await?;
            for job in jobs {
                running.push(WorkerJob {
                    kind: queue.job_kind().to_owned(),
                    id: job.try_get("id")?,
                    slot: job.try_get("worker")?,
                });
            }
        }
        rows.iter()
            .map(|row| {
                let name: String = row.try_get("name")?;
                let slot_prefix = format!("{name}-");
                Ok(WorkerEntry {
                    jobs: running
                        .iter()
                        .filter(|job| job.slot.starts_with(&slot_prefix))
                        .cloned()
                        .collect(),
                    name,
                    host: row.try_get("host")?,
                    backend: row.try_get("backend")?,
                    slots: usize::try_from(row.try_get::<i64, _>("slots")?)?,
                    version: row.try_get("version")?,
                    started_at: row.try_get("started_at")?,
                    heartbeat_at: row.try_get("heartbeat_at")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(name: &str, lease: Duration) -> WorkerProcess {
        WorkerProcess {
            name: name.to_owned(),
            host: "gpu-1".to_owned(),
            backend: "cuda".to_owned(),
            slots: 2,
            version: "0.1.0 (abc)".to_owned(),
            lease,
        }
    }

    #[tokio::test]
    async fn a_worker_is_listed_while_its_lease_holds() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        store
            .register_worker(&process("a", Duration::from_secs(60)))
            .await
            .unwrap();
        store
            .register_worker(&process("b", Duration::from_millis(300)))
            .await
            .unwrap();
        let names = |workers: Vec<WorkerEntry>| -> Vec<String> {
            workers.into_iter().map(|w| w.name).collect()
        };
        assert_eq!(names(store.live_workers().await.unwrap()), ["a", "b"]);
        // b's heartbeat keeps it listed past its first lease; silent, it goes.
        tokio::time::sleep(Duration::from_millis(200)).await;
        store.worker_heartbeat("b").await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(names(store.live_workers().await.unwrap()), ["a", "b"]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(names(store.live_workers().await.unwrap()), ["a"]);
        let a = &store.live_workers().await.unwrap()[0];
        assert_eq!(
            (a.host.as_str(), a.backend.as_str(), a.slots),
            ("gpu-1", "cuda", 2)
        );
        store.remove_worker("a").await.unwrap();
        assert!(store.live_workers().await.unwrap().is_empty());
    }
}
