//! The `in_stock` flag, fed by inventory's stock events: a Redis Stream read with a consumer
//! group, so every event reaches one catalog replica at least once and survives restarts.
//!
//! Event fields (written by svc-inventory): `book_id` (UUID), `available` (integer) and
//! `version` (integer, increasing per book). Applying is idempotent: an event older than the
//! book's `stock_version` changes nothing, so redelivery and reordering are harmless. An
//! event is acknowledged only after it is applied; entries a crashed consumer left pending
//! are claimed by another after [`CLAIM_IDLE`].

use std::collections::HashMap;
use std::time::Duration;

use platform::store::{LazyRedis, RedisStore, STOCK_EVENTS, stream_entries};
use redis::Value;
use redis::aio::ConnectionManager;
use tokio_util::sync::CancellationToken;

use super::Catalog;
use crate::error::CatalogResult;
use crate::store;

/// The consumer group every catalog replica reads in.
pub const GROUP: &str = "catalog";
/// How long a read blocks waiting for events.
const BLOCK: Duration = Duration::from_millis(1_000);
/// Pending entries idle this long are taken over from a consumer that died.
pub const CLAIM_IDLE: Duration = Duration::from_secs(30);
const BATCH: usize = 100;

/// One stock event as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockEvent {
    pub book_id: proto::types::BookId,
    pub available: i64,
    pub version: i64,
}

impl StockEvent {
    fn parse(fields: &HashMap<String, String>) -> Option<StockEvent> {
        Some(StockEvent {
            book_id: uuid::Uuid::parse_str(fields.get("book_id")?).ok()?.into(),
            available: fields.get("available")?.parse().ok()?,
            version: fields.get("version")?.parse().ok()?,
        })
    }
}

/// What one step of the consumer did, so the loop decides when to wait.
#[derive(Debug, PartialEq, Eq)]
pub enum StepOutcome {
    Applied(usize),
    Idle,
}

/// Reads and applies stock events until `shutdown`.
#[derive(Debug)]
pub struct StockEventConsumer {
    catalog: Catalog,
    connection: ConnectionManager,
    stream: String,
    consumer: String,
    claim_idle: Duration,
}

