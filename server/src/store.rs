//! The result store: runs (which are also the job queue), their progress events, and API
//! tokens, in SQLite (the embedded default) or PostgreSQL (a shared lab), through one set
//! of portable queries on sqlx's `Any` driver. Migrations run on open.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use astute::api::ExperimentSpec;
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use astute::api::SeparationSpec;
use astute::separation::{SeparationReport, Split};

use crate::commands::row::RunRow;

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Running,
            Self::Done,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }

    /// Done, failed or cancelled: nothing will change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

/// Which database is behind the store (they differ in how a job is claimed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Who made a result and how: shown beside every measured number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub command: String,
    pub version: String,
    pub commit: String,
    pub backend: String,
}

/// A run as listed: what it is, where it is, and its headline numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub dataset: String,
    pub architecture: String,
    pub method: String,
    pub dropout: f64,
    pub epsilon: f64,
    pub epochs: i64,
    /// Any `u64`: the database holds its bits in a signed 64-bit column.
    pub seed: u64,
    pub status: Status,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub epochs_done: i64,
    pub attempts: i64,
    pub error: Option<String>,
    pub test_acc: Option<f64>,
    pub adv_test_acc: Option<f64>,
    pub test_lipschitz: Option<f64>,
    /// The `astute reproduce` scale that made it, if any.
    pub scale: Option<String>,
    /// The paper's dataset its numbers are for, when its own dataset stands in.
    pub stands_in_for: Option<String>,
}

/// Where a job comes from, beyond its spec: an `astute reproduce` scale, a stand-in, and
/// the token that queued it (none from the CLI).
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub scale: Option<String>,
    pub stands_in_for: Option<String>,
    /// The hash of the token that queued it.
    pub owner: Option<String>,
}

/// The owner of the results a new store starts with: no token may change them.
pub const SHIPPED: &str = "shipped";

/// An API token as stored: its name, powers and life.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// The first 12 hex digits of its hash: how `astute token list` and `revoke` name it.
    pub id: String,
    pub name: String,
    pub admin: bool,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenRecord {
    /// Whether it may be used at `now` (ms).
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| now < t)
    }
}

/// A run with its spec, full result and provenance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub spec: ExperimentSpec,
    pub result: Option<RunRow>,
    pub provenance: Provenance,
}

impl RunDetail {
    /// A run that finished outside the queue, from its spec and result.
    pub fn finished(
        spec: &ExperimentSpec,
        row: RunRow,
        provenance: Provenance,
        started_at: i64,
    ) -> anyhow::Result<Self> {
        let config = spec.train_config()?;
        Ok(Self {
            summary: RunSummary {
                id: random_hex(8)?,
                dataset: spec.dataset.to_string(),
                architecture: config.architecture.to_string(),
                method: config.method.to_string(),
                dropout: config.dropout,
                epsilon: decimal(config.epsilon),
                epochs: config.epochs as i64,
                seed: config.seed,
                status: Status::Done,
                created_at: started_at,
                started_at: Some(started_at),
                finished_at: Some(now_ms()),
                epochs_done: config.epochs as i64,
                attempts: 1,
                error: None,
                test_acc: Some(row.metrics.test.accuracy),
                adv_test_acc: Some(row.metrics.test.adversarial_accuracy),
                test_lipschitz: Some(row.metrics.test.lipschitz),
                scale: None,
                stands_in_for: None,
            },
            spec: spec.clone(),
            result: Some(row),
            provenance,
        })
    }
}

impl Provenance {
    /// This process's command line (without what is private to this machine), version,
    /// commit and `backend`.
    pub fn of_this_process(backend: &str) -> Self {
        Self {
            command: crate::public_command::public_command(std::env::args()),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: crate::build_commit().to_owned(),
            backend: backend.to_owned(),
        }
    }
}

/// One stored progress event of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: i64,
    pub event: serde_json::Value,
}

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
    fn table(self) -> &'static str {
        match self {
            Self::Runs => "runs",
            Self::Separations => "separations",
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

/// A separation measurement as listed and shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeparationRecord {
    pub id: String,
    pub dataset: String,
    pub metric: String,
    pub status: Status,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    pub min_train_train: Option<f64>,
    pub min_test_train: Option<f64>,
    /// Seconds of search (index and both splits).
    pub seconds: Option<f64>,
    /// Train–Train then Test–Train; present once done (not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reports: Option<Vec<SeparationReport>>,
    pub provenance: Provenance,
    pub scale: Option<String>,
}

