//! Separation measurements: queued, claimed and finished like runs, kept with their
//! reports.

use anyhow::Context;
use astute_api::{
    DatasetId, Provenance, RunQuery, SearchProgress, SeparationRecord, SeparationReport,
    SeparationSpec, Split, Status,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Origin, Store, json_column, name_column, now_ms, optional_json_column, random_hex};

impl Store {
    /// Queues a separation measurement; returns its id.
    pub async fn create_separation(
        &self,
        spec: &SeparationSpec,
        origin: &Origin,
        provenance: &Provenance,
    ) -> anyhow::Result<String> {
        let record = SeparationRecord {
            id: random_hex(8)?,
            dataset: spec.dataset,
            metric: spec.metric,
            status: Status::Queued,
            created_at: now_ms(),
            finished_at: None,
            error: None,
            min_train_train: None,
            min_test_train: None,
            seconds: None,
            reports: None,
            provenance: provenance.clone(),
            scale: origin.scale.clone(),
            progress: None,
        };
        let mut conn = self.pool.acquire().await?;
        insert_separation(&mut conn, &record, 0, origin.owner.as_deref()).await?;
        Ok(record.id)
    }

    /// Records how far claimed separation `id`'s search is (while `worker` holds it).
    pub async fn set_separation_progress(
        &self,
        id: &str,
        worker: &str,
        progress: &SearchProgress,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE separations SET progress = $1 WHERE id = $2 AND worker = $3 AND status = 'running'",
        )
        .bind(serde_json::to_string(progress)?)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
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
        dataset: Option<DatasetId>,
    ) -> anyhow::Result<Vec<SeparationRecord>> {
        let filter = if dataset.is_some() {
            "WHERE dataset = $1"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {SEPARATION_COLUMNS} FROM separations {filter} \
             ORDER BY created_at DESC, id DESC LIMIT {}",
            RunQuery::MAX_PAGE
        );
        let mut select = sqlx::query(&sql);
        if let Some(dataset) = dataset {
            select = select.bind(dataset.id());
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

    /// Records a measurement made outside any worker (`astute separation`).
    pub async fn record_separation(&self, record: &SeparationRecord) -> anyhow::Result<()> {
        let mut conn = self.pool.acquire().await?;
        insert_done_separation(&mut conn, record).await
    }
}

const SEPARATION_COLUMNS: &str = "id, dataset, metric, status, created_at, finished_at, \
    error, min_train_train, min_test_train, seconds, provenance, scale, progress";

fn separation_record(row: &AnyRow, with_reports: bool) -> anyhow::Result<SeparationRecord> {
    let reports: Option<String> = if with_reports {
        row.try_get("reports")?
    } else {
        None
    };
    let status = name_column(row, "status")?;
    Ok(SeparationRecord {
        id: row.try_get("id")?,
        dataset: name_column(row, "dataset")?,
        metric: name_column(row, "metric")?,
        status,
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
        // The last progress written stays in the row; it says something only while running.
        progress: match status {
            Status::Running => optional_json_column(row, "progress")?,
            _ => None,
        },
    })
}

/// Stores a finished separation measurement as it is.
pub(super) async fn insert_done_separation(
    conn: &mut sqlx::AnyConnection,
    record: &SeparationRecord,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        record.status == Status::Done && record.reports.is_some(),
        "measurement {} is not finished with its reports",
        record.id
    );
    insert_separation(conn, record, 1, None).await
}

/// Stores `record` as it is (queued, or finished with its reports), after `attempts`
/// claims, owned by `owner`: the one place a measurement becomes a row.
async fn insert_separation(
    conn: &mut sqlx::AnyConnection,
    record: &SeparationRecord,
    attempts: i64,
    owner: Option<&str>,
) -> anyhow::Result<()> {
    let spec = SeparationSpec {
        dataset: record.dataset,
        metric: record.metric,
    };
    let reports = record
        .reports
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    sqlx::query(
        "INSERT INTO separations (id, spec, dataset, metric, status, created_at, \
             finished_at, attempts, cancel_requested, reports, min_train_train, \
             min_test_train, seconds, provenance, scale, owner) VALUES ($1, $2, $3, $4, $5, \
             $6, $7, $8, 0, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&record.id)
    .bind(serde_json::to_string(&spec)?)
    .bind(record.dataset.id())
    .bind(record.metric.name())
    .bind(record.status.as_str())
    .bind(record.created_at)
    .bind(record.finished_at)
    .bind(attempts)
    .bind(reports)
    .bind(record.min_train_train)
    .bind(record.min_test_train)
    .bind(record.seconds)
    .bind(serde_json::to_string(&record.provenance)?)
    .bind(record.scale.as_deref())
    .bind(owner)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
