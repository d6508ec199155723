//! Finished results as a file: what `astute export` writes and a fresh server starts
//! with (the shipped results are such a file).

use astute_api::{JobEvent, RunDetail, SeparationRecord};
use sqlx::Row;

use super::runs::insert_done_run;
use super::separations::insert_done_separation;
use super::{SHIPPED, Store};

/// The version of the results file format.
pub const SEED_FORMAT: &str = "astute-results-1";

/// Finished results as a file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Seed {
    pub format: String,
    pub runs: Vec<SeedRun>,
    pub separations: Vec<SeparationRecord>,
}

/// A finished run with its history: every event but the per-batch ones (claims, epochs
/// with their mean loss, checkpoints), so its training curve survives the export.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SeedRun {
    #[serde(flatten)]
    pub run: RunDetail,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<JobEvent>,
}

impl Store {
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
                .filter(|e| !e.is_batch())
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
}
