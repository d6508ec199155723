//! The result store, in SQLite (the embedded default) or PostgreSQL (a shared lab), through
//! one set of portable queries on sqlx's `Any` driver; migrations run on open. One module
//! per concern: `runs` and `separations` (each row mapped to its wire type in one place),
//! the `queue` both are claimed from, a run's `events`, the `seed` of shipped results
//! (import and export), API `tokens`, the `artifacts` a shared lab keeps in the
//! database, the lab's live `workers`, and the `wakeups` PostgreSQL pushes to live
//! streams.

mod artifacts;
mod events;
mod migrations;
mod queue;
mod runs;
mod seed;
mod separations;
mod tokens;
mod wakeups;
mod workers;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use astute_api::DatasetId;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

#[cfg(test)]
pub use artifacts::CHUNK_BYTES;
pub use artifacts::StoredArtifact;
#[cfg(test)]
pub use queue::MAX_ATTEMPTS;
pub use queue::{Claimed, Lease, Queue};
pub use runs::{Deletion, finished_run};
pub use seed::Seed;
pub use wakeups::{Wakeups, listen_for_events};
pub use workers::WorkerProcess;

/// The URL of a fresh database on the PostgreSQL server of `ASTUTE_TEST_POSTGRES_URL`;
/// `None` (and a note) when there is none, unless `ASTUTE_REQUIRE_POSTGRES` is set.
#[cfg(test)]
pub async fn test_postgres(name: &str) -> Option<String> {
    let Ok(server) = std::env::var("ASTUTE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("ASTUTE_REQUIRE_POSTGRES").is_none(),
            "ASTUTE_REQUIRE_POSTGRES is set but ASTUTE_TEST_POSTGRES_URL is not"
        );
        eprintln!("no ASTUTE_TEST_POSTGRES_URL: the PostgreSQL part of {name} did not run");
        return None;
    };
    sqlx::any::install_default_drivers();
    let database = format!("astute_unit_{name}_{}", std::process::id());
    let pool = AnyPool::connect(&server).await.unwrap();
    for sql in [
        format!("DROP DATABASE IF EXISTS {database}"),
        format!("CREATE DATABASE {database}"),
    ] {
        sqlx::raw_sql(&sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    Some(format!("{base}/{database}"))
}

/// Which database is behind the store (they differ in how a job is claimed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Where a job comes from, beyond its spec: an `astute reproduce` scale, a stand-in, and
/// the token that queued it (none from the CLI).
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub scale: Option<String>,
    pub stands_in_for: Option<DatasetId>,
    /// The hash of the token that queued it.
    pub owner: Option<String>,
}

/// The owner of the results a new store starts with: no token may change them.
pub const SHIPPED: &str = "shipped";

/// A pool of connections to the store's database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

/// What [`Store::results_version`] returns: equal values, equal results.
pub type ResultsVersion = [i64; 7];

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `bytes` as lowercase hex: how ids, token hashes and checksums are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random identifier of `bytes` random bytes, as hex.
pub fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(hex(&raw))
}

fn json_column<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> anyhow::Result<T> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).with_context(|| format!("stored {column} is not valid"))
}

/// A JSON column that may be NULL.
fn optional_json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> anyhow::Result<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| serde_json::from_str(&text))
        .transpose()
        .with_context(|| format!("stored {column} is not valid"))
}

/// A name column (dataset, architecture, method, metric) read back as its type.
fn name_column<T: std::str::FromStr>(row: &AnyRow, column: &str) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|e| anyhow::anyhow!("stored {column} {text:?} is not valid: {e}"))
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
        migrations::migrator()
            .await?
            .run(&pool)
            .await
            .context("bringing the database schema up to date")?;
        let store = Self { pool, dialect };
        store
            .fill_train_headlines()
            .await
            .context("filling in the train-side headline numbers")?;
        Ok(store)
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

    /// A fingerprint of the finished results (runs and separation measurements): it
    /// changes whenever one is finished, imported, deleted or given a further attack's
    /// result, whichever process did it, so that what is computed from them can be kept
    /// until then.
    pub async fn results_version(&self) -> anyhow::Result<ResultsVersion> {
        let fingerprint = |table: &str| {
            format!(
                "(SELECT COUNT(*) FROM {table} WHERE status = 'done'), \
                 (SELECT CAST(COALESCE(MAX(finished_at), 0) AS BIGINT) FROM {table} WHERE status = 'done'), \
                 (SELECT CAST(COALESCE(SUM(finished_at), 0) AS BIGINT) FROM {table} WHERE status = 'done')"
            )
        };
        let evaluated = "(SELECT CAST(COALESCE(SUM(evaluated_at), 0) AS BIGINT) \
                         FROM runs WHERE status = 'done')";
        let row = sqlx::query(&format!(
            "SELECT {}, {}, {evaluated}",
            fingerprint("runs"),
            fingerprint("separations")
        ))
        .fetch_one(&self.pool)
        .await?;
        let mut version = [0; 7];
        for (i, value) in version.iter_mut().enumerate() {
            *value = row.try_get(i)?;
        }
        Ok(version)
    }

    /// Which database is behind the store.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Closes the pool (after the last request).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
