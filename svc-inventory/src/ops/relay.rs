//! The outbox relay: publishes stock events to the Redis Stream catalog and the BFF read,
//! then marks them (`platform::store::outbox`). A crash between the two publishes an event
//! twice, which the consumers ignore (they apply by version): at-least-once, never lost. A
//! write of this replica wakes the relay at once; events of other replicas are found by
//! polling.

use std::time::Duration;

use platform::store::outbox::{self, OutboxEntry, RELAY_BATCH};
use platform::store::{LazyRedis, RedisStore, STOCK_EVENTS};
use tokio_util::sync::CancellationToken;

use super::Inventory;
use crate::store::outbox as pending;

/// About how many events the stream keeps.
const STREAM_LENGTH: u64 = 1_000_000;

impl Inventory {
    /// Publishes up to [`RELAY_BATCH`] pending events; returns how many.
    ///
    /// # Errors
    /// Fails when Redis or the database fails; unpublished events stay pending.
    pub async fn relay_once(&self, redis: &RedisStore, stream: &str) -> anyhow::Result<usize> {
        let entries: Vec<OutboxEntry> = pending::unpublished(&self.db, RELAY_BATCH)
            .await?
            .into_iter()
            .map(|event| OutboxEntry {
                id: event.id,
                fields: vec![
                    ("book_id", event.book_id.to_string()),
                    ("available", event.available.to_string()),
                    ("version", event.version.to_string()),
                ],
            })
            .collect();
        outbox::publish(redis, stream, STREAM_LENGTH, &entries).await?;
        let ids: Vec<i64> = entries.iter().map(|entry| entry.id).collect();
        outbox::mark_published(&self.db, "outbox", &ids).await?;
        Ok(entries.len())
    }

    /// Relays when this replica wrote, every `interval` and at once again while there is a
    /// backlog, until `shutdown`, once Redis answers.
    ///
    /// # Errors
    /// Never: a failed pass is logged and retried.
    pub async fn run_relay(
        self,
        redis: LazyRedis,
        interval: Duration,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let stream = redis.key(STOCK_EVENTS);
        let Some(redis) = redis.connected(&shutdown).await else {
            return Ok(());
        };
        outbox::relay(
            "stock events",
            interval,
            outbox::RELAY_PASS_GAP,
            &self.changed,
            shutdown,
            || self.relay_once(&redis, &stream),
        )
        .await;
        Ok(())
    }
}
