//! A run's events: numbered from 1, appended by its worker, read by live streams and the
//! run's history.

use astute_api::{JobEvent, StoredEvent};
use sqlx::Row;

use super::{Store, json_column, now_ms};

impl Store {
    /// Appends an event; `seq` numbers a run's events from 1.
    pub async fn append_event(&self, id: &str, seq: i64, event: &JobEvent) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO run_events (run_id, seq, at, event) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(seq)
            .bind(now_ms())
            .bind(serde_json::to_string(event)?)
            .execute(&self.pool)
            .await?;
        self.announce_event(id).await
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
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            // An event this version cannot read (written by another one) is left out of
            // the history rather than hiding all of it.
            match json_column(row, "event") {
                Ok(event) => events.push(StoredEvent {
                    seq,
                    at: row.try_get("at")?,
                    event,
                }),
                Err(error) => tracing::warn!(run = %id, seq, "event skipped: {error:#}"),
            }
        }
        Ok(events)
    }
}
