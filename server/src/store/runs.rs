//! Training runs: one row per run, whose columns are its summary (what lists filter and
//! sort on) and whose JSON columns hold its spec, result and provenance. [`run_row`] and
//! [`insert_run`] are the one place that maps a run to its row and back.

use anyhow::Context;
use astute::data::Catalog;
use astute::train::TrainConfig;
use astute_api::{
    AttackName, DatasetId, ExperimentSpec, JobEvent, MaskingFlag, Provenance, RobustEvaluation,
    RunDetail, RunQuery, RunResult, RunSummary, Status, decimal, did_not_train,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{
    Origin, Queue, Store, json_column, name_column, now_ms, optional_json_column, random_hex,
};

const SUMMARY_COLUMNS: &str = "id, dataset, architecture, method, dropout, epsilon, epochs, \
    seed, status, created_at, started_at, finished_at, epochs_done, attempts, error, \
    train_acc, test_acc, adv_train_acc, adv_test_acc, train_lipschitz, test_lipschitz, \
    autoattack_test_acc, masking_raised, scale, stands_in_for";

/// What became of a request to delete a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    /// A running run is not deleted: cancel it first.
    Running,
    NotFound,
}

/// A run's summary read from its row.
fn run_row(row: &AnyRow) -> anyhow::Result<RunSummary> {
    let stands_in_for: Option<String> = row.try_get("stands_in_for")?;
    let dataset: DatasetId = name_column(row, "dataset")?;
    let train_acc: Option<f64> = row.try_get("train_acc")?;
    Ok(RunSummary {
        id: row.try_get("id")?,
        dataset,
        architecture: name_column(row, "architecture")?,
        method: name_column(row, "method")?,
        dropout: row.try_get("dropout")?,
        epsilon: row.try_get("epsilon")?,
        epochs: row.try_get("epochs")?,
        seed: row.try_get::<i64, _>("seed")? as u64,
        status: name_column(row, "status")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        epochs_done: row.try_get("epochs_done")?,
        attempts: row.try_get("attempts")?,
        error: row.try_get("error")?,
        train_acc,
        did_not_train: train_acc.is_some_and(|accuracy| stuck(dataset, accuracy)),
        test_acc: row.try_get("test_acc")?,
        adv_train_acc: row.try_get("adv_train_acc")?,
        adv_test_acc: row.try_get("adv_test_acc")?,
        train_lipschitz: row.try_get("train_lipschitz")?,
        test_lipschitz: row.try_get("test_lipschitz")?,
        autoattack_test_acc: row.try_get("autoattack_test_acc")?,
        masking_raised: optional_json_column(row, "masking_raised")?.unwrap_or_default(),
        scale: row.try_get("scale")?,
        stands_in_for: stands_in_for
            .map(|name| name.parse())
            .transpose()
            .context("stored stands_in_for is not a dataset")?,
    })
}

/// Whether a run on `dataset` with this train accuracy did not train.
fn stuck(dataset: DatasetId, train_accuracy: f64) -> bool {
    did_not_train(train_accuracy, dataset.info().class_names.len())
}

/// A new run of `spec` (resolved to `config`), queued at `now`.
fn queued_summary(
    spec: &ExperimentSpec,
    config: &TrainConfig,
    origin: &Origin,
    now: i64,
) -> anyhow::Result<RunSummary> {
    Ok(RunSummary {
        id: random_hex(8)?,
        dataset: spec.dataset,
        architecture: config.architecture,
        method: config.method,
        dropout: config.dropout,
        epsilon: decimal(config.epsilon),
        epochs: config.epochs as i64,
        seed: config.seed,
        status: Status::Queued,
        created_at: now,
        started_at: None,
        finished_at: None,
        epochs_done: 0,
        attempts: 0,
        error: None,
        train_acc: None,
        did_not_train: false,
        test_acc: None,
        adv_train_acc: None,
        adv_test_acc: None,
        train_lipschitz: None,
        test_lipschitz: None,
        autoattack_test_acc: None,
        masking_raised: Vec::new(),
        scale: origin.scale.clone(),
        stands_in_for: origin.stands_in_for,
    })
}

/// The headline numbers a run's row keeps beside its result, for lists, sorting and
/// filters.
struct Headline {
    train_acc: f64,
    test_acc: f64,
    adv_train_acc: f64,
    adv_test_acc: f64,
    train_lipschitz: f64,
    test_lipschitz: f64,
    autoattack_test_acc: Option<f64>,
    /// The raised masking checks, as the JSON the column holds (`None` until they ran).
    masking_raised: Option<String>,
}

