//! The outbox relay of book changes: publishes `book_events` rows to the Redis Stream
//! `<prefix>:{book-events}` the BFF's catalogue cache follows, then marks them. A crash
//! between the two publishes an event twice, which a reader of invalidations shrugs off:
//! at-least-once, never lost. A write of this replica wakes the relay at once; events of
//! other replicas are found by polling every [`INTERVAL`].
//!
//! Event fields: `kind` (`created`, `updated`, `deleted`, `imported`) and `book_id` (UUID;
//! empty for an import batch, which names no single book).

use std::time::Duration;

use platform::store::outbox::{self, OutboxEntry, RELAY_BATCH};
use platform::store::{BOOK_EVENTS, LazyRedis, RedisStore};
use tokio_util::sync::CancellationToken;

use super::Catalog;
use crate::store::events;

/// How often the relay looks for events written by other replicas.
pub const INTERVAL: Duration = Duration::from_millis(200);
/// About how many events the stream keeps.
const STREAM_LENGTH: u64 = 100_000;

impl Catalog {
    /// Publishes up to [`RELAY_BATCH`] pending events; returns how many.
    ///
    /// # Errors
    /// Fails when Redis or the database fails; unpublished events stay pending.
    pub async fn relay_book_events(&self, redis: &RedisStore, stream: &str) -> anyhow::Result<usize> {
        let pending = events::unpublished(&self.db, RELAY_BATCH).await?;
        let entries: Vec<OutboxEntry> = pending
            .iter()
            .map(|event| OutboxEntry {
                id: event.id,
                fields: vec![
                    ("kind", event.kind.clone()),
                    (
                        "book_id",
                        event.book_id.map(|id| id.to_string()).unwrap_or_default(),
                    ),
                ],
            })
            .collect();
        outbox::publish(redis, stream, STREAM_LENGTH, &entries).await?;
        let ids: Vec<i64> = entries.iter().map(|entry| entry.id).collect();
        outbox::mark_published(&self.db, "book_events", &ids).await?;
        Ok(entries.len())
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
        outbox::relay(
            "book events",
            INTERVAL,
            outbox::RELAY_PASS_GAP,
            &self.changed,
            shutdown,
            || self.relay_book_events(&redis, &stream),
        )
        .await;
        Ok(())
    }
}