impl StockEventConsumer {
    /// Joins (creating if needed) the consumer group on `stream`, reading from the stream's
    /// start the first time so events published before catalog ever ran are not lost.
    ///
    /// # Errors
    /// Fails when Redis does not answer.
    pub async fn new(
        catalog: Catalog,
        redis: &RedisStore,
        stream: String,
        consumer: String,
    ) -> anyhow::Result<Self> {
        let mut connection = redis.dedicated_connection(BLOCK, &stream).await?;
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut connection)
            .await;
        if let Err(error) = created
            && error.code() != Some("BUSYGROUP")
        {
            return Err(error.into());
        }
        Ok(Self {
            catalog,
            connection,
            stream,
            consumer,
            claim_idle: CLAIM_IDLE,
        })
    }

    /// Takes over pending entries idle this long instead of [`CLAIM_IDLE`] (tests).
    pub fn with_claim_idle(mut self, claim_idle: Duration) -> Self {
        self.claim_idle = claim_idle;
        self
    }

    /// Joins the group once Redis answers (retrying until it can), then runs until
    /// `shutdown`: the background task of the service.
    ///
    /// # Errors
    /// Never: Redis that is late or gone is waited for, not fatal.
    pub async fn follow(
        catalog: Catalog,
        redis: LazyRedis,
        consumer: String,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let stream = redis.key(STOCK_EVENTS);
        let Some(store) = redis.connected(&shutdown).await else {
            return Ok(());
        };
        loop {
            let joined = loop {
                match Self::new(catalog.clone(), &store, stream.clone(), consumer.clone()).await {
                    Ok(joined) => break joined,
                    Err(error) => {
                        tracing::warn!(error.cause_chain = %platform::telemetry::cause_chain(&error), "stock event group not joined yet, retrying");
                        tokio::select! {
                            () = shutdown.cancelled() => return Ok(()),
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                }
            };
            // The stream's slot moved to another master (a failover, a reshard): join again
            // on the node that owns it now.
            if !joined.run(shutdown.clone()).await {
                return Ok(());
            }
        }
    }

    /// Runs until `shutdown` (false), or until the stream's slot is served by another
    /// node of a cluster (true: the connection must be opened again); any other failing step
    /// is logged and retried after a pause.
    pub async fn run(mut self, shutdown: CancellationToken) -> bool {
        loop {
            let outcome = tokio::select! {
                () = shutdown.cancelled() => return false,
                outcome = self.step() => outcome,
            };
            if let Err(error) = outcome {
                let moved = error
                    .chain()
                    .filter_map(|cause| cause.downcast_ref::<redis::RedisError>())
                    .any(|redis_error| redis_error.redirect_node().is_some());
                if moved {
                    tracing::info!("stock event stream moved to another redis node, joining again");
                    return true;
                }
                tracing::warn!(error.cause_chain = %platform::telemetry::cause_chain(&error), "stock event consumer step failed, retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return false,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }

    /// Applies what is pending for this consumer or claimable from dead ones, else waits up to
    /// [`BLOCK`] for new events and applies those.
    ///
    /// # Errors
    /// Fails when Redis or the database fails; nothing unapplied is acknowledged.
    pub async fn step(&mut self) -> anyhow::Result<StepOutcome> {
        let claimed = self.claim_stale().await?;
        let entries = if claimed.is_empty() {
            self.read_new().await?
        } else {
            claimed
        };
        if entries.is_empty() {
            return Ok(StepOutcome::Idle);
        }
        let count = entries.len();
        for (id, fields) in entries {
            self.apply(&fields).await?;
            crate::metrics::stock_event_applied(&id);
            redis::cmd("XACK")
                .arg(&self.stream)
                .arg(GROUP)
                .arg(&id)
                .query_async::<()>(&mut self.connection)
                .await?;
        }
        Ok(StepOutcome::Applied(count))
    }

    async fn apply(&self, fields: &HashMap<String, String>) -> CatalogResult<()> {
        let Some(event) = StockEvent::parse(fields) else {
            // A malformed event can never apply; acknowledging it keeps the group moving.
            tracing::warn!(?fields, "ignoring malformed stock event");
            return Ok(());
        };
        store::book::apply_stock(
            &self.catalog.db,
            event.book_id,
            event.available > 0,
            event.version,
        )
        .await?;
        Ok(())
    }

    async fn claim_stale(&mut self) -> anyhow::Result<Vec<(String, HashMap<String, String>)>> {
        let idle = u64::try_from(self.claim_idle.as_millis()).unwrap_or(u64::MAX);
        let reply: Value = redis::cmd("XAUTOCLAIM")
            .arg(&self.stream)
            .arg(GROUP)
            .arg(&self.consumer)
            .arg(idle)
            .arg("0")
            .arg("COUNT")
            .arg(BATCH)
            .query_async(&mut self.connection)
            .await?;
        // [next-start, [[id, [field, value, ...]], ...], deleted-ids]
        let Value::Array(parts) = reply else {
            return Ok(Vec::new());
        };
        Ok(parts.get(1).map(stream_entries).unwrap_or_default())
    }

    async fn read_new(&mut self) -> anyhow::Result<Vec<(String, HashMap<String, String>)>> {
        let block = u64::try_from(BLOCK.as_millis()).unwrap_or(1_000);
        let reply: Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(block)
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(">")
            .query_async(&mut self.connection)
            .await?;
        // nil on timeout, else [[stream, [[id, [field, value, ...]], ...]]] (RESP2) or a map (RESP3)
        let streams = match reply {
            Value::Array(streams) => streams,
            Value::Map(pairs) => pairs
                .into_iter()
                .map(|(key, value)| Value::Array(vec![key, value]))
                .collect(),
            _ => return Ok(Vec::new()),
        };
        let mut collected = Vec::new();
        for stream in streams {
            if let Value::Array(parts) = stream
                && let Some(list) = parts.get(1)
            {
                collected.extend(stream_entries(list));
            }
        }
        Ok(collected)
    }
}