/// The version of the results file format.
pub const SEED_FORMAT: &str = "astute-results-1";

/// Finished results as a file: what `astute export` writes and a fresh server starts with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Seed {
    pub format: String,
    pub runs: Vec<SeedRun>,
    pub separations: Vec<SeparationRecord>,
}

/// A finished run with its history: every event but the per-batch ones (claims, epochs
/// with their mean loss, checkpoints), so its training curve survives the export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedRun {
    #[serde(flatten)]
    pub run: RunDetail,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<serde_json::Value>,
}

/// Columns a run list may be sorted by (API name = column name).
pub const SORT_COLUMNS: [&str; 6] = [
    "created_at",
    "finished_at",
    "test_acc",
    "adv_test_acc",
    "test_lipschitz",
    "epochs",
];

/// Which runs to list, in what order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    pub dataset: Option<String>,
    pub architecture: Option<String>,
    pub method: Option<String>,
    pub status: Option<String>,
    /// A column of [`SORT_COLUMNS`], `-` in front for descending (default `-created_at`).
    pub sort: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// The most runs one list request returns.
pub const MAX_PAGE: i64 = 500;

const SUMMARY_COLUMNS: &str = "id, dataset, architecture, method, dropout, epsilon, epochs, \
    seed, status, created_at, started_at, finished_at, epochs_done, attempts, error, \
    test_acc, adv_test_acc, test_lipschitz, scale, stands_in_for";

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

/// The `f64` of an `f32`'s shortest decimal form (0.02, not 0.019999999552965164).
pub fn decimal(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A random identifier of `bytes` random bytes, as hex.
pub fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

fn summary(row: &AnyRow) -> Result<RunSummary, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(RunSummary {
        id: row.try_get("id")?,
        dataset: row.try_get("dataset")?,
        architecture: row.try_get("architecture")?,
        method: row.try_get("method")?,
        dropout: row.try_get("dropout")?,
        epsilon: row.try_get("epsilon")?,
        epochs: row.try_get("epochs")?,
        seed: row.try_get::<i64, _>("seed")? as u64,
        status: Status::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown run status {status:?}").into()))?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        epochs_done: row.try_get("epochs_done")?,
        attempts: row.try_get("attempts")?,
        error: row.try_get("error")?,
        test_acc: row.try_get("test_acc")?,
        adv_test_acc: row.try_get("adv_test_acc")?,
        test_lipschitz: row.try_get("test_lipschitz")?,
        scale: row.try_get("scale")?,
        stands_in_for: row.try_get("stands_in_for")?,
    })
}

