//! The cache's event feed: follows `<prefix>:{book-events}` (catalog's outbox) and
//! `<prefix>:{stock-events}` (inventory's outbox) with plain `XREAD`, not a consumer group:
//! every BFF replica must see every event. One blocking connection per stream, because the
//! two keys live in different slots of a Redis Cluster.
//!
//! Each stream is joined at its current end, and the cache is dropped at that moment: what
//! is cached afterwards is read after that point, and every change after it arrives as an
//! event. Any failure (Redis gone, an answer that does not read, a moved slot) drops the
//! cache and stops it serving until the stream is joined again.

use std::collections::HashMap;
use std::time::Duration;

use platform::store::{BOOK_EVENTS, LazyRedis, RedisStore, STOCK_EVENTS, stream_entries};
use redis::Value;
use redis::aio::ConnectionManager;
use tokio_util::sync::CancellationToken;

use super::{CatalogCache, Feed};

/// How long one read waits for events.
const BLOCK: Duration = Duration::from_millis(1_000);
/// Events one read takes.
const BATCH: usize = 500;
/// The pause before joining a stream again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// Follows both streams until `shutdown`, once Redis answers.
///
/// # Errors
/// Never: a failure drops the cache and is retried.
pub async fn follow(
    cache: CatalogCache,
    redis: LazyRedis,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (books, stock) = (redis.key(BOOK_EVENTS), redis.key(STOCK_EVENTS));
    let Some(store) = redis.connected(&shutdown).await else {
        return Ok(());
    };
    tokio::join!(
        follow_stream(&cache, &store, Feed::Books, &books, &shutdown),
        follow_stream(&cache, &store, Feed::Stock, &stock, &shutdown),
    );
    Ok(())
}

async fn follow_stream(
    cache: &CatalogCache,
    store: &RedisStore,
    feed: Feed,
    key: &str,
    shutdown: &CancellationToken,
) {
    loop {
        match read(cache, store, feed, key, shutdown).await {
            Ok(()) => return,
            Err(error) => {
                cache.feed_lost(feed);
                tracing::warn!(stream = key, error.cause_chain = %platform::telemetry::cause_chain(&error), "catalogue cache feed lost, cache dropped, joining again");
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RETRY) => {}
        }
    }
}

/// Joins `key` at its end and applies its events until `shutdown` (`Ok`) or a failure.
async fn read(
    cache: &CatalogCache,
    store: &RedisStore,
    feed: Feed,
    key: &str,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let mut connection = store.dedicated_connection(BLOCK, key).await?;
    let newest: Value = redis::cmd("XREVRANGE")
        .arg(key)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(&mut connection)
        .await?;
    let mut last = stream_entries(&newest)
        .into_iter()
        .next()
        .map_or_else(|| "0-0".to_owned(), |(id, _)| id);
    cache.feed_synced(feed);
    tracing::info!(stream = key, from = %last, "catalogue cache following");
    loop {
        let batch = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            batch = read_after(&mut connection, key, &last) => batch?,
        };
        for (id, fields) in batch {
            apply(cache, feed, &fields);
            last = id;
        }
    }
}

async fn read_after(
    connection: &mut ConnectionManager,
    key: &str,
    last: &str,
) -> anyhow::Result<Vec<(String, HashMap<String, String>)>> {
    let block = u64::try_from(BLOCK.as_millis()).unwrap_or(1_000);
    let reply: Value = redis::cmd("XREAD")
        .arg("COUNT")
        .arg(BATCH)
        .arg("BLOCK")
        .arg(block)
        .arg("STREAMS")
        .arg(key)
        .arg(last)
        .query_async(connection)
        .await?;
    // nil on timeout, else [[stream, [[id, [field, value, ...]], ...]]] (RESP2) or a map (RESP3)
    let streams = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(streams) => streams,
        Value::Map(pairs) => pairs
            .into_iter()
            .map(|(key, value)| Value::Array(vec![key, value]))
            .collect(),
        other => anyhow::bail!("XREAD answered {other:?}"),
    };
    let mut collected = Vec::new();
    for stream in streams {
        match stream {
            Value::Array(parts) if parts.len() == 2 => collected.extend(stream_entries(&parts[1])),
            other => anyhow::bail!("XREAD answered a stream as {other:?}"),
        }
    }
    Ok(collected)
}

fn apply(cache: &CatalogCache, feed: Feed, fields: &HashMap<String, String>) {
    match feed {
        Feed::Books => {
            // Any book event, even one that does not read, drops the pages; a book id
            // drops that book too.
            let book = fields
                .get("book_id")
                .map(String::as_str)
                .filter(|id| !id.is_empty());
            cache.book_changed(book);
        }
        Feed::Stock => {
            let parsed = (|| {
                Some((
                    fields.get("book_id")?,
                    fields.get("available")?.parse::<i64>().ok()?,
                    fields.get("version")?.parse::<i64>().ok()?,
                ))
            })();
            match parsed {
                Some((book, available, version)) => cache.stock_changed(book, available, version),
                None => {
                    tracing::warn!(?fields, "malformed stock event, availability dropped");
                    cache.stock_unknown();
                }
            }
        }
    }
}
