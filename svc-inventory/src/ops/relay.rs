//! The outbox relay: publishes stock events to the Redis Stream catalog reads, then marks
//! them. A crash between the two publishes an event twice, which the consumer ignores (it
//! applies by version): at-least-once, never lost.

use std::time::Duration;

use platform::store::{LazyRedis, RedisStore, STOCK_EVENTS};
use tokio_util::sync::CancellationToken;

use super::Inventory;
use crate::store::outbox;

impl Inventory {
    /// Publishes up to 100 pending events; returns how many.
    ///
    /// # Errors
    /// Fails when Redis or the database fails; unpublished events stay pending.
    pub async fn relay_once(&self, redis: &RedisStore, stream: &str) -> anyhow::Result<usize> {
        let events = outbox::unpublished(&self.db, 100).await?;
        let mut connection = redis.connection();
        for event in &events {
            redis::cmd("XADD")
                .arg(stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(1_000_000)
                .arg("*")
                .arg("book_id")
                .arg(event.book_id.to_string())
                .arg("available")
                .arg(event.available)
                .arg("version")
                .arg(event.version)
                .query_async::<String>(&mut connection)
                .await?;
            outbox::mark_published(&self.db, event.id).await?;
        }
        Ok(events.len())
    }

    /// Relays every `interval` (at once again while there is a backlog) until `shutdown`,
    /// once Redis answers.
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
        loop {
            let pause = match self.relay_once(&redis, &stream).await {
                Ok(100) => Duration::ZERO,
                Ok(_) => interval,
                Err(error) => {
                    tracing::warn!(error.cause_chain = %platform::telemetry::cause_chain(&error), "stock event relay failed, retrying");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}