fn json_column<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> anyhow::Result<T> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).with_context(|| format!("stored {column} is not valid"))
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            anyhow::bail!("database URL {url:?}: expected sqlite:PATH or postgres://...");
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if dialect == Dialect::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // Readers never wait for the writer, and a writer waits its turn.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .with_context(|| format!("opening the database {url}"))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .context("bringing the database schema up to date")?;
        Ok(Self { pool, dialect })
    }

    /// The embedded database in `dir` (created if needed).
    pub async fn open_in(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Self::open(&format!(
            "sqlite:{}?mode=rwc",
            dir.join("astute.db").display()
        ))
        .await
    }

    /// Queues a training run; returns its id.
    /// A queued, running or finished run of exactly `spec` at `scale`, if there is one:
    /// a reproduction started again takes up its own jobs instead of repeating them.
    pub async fn find_run(
        &self,
        spec: &ExperimentSpec,
        scale: Option<&str>,
    ) -> anyhow::Result<Option<String>> {
        let row = sqlx::query(
            "SELECT id FROM runs WHERE spec = $1 AND scale = $2 \
             AND status IN ('queued', 'running', 'done') ORDER BY created_at, id LIMIT 1",
        )
        .bind(serde_json::to_string(spec)?)
        .bind(scale)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("id")).transpose()?)
    }

    pub async fn create_run(
        &self,
        spec: &ExperimentSpec,
        origin: &Origin,
        provenance: &Provenance,
    ) -> anyhow::Result<String> {
        let config = spec.train_config()?;
        let id = random_hex(8)?;
        sqlx::query(
            "INSERT INTO runs (id, spec, dataset, architecture, method, dropout, epsilon, epochs, \
             seed, status, created_at, attempts, cancel_requested, epochs_done, provenance, \
             scale, stands_in_for, owner) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10, 0, 0, 0, $11, $12, $13, $14)",
        )
        .bind(&id)
        .bind(serde_json::to_string(spec)?)
        .bind(spec.dataset.to_string())
        .bind(config.architecture.to_string())
        .bind(config.method.to_string())
        .bind(config.dropout)
        .bind(decimal(config.epsilon))
        .bind(config.epochs as i64)
        .bind(config.seed as i64)
        .bind(now_ms())
        .bind(serde_json::to_string(provenance)?)
        .bind(origin.scale.as_deref())
        .bind(origin.stands_in_for.as_deref())
        .bind(origin.owner.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn run(&self, id: &str) -> anyhow::Result<Option<RunDetail>> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, spec, result, provenance FROM runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let result: Option<String> = row.try_get("result")?;
        Ok(Some(RunDetail {
            summary: summary(&row)?,
            spec: json_column(&row, "spec")?,
            result: result
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .context("stored result is not valid")?,
            provenance: json_column(&row, "provenance")?,
        }))
    }

    /// Run `id`'s status alone (what a live stream polls), `None` for an unknown run.
    pub async fn run_status(&self, id: &str) -> anyhow::Result<Option<Status>> {
        let row = sqlx::query("SELECT status FROM runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let status: String = row.try_get("status")?;
            Status::parse(&status).ok_or_else(|| anyhow::anyhow!("unknown status {status:?}"))
        })
        .transpose()
    }

    /// Runs matching `query`, and how many match in all.
    pub async fn list_runs(&self, query: &RunQuery) -> anyhow::Result<(Vec<RunSummary>, i64)> {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        for (column, value) in [
            ("dataset", &query.dataset),
            ("architecture", &query.architecture),
            ("method", &query.method),
            ("status", &query.status),
        ] {
            if let Some(value) = value {
                values.push(value.clone());
                conditions.push(format!("{column} = ${}", values.len()));
            }
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let (column, descending) = parse_sort(query.sort.as_deref())?;
        // NULLs (runs without results yet) last either way; ties by id in the same
        // direction, so an index on (column, id) serves the order as it stands.
        let direction = if descending { "DESC" } else { "ASC" };
        let order = format!("ORDER BY {column} {direction} NULLS LAST, id {direction}");
        let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
        let offset = query.offset.unwrap_or(0).max(0);
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM runs {filter} {order} LIMIT {limit} OFFSET {offset}"
        );
        let mut select = sqlx::query(&sql);
        for value in &values {
            select = select.bind(value);
        }
        let runs = select
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(summary)
            .collect::<Result<Vec<_>, _>>()?;
        let count_sql = format!("SELECT COUNT(*) AS n FROM runs {filter}");
        let mut count = sqlx::query(&count_sql);
        for value in &values {
            count = count.bind(value);
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get("n")?;
        Ok((runs, total))
    }

    /// Every finished run's result, for the tables.
    /// A fingerprint of the finished results (runs and separation measurements): it
    /// changes whenever one is finished, imported or deleted, whichever process did it,
    /// so that what is computed from them can be kept until then.
    pub async fn results_version(&self) -> anyhow::Result<[i64; 6]> {
        let fingerprint = |table: &str| {
            format!(
                "(SELECT COUNT(*) FROM {table} WHERE status = 'done'), \
                 (SELECT CAST(COALESCE(MAX(finished_at), 0) AS BIGINT) FROM {table} WHERE status = 'done'), \
                 (SELECT CAST(COALESCE(SUM(finished_at), 0) AS BIGINT) FROM {table} WHERE status = 'done')"
            )
        };
        let row = sqlx::query(&format!(
            "SELECT {}, {}",
            fingerprint("runs"),
            fingerprint("separations")
        ))
        .fetch_one(&self.pool)
        .await?;
        let mut version = [0; 6];
        for (i, value) in version.iter_mut().enumerate() {
            *value = row.try_get(i)?;
        }
        Ok(version)
    }

    pub async fn done_results(&self) -> anyhow::Result<Vec<(RunSummary, RunRow)>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, result FROM runs WHERE status = 'done' ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((summary(row)?, json_column(row, "result")?)))
            .collect()
    }

    /// Takes the oldest queued run, or a running one whose worker stopped renewing its
    /// lease (it resumes from its last checkpoint). Two workers never get the same run:
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

    /// Extends `worker`'s lease on run `id`. Returns whether the worker still holds it and
    /// whether a cancel was asked for: `None` when the lease was lost.
    pub async fn heartbeat(
        &self,
        queue: Queue,
        id: &str,
        worker: &str,
        lease: Duration,
    ) -> anyhow::Result<Option<bool>> {
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
        Ok(row
            .map(|row| row.try_get::<i64, _>("cancel_requested"))
            .transpose()?
            .map(|flag| flag != 0))
    }

    /// Appends an event; `seq` numbers a run's events from 1.
    pub async fn append_event(
        &self,
        id: &str,
        seq: i64,
        event: &serde_json::Value,
    ) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO run_events (run_id, seq, at, event) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(seq)
            .bind(now_ms())
            .bind(event.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The highest event number of run `id` (0 when none), to continue after a resume.
    pub async fn last_event(&self, id: &str) -> anyhow::Result<i64> {
        let row = sqlx::query("SELECT MAX(seq) AS seq FROM run_events WHERE run_id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>("seq")?.unwrap_or(0))
    }

    /// All of run `id`'s events, oldest first (read a page at a time).
    pub async fn events(&self, id: &str) -> anyhow::Result<Vec<StoredEvent>> {
        let mut all: Vec<StoredEvent> = Vec::new();
        loop {
            let after = all.last().map_or(0, |e| e.seq);
            let page = self.events_after(id, after).await?;
            if page.is_empty() {
                return Ok(all);
            }
            all.extend(page);
        }
    }

    /// Run `id`'s events after number `after`, oldest first.
    pub async fn events_after(&self, id: &str, after: i64) -> anyhow::Result<Vec<StoredEvent>> {
        let rows = sqlx::query(
            "SELECT seq, at, event FROM run_events WHERE run_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT 1000",
        )
        .bind(id)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredEvent {
                    seq: row.try_get("seq")?,
                    at: row.try_get("at")?,
                    event: json_column(row, "event")?,
                })
            })
            .collect()
    }

    /// Records epochs finished (the checkpoint a resume starts from).
    pub async fn set_epochs_done(&self, id: &str, worker: &str, epochs: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE runs SET epochs_done = $1 WHERE id = $2 AND worker = $3")
            .bind(epochs)
            .bind(id)
            .bind(worker)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a claimed run as done, with its result. Only the worker holding the lease can.
    pub async fn finish_run(&self, id: &str, worker: &str, row: &RunRow) -> anyhow::Result<bool> {
        let updated = sqlx::query(
            "UPDATE runs SET status = 'done', finished_at = $1, result = $2, \
             test_acc = $3, adv_test_acc = $4, test_lipschitz = $5, epochs_done = epochs, \
             lease_until = NULL WHERE id = $6 AND worker = $7 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(serde_json::to_string(row)?)
        .bind(row.metrics.test.accuracy)
        .bind(row.metrics.test.adversarial_accuracy)
        .bind(row.metrics.test.lipschitz)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Ends a claimed job as failed or cancelled, with the reason.
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

    /// Asks run `id` to stop: a queued run, or a running one whose worker stopped renewing
    /// its lease, is cancelled at once; a running one otherwise when its worker next renews
    /// the lease. Returns the status after the request, `None` for an unknown run.
    pub async fn cancel(&self, id: &str) -> anyhow::Result<Option<Status>> {
        sqlx::query(
            "UPDATE runs SET status = 'cancelled', finished_at = $1, lease_until = NULL \
             WHERE id = $2 AND (status = 'queued' OR (status = 'running' AND lease_until < $1))",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        sqlx::query("UPDATE runs SET cancel_requested = 1 WHERE id = $1 AND status = 'running'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(self.run(id).await?.map(|run| run.summary.status))
    }

    /// Deletes a run that is not running, with its events. Returns whether it existed;
    /// a running run is refused (cancel it first).
    pub async fn delete(&self, id: &str) -> anyhow::Result<Option<bool>> {
        let Some(run) = self.run(id).await? else {
            return Ok(None);
        };
        if run.summary.status == Status::Running {
            return Ok(Some(false));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM run_events WHERE run_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM runs WHERE id = $1 AND status <> 'running'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(true))
    }

    /// Queues a separation measurement; returns its id.
    pub async fn create_separation(
        &self,
        spec: &SeparationSpec,
        origin: &Origin,
        provenance: &Provenance,
    ) -> anyhow::Result<String> {
        let id = random_hex(8)?;
        sqlx::query(
            "INSERT INTO separations (id, spec, dataset, metric, status, created_at, attempts, \
             cancel_requested, provenance, scale, owner) \
             VALUES ($1, $2, $3, $4, 'queued', $5, 0, 0, $6, $7, $8)",
        )
        .bind(&id)
        .bind(serde_json::to_string(spec)?)
        .bind(spec.dataset.to_string())
        .bind(spec.metric.name())
        .bind(now_ms())
        .bind(serde_json::to_string(provenance)?)
        .bind(origin.scale.as_deref())
        .bind(origin.owner.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Ends a claimed separation as done, with its reports.
    pub async fn finish_separation(
        &self,
        id: &str,
        worker: &str,
        reports: &[SeparationReport],
        seconds: f64,
    ) -> anyhow::Result<bool> {
        let min_of = |split: Split| reports.iter().find(|r| r.split == split).map(|r| r.min);
        let updated = sqlx::query(
            "UPDATE separations SET status = 'done', finished_at = $1, reports = $2, \
             min_train_train = $3, min_test_train = $4, seconds = $5, lease_until = NULL \
             WHERE id = $6 AND worker = $7 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(serde_json::to_string(reports)?)
        .bind(min_of(Split::TrainTrain))
        .bind(min_of(Split::TestTrain))
        .bind(seconds)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Separation measurements, newest first (of one dataset when given).
    pub async fn list_separations(
        &self,
        dataset: Option<&str>,
    ) -> anyhow::Result<Vec<SeparationRecord>> {
        let filter = if dataset.is_some() {
            "WHERE dataset = $1"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {SEPARATION_COLUMNS} FROM separations {filter} \
             ORDER BY created_at DESC, id DESC LIMIT {MAX_PAGE}"
        );
        let mut select = sqlx::query(&sql);
        if let Some(dataset) = dataset {
            select = select.bind(dataset);
        }
        select
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| separation_record(row, false))
            .collect()
    }

    /// Every finished ℓ∞ measurement (Table 1's metric), oldest first.
    pub async fn done_separations(&self) -> anyhow::Result<Vec<SeparationRecord>> {
        sqlx::query(&format!(
            "SELECT {SEPARATION_COLUMNS} FROM separations WHERE status = 'done' AND metric = 'linf' \
             ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| separation_record(row, false))
        .collect()
    }

    /// One separation measurement with its reports.
    pub async fn separation(&self, id: &str) -> anyhow::Result<Option<SeparationRecord>> {
        sqlx::query(&format!(
            "SELECT {SEPARATION_COLUMNS}, reports FROM separations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| separation_record(&row, true))
        .transpose()
    }

    /// Every finished result, for `astute export` (the shipped seed is such a file).
    pub async fn export(&self) -> anyhow::Result<Seed> {
        let ids: Vec<String> =
            sqlx::query("SELECT id FROM runs WHERE status = 'done' ORDER BY created_at, id")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|row| row.try_get("id"))
                .collect::<Result<_, _>>()?;
        let mut runs = Vec::new();
        for id in ids {
            let Some(run) = self.run(&id).await? else {
                continue;
            };
            let events = self
                .events(&id)
                .await?
                .into_iter()
                .map(|e| e.event)
                .filter(|e| e["event"] != "batch")
                .collect();
            runs.push(SeedRun { run, events });
        }
        let mut separations = Vec::new();
        for record in self.done_separations().await? {
            separations.extend(self.separation(&record.id).await?);
        }
        Ok(Seed {
            format: SEED_FORMAT.to_owned(),
            runs,
            separations,
        })
    }

    /// Stores the results of `seed` as they are, when the store holds no run and no
    /// measurement yet. Returns whether it did.
    pub async fn import_if_empty(&self, seed: &Seed) -> anyhow::Result<bool> {
        anyhow::ensure!(
            seed.format == SEED_FORMAT,
            "results file format {:?}, expected {SEED_FORMAT:?}",
            seed.format
        );
        let count = |table: &str| {
            let sql = format!("SELECT COUNT(*) AS n FROM {table}");
            async move {
                let row = sqlx::query(&sql).fetch_one(&self.pool).await?;
                anyhow::Ok(row.try_get::<i64, _>("n")?)
            }
        };
        if count("runs").await? + count("separations").await? > 0 {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await?;
        for seeded in &seed.runs {
            insert_done_run(&mut tx, &seeded.run, &seeded.events).await?;
        }
        for record in &seed.separations {
            insert_done_separation(&mut tx, record).await?;
        }
        for table in ["runs", "separations"] {
            sqlx::query(&format!("UPDATE {table} SET owner = $1"))
                .bind(SHIPPED)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Records a run trained outside any worker (`astute train`), finished, with its result
    /// and `events` (its history, as a worker would have stored it).
    pub async fn record_run(
        &self,
        run: &RunDetail,
        events: &[serde_json::Value],
    ) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_done_run(&mut tx, run, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a measurement made outside any worker (`astute separation`).
    pub async fn record_separation(&self, record: &SeparationRecord) -> anyhow::Result<()> {
        let mut conn = self.pool.acquire().await?;
        insert_done_separation(&mut conn, record).await
    }

    /// Stores a token's hash under a name.
    pub async fn add_token(
        &self,
        hash: &str,
        name: &str,
        admin: bool,
        expires_at: Option<i64>,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO tokens (hash, name, created_at, admin, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash)
        .bind(name)
        .bind(now_ms())
        .bind(i64::from(admin))
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The token with this hash, if there is one.
    pub async fn token(&self, hash: &str) -> anyhow::Result<Option<TokenRecord>> {
        let row = sqlx::query(&format!("{TOKEN_SELECT} WHERE hash = $1"))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| token_record(&row)).transpose()
    }

    /// Every token, oldest first.
    pub async fn tokens(&self) -> anyhow::Result<Vec<TokenRecord>> {
        sqlx::query(&format!("{TOKEN_SELECT} ORDER BY created_at, hash"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(token_record)
            .collect()
    }

    /// Revokes the tokens whose id (hash prefix) or name is `which`; returns how many.
    pub async fn revoke_token(&self, which: &str) -> anyhow::Result<u64> {
        let updated = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL \
             AND (name = $2 OR (LENGTH($2) >= 6 AND hash LIKE $3))",
        )
        .bind(now_ms())
        .bind(which)
        .bind(format!("{}%", which.to_ascii_lowercase()))
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected())
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

    /// The owner of run `id` (see [`Origin::owner`] and [`SHIPPED`]); `None` for an unknown
    /// run.
    pub async fn run_owner(&self, id: &str) -> anyhow::Result<Option<Option<String>>> {
        let row = sqlx::query("SELECT owner FROM runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("owner")).transpose()?)
    }

    /// Closes the pool (after the last request).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

const TOKEN_SELECT: &str =
    "SELECT hash, name, admin, created_at, expires_at, revoked_at FROM tokens";

fn token_record(row: &AnyRow) -> anyhow::Result<TokenRecord> {
    let hash: String = row.try_get("hash")?;
    Ok(TokenRecord {
        id: hash.chars().take(12).collect(),
        name: row.try_get("name")?,
        admin: row.try_get::<i64, _>("admin")? != 0,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

const SEPARATION_COLUMNS: &str = "id, dataset, metric, status, created_at, finished_at, \
    error, min_train_train, min_test_train, seconds, provenance, scale";

fn separation_record(row: &AnyRow, with_reports: bool) -> anyhow::Result<SeparationRecord> {
    let status: String = row.try_get("status")?;
    let reports: Option<String> = if with_reports {
        row.try_get("reports")?
    } else {
        None
    };
    Ok(SeparationRecord {
        id: row.try_get("id")?,
        dataset: row.try_get("dataset")?,
        metric: row.try_get("metric")?,
        status: Status::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("unknown status {status:?}"))?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
        error: row.try_get("error")?,
        min_train_train: row.try_get("min_train_train")?,
        min_test_train: row.try_get("min_test_train")?,
        seconds: row.try_get("seconds")?,
        reports: reports
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .context("stored separation reports are not valid")?,
        provenance: json_column(row, "provenance")?,
        scale: row.try_get("scale")?,
    })
}

/// Stores a finished run as it is, with its events numbered from 1 (from a seed, or run by
/// `astute train` in its own process).
async fn insert_done_run(
    conn: &mut sqlx::AnyConnection,
    run: &RunDetail,
    events: &[serde_json::Value],
) -> anyhow::Result<()> {
    let s = &run.summary;
    let result = run
        .result
        .as_ref()
        .context("a finished run has no result")?;
    sqlx::query(
        "INSERT INTO runs (id, spec, dataset, architecture, method, dropout, epsilon, \
             epochs, seed, status, created_at, started_at, finished_at, attempts, \
             cancel_requested, epochs_done, result, test_acc, adv_test_acc, test_lipschitz, \
             provenance, scale, stands_in_for) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             'done', $10, $11, $12, $13, 0, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(&s.id)
    .bind(serde_json::to_string(&run.spec)?)
    .bind(&s.dataset)
    .bind(&s.architecture)
    .bind(&s.method)
    .bind(s.dropout)
    .bind(s.epsilon)
    .bind(s.epochs)
    .bind(s.seed as i64)
    .bind(s.created_at)
    .bind(s.started_at)
    .bind(s.finished_at)
    .bind(s.attempts)
    .bind(s.epochs_done)
    .bind(serde_json::to_string(result)?)
    .bind(s.test_acc)
    .bind(s.adv_test_acc)
    .bind(s.test_lipschitz)
    .bind(serde_json::to_string(&run.provenance)?)
    .bind(s.scale.as_deref())
    .bind(s.stands_in_for.as_deref())
    .execute(&mut *conn)
    .await?;
    for (seq, event) in (1..).zip(events) {
        sqlx::query("INSERT INTO run_events (run_id, seq, at, event) VALUES ($1, $2, $3, $4)")
            .bind(&s.id)
            .bind(seq)
            .bind(s.finished_at.unwrap_or(s.created_at))
            .bind(event.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Stores a finished separation measurement as it is.
async fn insert_done_separation(
    conn: &mut sqlx::AnyConnection,
    record: &SeparationRecord,
) -> anyhow::Result<()> {
    let reports = record
        .reports
        .as_ref()
        .context("a finished measurement has no reports")?;
    let spec = SeparationSpec {
        dataset: record
            .dataset
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?,
        metric: record.metric.parse().map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    sqlx::query(
        "INSERT INTO separations (id, spec, dataset, metric, status, created_at, \
             finished_at, attempts, cancel_requested, reports, min_train_train, \
             min_test_train, seconds, provenance, scale) VALUES ($1, $2, $3, $4, 'done', $5, \
             $6, 1, 0, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&record.id)
    .bind(serde_json::to_string(&spec)?)
    .bind(&record.dataset)
    .bind(&record.metric)
    .bind(record.created_at)
    .bind(record.finished_at)
    .bind(serde_json::to_string(reports)?)
    .bind(record.min_train_train)
    .bind(record.min_test_train)
    .bind(record.seconds)
    .bind(serde_json::to_string(&record.provenance)?)
    .bind(record.scale.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A sort parameter as (column, descending).
pub fn parse_sort(sort: Option<&str>) -> anyhow::Result<(&'static str, bool)> {
    let sort = sort.unwrap_or("-created_at");
    let (name, descending) = match sort.strip_prefix('-') {
        Some(name) => (name, true),
        None => (sort, false),
    };
    SORT_COLUMNS
        .iter()
        .find(|&&column| column == name)
        .map(|&column| (column, descending))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "cannot sort by {name:?}: choose one of {} (prefix - for descending)",
                SORT_COLUMNS.join(", ")
            )
        })
}