impl Headline {
    fn of(result: &RunResult) -> anyhow::Result<Self> {
        let (train, test) = (result.metrics.train, result.metrics.test);
        Ok(Self {
            train_acc: train.accuracy,
            test_acc: test.accuracy,
            adv_train_acc: train.adversarial_accuracy,
            adv_test_acc: test.adversarial_accuracy,
            train_lipschitz: train.lipschitz,
            test_lipschitz: test.lipschitz,
            autoattack_test_acc: result
                .robust_accuracy(AttackName::AutoAttack)
                .map(|r| r.accuracy),
            masking_raised: (!result.masking.is_empty())
                .then(|| serde_json::to_string(&result.masking_raised()))
                .transpose()?,
        })
    }
}

/// A run that finished outside the queue (`astute train`), from its spec and result.
pub fn finished_run(
    spec: &ExperimentSpec,
    result: RunResult,
    provenance: Provenance,
    started_at: i64,
) -> anyhow::Result<RunDetail> {
    let config = TrainConfig::from_spec(spec)?;
    let queued = queued_summary(spec, &config, &Origin::default(), started_at)?;
    let headline = Headline::of(&result)?;
    Ok(RunDetail {
        summary: RunSummary {
            status: Status::Done,
            started_at: Some(started_at),
            finished_at: Some(now_ms()),
            epochs_done: queued.epochs,
            attempts: 1,
            train_acc: Some(headline.train_acc),
            did_not_train: stuck(spec.dataset, headline.train_acc),
            test_acc: Some(headline.test_acc),
            adv_train_acc: Some(headline.adv_train_acc),
            adv_test_acc: Some(headline.adv_test_acc),
            train_lipschitz: Some(headline.train_lipschitz),
            test_lipschitz: Some(headline.test_lipschitz),
            autoattack_test_acc: headline.autoattack_test_acc,
            masking_raised: result.masking_raised(),
            ..queued
        },
        spec: spec.clone(),
        result: Some(result),
        provenance,
    })
}

