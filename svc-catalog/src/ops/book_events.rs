//! The outbox relay of book changes: publishes `book_events` rows to the Redis Stream
//! `<prefix>:{book-events}` the BFF's catalogue cache follows, then marks them. A crash
//! between the two publishes an event twice, which a reader of invalidations shrugs off:
//! at-least-once, never lost. A write of this replica wakes the relay at once; events of
//! other replicas are found by polling every [`INTERVAL`].
//!
//! Event fields: `kind` (`created`, `updated`, `deleted`, `imported`) and `book_id` (UUID;
//! empty for an import batch, which names no single book).

use std::time::Duration;

use platform::store::{BOOK_EVENTS, LazyRedis, RedisStore};
use tokio_util::sync::CancellationToken;

use super::Catalog;
use crate::store::events;

/// How often the relay looks for events written by other replicas.
pub const INTERVAL: Duration = Duration::from_millis(200);
const BATCH: u64 = 100;

impl Catalog {
    /// Publishes up to [`BATCH`] pending events; returns how many.
    ///
    /// # Errors
    /// Fails when Redis or the database fails; unpublished events stay pending.
    pub async fn relay_book_events(&self, redis: &RedisStore, stream: &str) -> anyhow::Result<usize> {
        let pending = events::unpublished(&self.db, BATCH).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut connection = redis.connection();
        for event in &pending {
            redis::cmd("XADD")
                .arg(stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(100_000)
                .arg("*")
                .arg("kind")
                .arg(&event.kind)
                .arg("book_id")
                .arg(event.book_id.map(|id| id.to_string()).unwrap_or_default())
                .query_async::<String>(&mut connection)
                .await?;
        }
        let ids: Vec<i64> = pending.iter().map(|event| event.id).collect();
        events::mark_published(&self.db, &ids).await?;
        Ok(pending.len())
    }

    /// Relays when this replica wrote (woken at once) or every [`INTERVAL`], at once again
    /// while there is a backlog, until `shutdown`, once Redis answers.
    ///
    /// # Errors
    /// Never: a failed pass is logged and retried.
    pub async fn run_book_event_relay(
        self,
        redis: LazyRedis,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let stream = redis.key(BOOK_EVENTS);
        let Some(redis) = redis.connected(&shutdown).await else {
            return Ok(());
        };
        loop {
            let pause = match self.relay_book_events(&redis, &stream).await {
                Ok(count) if count as u64 == BATCH => Duration::ZERO,
                Ok(_) => INTERVAL,
                Err(error) => {
                    tracing::warn!(error.cause_chain = %platform::telemetry::cause_chain(&error), "book event relay failed, retrying");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = self.changed.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}
