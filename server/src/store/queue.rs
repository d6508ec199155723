//! The job queue: runs and separation measurements are claimed by workers under a lease,
//! renewed while they work, and ended, released or given up on.

use std::time::Duration;

use astute_api::Status;
use sqlx::Row;

use super::{Dialect, Store, name_column, now_ms};

/// Claims of one job whose worker died or lost its lease each time before it is failed
/// instead of claimed again.
pub const MAX_ATTEMPTS: i64 = 3;

/// The two kinds of job, each in its own table with the same queue columns (status,
/// worker, lease_until, attempts, cancel_requested, spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Runs,
    Separations,
}

impl Queue {
    pub(super) fn table(self) -> &'static str {
        match self {
            Self::Runs => "runs",
            Self::Separations => "separations",
        }
    }

    /// One job of the kind, as `/api/workers` and error messages name it.
    pub fn job_kind(self) -> &'static str {
        match self {
            Self::Runs => "run",
            Self::Separations => "separation",
        }
    }
}

/// A job a worker has claimed; `spec` is its JSON, as the queue's kind defines it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub spec: String,
    pub attempts: i64,
}

/// Where a worker stands with a job it claimed, after renewing its lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// Renewed: work on.
    Held,
    /// Renewed, and a cancel was asked for: stop.
    CancelRequested,
    /// Another worker took the job, or it ended: stop without writing anything.
    Lost,
}

impl Store {
    /// The status of job `id`, `None` for an unknown one.
    pub async fn job_status(&self, queue: Queue, id: &str) -> anyhow::Result<Option<Status>> {
        let row = sqlx::query(&format!(
            "SELECT status FROM {} WHERE id = $1",
            queue.table()
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| name_column(&row, "status")).transpose()
    }

    /// The owner of job `id` (see [`super::Origin::owner`] and [`super::SHIPPED`]); `None`
    /// for an unknown one.
    pub async fn owner(&self, queue: Queue, id: &str) -> anyhow::Result<Option<Option<String>>> {
        let row = sqlx::query(&format!(
            "SELECT owner FROM {} WHERE id = $1",
            queue.table()
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| row.try_get("owner")).transpose()?)
    }

    /// Asks job `id` to stop: a queued one, or a running one whose worker stopped renewing
    /// its lease, is cancelled at once; a running one otherwise when its worker next renews
    /// the lease. Returns the status after the request, `None` for an unknown job.
    pub async fn cancel(&self, queue: Queue, id: &str) -> anyhow::Result<Option<Status>> {
        let table = queue.table();
        sqlx::query(&format!(
            "UPDATE {table} SET status = 'cancelled', finished_at = $1, lease_until = NULL \
             WHERE id = $2 AND (status = 'queued' OR (status = 'running' AND lease_until < $1))"
        ))
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        sqlx::query(&format!(
            "UPDATE {table} SET cancel_requested = 1 WHERE id = $1 AND status = 'running'"
        ))
        .bind(id)
        .execute(&self.pool)
        .await?;
        self.job_status(queue, id).await
    }
    /// Takes the oldest queued job, or a running one whose worker stopped renewing its
    /// lease (it resumes from its last checkpoint). Two workers never get the same job:
    /// PostgreSQL skips rows another transaction holds, SQLite has one writer at a time.
    pub async fn claim(
        &self,
        queue: Queue,
        worker: &str,
        lease: Duration,
    ) -> anyhow::Result<Option<Claimed>> {
        let table = queue.table();
        let now = now_ms();
        self.end_abandoned(queue, now).await?;
        let lock = match self.dialect {
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let row = sqlx::query(&format!(
            "UPDATE {table} SET status = 'running', worker = $1, lease_until = $2, \
             attempts = attempts + 1, started_at = COALESCE(started_at, $3) \
             WHERE id = (SELECT id FROM {table} \
                 WHERE (status = 'queued' OR (status = 'running' AND lease_until < $3)) \
                 ORDER BY created_at, id LIMIT 1 {lock}) \
             RETURNING id, spec, attempts"
        ))
        .bind(worker)
        .bind(now + lease.as_millis() as i64)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Claimed {
                id: row.try_get("id")?,
                spec: row.try_get("spec")?,
                attempts: row.try_get("attempts")?,
            })
        })
        .transpose()
    }

    /// Ends the jobs whose lease ran out that must not be claimed again: those a cancel
    /// was asked for (cancelled), and those that already took down their worker
    /// [`MAX_ATTEMPTS`] times (failed, so that a job that crashes its process cannot do
    /// so forever).
    async fn end_abandoned(&self, queue: Queue, now: i64) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "UPDATE {} SET finished_at = $1, lease_until = NULL, \
             status = CASE WHEN cancel_requested <> 0 THEN 'cancelled' ELSE 'failed' END, \
             error = CASE WHEN cancel_requested <> 0 THEN 'cancelled' ELSE $2 END \
             WHERE status = 'running' AND lease_until < $1 \
             AND (cancel_requested <> 0 OR attempts >= $3)",
            queue.table()
        ))
        .bind(now)
        .bind(format!(
            "stopped its worker {MAX_ATTEMPTS} times without finishing (the worker process \
             died or lost contact each time); not retried"
        ))
        .bind(MAX_ATTEMPTS)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Extends `worker`'s lease on job `id`.
    pub async fn heartbeat(
        &self,
        queue: Queue,
        id: &str,
        worker: &str,
        lease: Duration,
    ) -> anyhow::Result<Lease> {
        let row = sqlx::query(&format!(
            "UPDATE {} SET lease_until = $1 WHERE id = $2 AND worker = $3 AND status = 'running' \
             RETURNING cancel_requested",
            queue.table()
        ))
        .bind(now_ms() + lease.as_millis() as i64)
        .bind(id)
        .bind(worker)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            None => Lease::Lost,
            Some(row) if row.try_get::<i64, _>("cancel_requested")? != 0 => Lease::CancelRequested,
            Some(_) => Lease::Held,
        })
    }

    /// Ends a claimed job as failed or cancelled, with the reason. Only the worker holding
    /// the lease can; returns whether it did.
    pub async fn end(
        &self,
        queue: Queue,
        id: &str,
        worker: &str,
        status: Status,
        reason: &str,
    ) -> anyhow::Result<bool> {
        let updated = sqlx::query(&format!(
            "UPDATE {} SET status = $1, finished_at = $2, error = $3, lease_until = NULL \
             WHERE id = $4 AND worker = $5 AND status = 'running'",
            queue.table()
        ))
        .bind(status.as_str())
        .bind(now_ms())
        .bind(reason)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Hands a claimed job back to the queue (its worker is shutting down); the attempt
    /// does not count towards [`MAX_ATTEMPTS`].
    pub async fn release(&self, queue: Queue, id: &str, worker: &str) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "UPDATE {} SET status = 'queued', worker = NULL, lease_until = NULL, \
             attempts = attempts - 1 \
             WHERE id = $1 AND worker = $2 AND status = 'running'",
            queue.table()
        ))
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Runs and separation measurements queued or running for `owner`.
    pub async fn active_jobs(&self, owner: &str) -> anyhow::Result<i64> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM runs WHERE owner = $1 AND status IN ('queued', 'running')) \
             + (SELECT COUNT(*) FROM separations WHERE owner = $1 AND status IN ('queued', 'running'))",
        )
        .bind(owner)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }
}