/// Stores `run` as it is (queued, or finished with its result), owned by `owner`.
async fn insert_run(
    conn: &mut sqlx::AnyConnection,
    run: &RunDetail,
    owner: Option<&str>,
) -> anyhow::Result<()> {
    let s = &run.summary;
    let result = run.result.as_ref().map(serde_json::to_string).transpose()?;
    // The numbers the summary may lack (a run exported before they were columns) come
    // from its result.
    let headline = run.result.as_ref().map(Headline::of).transpose()?;
    let headline = headline.as_ref();
    sqlx::query(
        "INSERT INTO runs (id, spec, dataset, architecture, method, dropout, epsilon, \
             epochs, seed, status, created_at, started_at, finished_at, attempts, \
             cancel_requested, epochs_done, result, test_acc, adv_test_acc, test_lipschitz, \
             autoattack_test_acc, masking_raised, provenance, scale, stands_in_for, owner, \
             train_acc, adv_train_acc, train_lipschitz) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, $15, $16, \
             $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)",
    )
    .bind(&s.id)
    .bind(serde_json::to_string(&run.spec)?)
    .bind(s.dataset.id())
    .bind(s.architecture.to_string())
    .bind(s.method.to_string())
    .bind(s.dropout)
    .bind(s.epsilon)
    .bind(s.epochs)
    .bind(s.seed as i64)
    .bind(s.status.as_str())
    .bind(s.created_at)
    .bind(s.started_at)
    .bind(s.finished_at)
    .bind(s.attempts)
    .bind(s.epochs_done)
    .bind(result)
    .bind(s.test_acc)
    .bind(s.adv_test_acc)
    .bind(s.test_lipschitz)
    .bind(s.autoattack_test_acc)
    .bind(headline.and_then(|h| h.masking_raised.clone()))
    .bind(serde_json::to_string(&run.provenance)?)
    .bind(s.scale.as_deref())
    .bind(s.stands_in_for.map(|d| d.id()))
    .bind(owner)
    .bind(headline.map(|h| h.train_acc))
    .bind(headline.map(|h| h.adv_train_acc))
    .bind(headline.map(|h| h.train_lipschitz))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Stores a finished run as it is, with its events numbered from 1 (from a seed, or run by
/// `astute train` in its own process).
pub(super) async fn insert_done_run(
    conn: &mut sqlx::AnyConnection,
    run: &RunDetail,
    events: &[JobEvent],
) -> anyhow::Result<()> {
    anyhow::ensure!(
        run.summary.status == Status::Done && run.result.is_some(),
        "run {} is not finished with a result",
        run.summary.id
    );
    insert_run(conn, run, None).await?;
    let s = &run.summary;
    for (seq, event) in (1..).zip(events) {
        sqlx::query("INSERT INTO run_events (run_id, seq, at, event) VALUES ($1, $2, $3, $4)")
            .bind(&s.id)
            .bind(seq)
            .bind(s.finished_at.unwrap_or(s.created_at))
            .bind(serde_json::to_string(event)?)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl Store {
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

    /// Queues a training run; returns its id.
    pub async fn create_run(
        &self,
        spec: &ExperimentSpec,
        origin: &Origin,
        provenance: &Provenance,
    ) -> anyhow::Result<String> {
        let config = TrainConfig::from_spec(spec)?;
        let run = RunDetail {
            summary: queued_summary(spec, &config, origin, now_ms())?,
            spec: spec.clone(),
            result: None,
            provenance: provenance.clone(),
        };
        let mut conn = self.pool.acquire().await?;
        insert_run(&mut conn, &run, origin.owner.as_deref()).await?;
        Ok(run.summary.id)
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
        Ok(Some(RunDetail {
            summary: run_row(&row)?,
            spec: json_column(&row, "spec")?,
            result: optional_json_column(&row, "result")?,
            provenance: json_column(&row, "provenance")?,
        }))
    }

    /// Run `id`'s status alone (what a live stream polls), `None` for an unknown run.
    pub async fn run_status(&self, id: &str) -> anyhow::Result<Option<Status>> {
        self.job_status(Queue::Runs, id).await
    }

    /// Runs matching `query`, and how many match in all.
    pub async fn list_runs(&self, query: &RunQuery) -> anyhow::Result<(Vec<RunSummary>, i64)> {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        for (column, value) in [
            ("dataset", query.dataset.map(|d| d.id().to_owned())),
            ("architecture", query.architecture.map(|a| a.to_string())),
            ("method", query.method.map(|m| m.to_string())),
            ("status", query.status.map(|s| s.as_str().to_owned())),
        ] {
            if let Some(value) = value {
                values.push(value);
                conditions.push(format!("{column} = ${}", values.len()));
            }
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let (column, descending) = query.order().map_err(anyhow::Error::msg)?;
        // NULLs (runs without results yet) last either way; ties by id in the same
        // direction, so an index on (column, id) serves the order as it stands.
        let direction = if descending { "DESC" } else { "ASC" };
        let order = format!("ORDER BY {column} {direction} NULLS LAST, id {direction}");
        let limit = query.limit.unwrap_or(50).clamp(1, RunQuery::MAX_PAGE);
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
            .map(run_row)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let count_sql = format!("SELECT COUNT(*) AS n FROM runs {filter}");
        let mut count = sqlx::query(&count_sql);
        for value in &values {
            count = count.bind(value);
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get("n")?;
        Ok((runs, total))
    }

    /// Every finished run's summary and result, for the tables.
    pub async fn done_results(&self) -> anyhow::Result<Vec<(RunSummary, RunResult)>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, result FROM runs WHERE status = 'done' ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((run_row(row)?, json_column(row, "result")?)))
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

    /// Copies each finished run's train-side headline numbers from its result into its row
    /// where the row has none (runs stored before those columns existed); a no-op once done.
    pub(super) async fn fill_train_headlines(&self) -> anyhow::Result<()> {
        let rows = sqlx::query(
            "SELECT id, result FROM runs WHERE result IS NOT NULL \
             AND (train_acc IS NULL OR adv_train_acc IS NULL OR train_lipschitz IS NULL)",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let id: String = row.try_get("id")?;
            let headline = Headline::of(&json_column::<RunResult>(&row, "result")?)?;
            sqlx::query(
                "UPDATE runs SET train_acc = $1, adv_train_acc = $2, train_lipschitz = $3 \
                 WHERE id = $4",
            )
            .bind(headline.train_acc)
            .bind(headline.adv_train_acc)
            .bind(headline.train_lipschitz)
            .bind(&id)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// Ends a claimed run as done, with its result. Only the worker holding the lease can;
    /// returns whether it did.
    pub async fn finish_run(
        &self,
        id: &str,
        worker: &str,
        result: &RunResult,
    ) -> anyhow::Result<bool> {
        let headline = Headline::of(result)?;
        let updated = sqlx::query(
            "UPDATE runs SET status = 'done', finished_at = $1, result = $2, \
             test_acc = $3, adv_test_acc = $4, test_lipschitz = $5, autoattack_test_acc = $6, \
             masking_raised = $7, train_acc = $8, adv_train_acc = $9, train_lipschitz = $10, \
             epochs_done = epochs, lease_until = NULL \
             WHERE id = $11 AND worker = $12 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(serde_json::to_string(result)?)
        .bind(headline.test_acc)
        .bind(headline.adv_test_acc)
        .bind(headline.test_lipschitz)
        .bind(headline.autoattack_test_acc)
        .bind(headline.masking_raised)
        .bind(headline.train_acc)
        .bind(headline.adv_train_acc)
        .bind(headline.train_lipschitz)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Deletes a run that is not running, with its events.
    pub async fn delete(&self, id: &str) -> anyhow::Result<Deletion> {
        match self.run_status(id).await? {
            None => return Ok(Deletion::NotFound),
            Some(Status::Running) => return Ok(Deletion::Running),
            Some(_) => {}
        }
        let mut tx = self.pool.begin().await?;
        let deleted = sqlx::query("DELETE FROM runs WHERE id = $1 AND status <> 'running'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            // Claimed (or deleted) between the two reads: leave it and its events be.
            tx.rollback().await?;
            return Ok(match self.run_status(id).await? {
                None => Deletion::NotFound,
                Some(_) => Deletion::Running,
            });
        }
        // SQLite enforces the schema's ON DELETE CASCADE only with foreign keys switched on,
        // which the store does not do: the events go explicitly.
        sqlx::query("DELETE FROM run_events WHERE run_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Deletion::Deleted)
    }

    /// Records a run trained outside any worker (`astute train`), finished, with its result
    /// and `events` (its history, as a worker would have stored it).
    pub async fn record_run(&self, run: &RunDetail, events: &[JobEvent]) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_done_run(&mut tx, run, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds robust accuracies measured later (and the masking checks, when they ran) to
    /// finished run `id`'s result, each replacing an earlier one of the same measurement.
    /// Fails for an unknown run or one without a result, and changes nothing then.
    pub async fn add_robust(
        &self,
        id: &str,
        evaluations: &[RobustEvaluation],
        masking: Vec<MaskingFlag>,
    ) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT result FROM runs WHERE id = $1 AND status = 'done'")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .with_context(|| format!("no finished run {id} in the store"))?;
        let mut result: RunResult = json_column(&row, "result")?;
        result.add_robust(evaluations, masking);
        let headline = Headline::of(&result)?;
        sqlx::query(
            "UPDATE runs SET result = $1, evaluated_at = $2, autoattack_test_acc = $3, \
             masking_raised = $4 WHERE id = $5",
        )
        .bind(serde_json::to_string(&result)?)
        .bind(now_ms())
        .bind(headline.autoattack_test_acc)
        .bind(headline.masking_raised)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Seed;
    use super::*;

    /// A run stored before the train-side columns existed (here: columns emptied by hand)
    /// gets them from its result when the store next opens, and its gaps follow.
    #[tokio::test]
    async fn train_side_numbers_are_filled_in_from_the_result() {
        let dir = tempfile::tempdir().unwrap();
        let seed: Seed = serde_json::from_str(include_str!("../../seed/results.json")).unwrap();
        let shipped = &seed.runs[0];
        let id = shipped.run.summary.id.clone();
        let train = shipped.run.result.as_ref().unwrap().metrics.train;
        {
            let store = Store::open_in(dir.path()).await.unwrap();
            store
                .record_run(&shipped.run, &shipped.events)
                .await
                .unwrap();
            sqlx::query(
                "UPDATE runs SET train_acc = NULL, adv_train_acc = NULL, train_lipschitz = NULL",
            )
            .execute(&store.pool)
            .await
            .unwrap();
            let emptied = store.run(&id).await.unwrap().unwrap().summary;
            assert_eq!((emptied.adv_train_acc, emptied.gap()), (None, None));
        }
        let store = Store::open_in(dir.path()).await.unwrap();
        let summary = store.run(&id).await.unwrap().unwrap().summary;
        assert_eq!(summary.train_acc, Some(train.accuracy));
        assert_eq!(summary.adv_train_acc, Some(train.adversarial_accuracy));
        assert_eq!(summary.train_lipschitz, Some(train.lipschitz));
        // The gaps follow, to floating-point rounding.
        let metrics = &shipped.run.result.as_ref().unwrap().metrics;
        assert!((summary.gap().unwrap() - metrics.gap).abs() < 1e-9);
        assert!((summary.adv_gap().unwrap() - metrics.adv_gap).abs() < 1e-9);
    }
}
