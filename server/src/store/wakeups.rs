//! Pushed word of new run events on PostgreSQL: every stored event is followed by a
//! `NOTIFY` on [`CHANNEL`] carrying its run's id, and a server's one listener passes each
//! on to the live streams that wait on it, so a stream wakes when an event is stored
//! instead of at its next poll. SQLite has no such thing: its streams poll.

use tokio::sync::broadcast;

use super::{Dialect, Store};

/// The PostgreSQL channel a stored event is announced on.
const CHANNEL: &str = "astute_run_events";

/// Announcements a server passes to its streams before the slowest one must catch up.
const BACKLOG: usize = 1024;

/// Where the ids of runs with new events are announced in this process.
pub type Wakeups = broadcast::Sender<String>;

impl Store {
    /// Announces a new event of run `id` (PostgreSQL only).
    pub(super) async fn announce_event(&self, id: &str) -> anyhow::Result<()> {
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(id)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

/// Listens on the PostgreSQL database at `url` and passes every announcement on, until the
/// process ends. A connection lost is made again by the listener; what was announced
/// meanwhile is found by the streams' slower poll.
pub async fn listen_for_events(url: &str) -> anyhow::Result<Wakeups> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    let (wakeups, _) = broadcast::channel(BACKLOG);
    let sender = wakeups.clone();
    tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    let _ = sender.send(notification.payload().to_owned());
                }
                Err(error) => {
                    tracing::warn!("listening for run events: {error:#}");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(wakeups)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use astute::api::{DatasetId, ExperimentSpec};
    use astute::method::Method;
    use astute_api::JobEvent;

    use super::*;

    #[tokio::test]
    async fn a_stored_event_is_announced_to_listeners() {
        let Some(url) = crate::store::test_postgres("wakeups").await else {
            return;
        };
        let store = Store::open(&url).await.unwrap();
        let spec = ExperimentSpec::new(DatasetId::Spiral, Method::Natural);
        let run = store
            .create_run(
                &spec,
                &Default::default(),
                &crate::provenance::of_this_process("cpu"),
            )
            .await
            .unwrap();
        let wakeups = listen_for_events(&url).await.unwrap();
        let mut heard = wakeups.subscribe();
        let event = JobEvent::Released {
            reason: "test".into(),
        };
        store.append_event(&run, 1, &event).await.unwrap();
        let id = tokio::time::timeout(Duration::from_secs(5), heard.recv())
            .await
            .expect("no announcement within 5 s")
            .unwrap();
        assert_eq!(id, run);
    }
}
