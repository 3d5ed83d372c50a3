//! The relay half of a transactional outbox, shared by inventory's stock events and catalog's
//! book events: a pass reads the oldest unpublished rows, adds them to their Redis Stream in
//! one pipelined round trip, then marks them in one statement. A crash between the two
//! publishes a batch twice, which consumers tolerate (they apply by version or only drop
//! cached entries): at-least-once, never lost.
//!
//! One write per pass, not per event, matters on SQLite, whose single writer lock the relay
//! shares with every checkout phase.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{RedisStore, StoreError, execute, placeholders};

/// Rows one pass publishes at most; a full pass is followed by another at once.
pub const RELAY_BATCH: u64 = 100;

/// The migration that moves an outbox table's relay read onto an index of its unpublished
/// rows alone (partial: `published_at IS NULL`, in id order), replacing `old_index` on
/// `(published_at, id)`; each service names it in its own numbered list.
///
/// Why: the old index held an entry for every row, published or not, and marking a row
/// published added another; this one holds the pending rows, and marking adds nothing. The
/// relay finds its first pending row in it in order ([`unpublished_sql`] says why that
/// matters), and SQLite reads its batch from it without sorting.
#[derive(Debug, Clone, Copy)]
pub struct PendingRowsIndex {
    /// The migration's name as the migrations table records it.
    pub name: &'static str,
    /// The outbox table.
    pub table: &'static str,
    /// The `(published_at, id)` index it replaces.
    pub old_index: &'static str,
}

impl PendingRowsIndex {
    async fn drop_index(
        &self,
        manager: &sea_orm_migration::SchemaManager<'_>,
        index: &str,
    ) -> Result<(), sea_orm::DbErr> {
        use sea_orm_migration::prelude::{Alias, Index};
        manager
            .drop_index(Index::drop().name(index).table(Alias::new(self.table)).to_owned())
            .await
    }
}

impl sea_orm_migration::MigrationName for PendingRowsIndex {
    fn name(&self) -> &str {
        self.name
    }
}

// async_trait's expansion only matches the trait with the elided `SchemaManager` lifetime.
#[allow(elided_lifetimes_in_paths)]
#[sea_orm_migration::async_trait::async_trait]
impl sea_orm_migration::MigrationTrait for PendingRowsIndex {
    async fn up(&self, manager: &sea_orm_migration::SchemaManager) -> Result<(), sea_orm::DbErr> {
        use sea_orm_migration::prelude::{Alias, ConditionalStatement as _, Expr, ExprTrait as _, Index};
        self.drop_index(manager, self.old_index).await?;
        manager
            .create_index(
                Index::create()
                    .name(pending_index(self.table))
                    // An operator may have built it `CONCURRENTLY` ahead of the upgrade.
                    .if_not_exists()
                    .table(Alias::new(self.table))
                    .col(Alias::new("id"))
                    .and_where(Expr::col(Alias::new("published_at")).is_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &sea_orm_migration::SchemaManager) -> Result<(), sea_orm::DbErr> {
        use sea_orm_migration::prelude::{Alias, Index};
        self.drop_index(manager, &pending_index(self.table)).await?;
        manager
            .create_index(
                Index::create()
                    .name(self.old_index)
                    .table(Alias::new(self.table))
                    .col(Alias::new("published_at"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await
    }
}

/// The name of `table`'s index of unpublished rows.
#[must_use]
pub fn pending_index(table: &str) -> String {
    format!("{table}_pending")
}

/// A relay's read of the oldest `limit` unpublished rows of `table`, with `columns`.
///
/// The read starts at the lowest pending id, looked up by `min(id)`: PostgreSQL always takes
/// that through the index of pending rows in order, and an ordered index scan marks the
/// entries of rows published since the last vacuum as dead as it passes them, so the next
/// pass skips them. Without that bound PostgreSQL planned the read as a bitmap scan (its
/// usual choice while the table has no statistics, and the plan a relay's prepared statement
/// keeps), which never marks an entry and so visited every published row on every pass,
/// slower as the outbox grew (figures: README, "Measured choices"). The limit is in the text:
/// SQLite re-prepares a statement whose bound LIMIT is bound anew.
#[must_use]
pub fn unpublished_sql(table: &str, columns: &str, limit: u64) -> String {
    format!(
        "SELECT {columns} FROM {table} WHERE published_at IS NULL \
         AND id >= (SELECT min(id) FROM {table} WHERE published_at IS NULL) ORDER BY id LIMIT {limit}"
    )
}

/// An outbox row to publish: its id and the stream entry's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub fields: Vec<(&'static str, String)>,
}

/// Adds `entries` to `stream` (trimmed to about `max_len` entries) in one round trip.
///
/// # Errors
/// Fails when Redis refuses or does not answer; nothing is marked then.
pub async fn publish(
    redis: &RedisStore,
    stream: &str,
    max_len: u64,
    entries: &[OutboxEntry],
) -> redis::RedisResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut pipeline = redis::pipe();
    for entry in entries {
        let command = pipeline
            .cmd("XADD")
            .arg(stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(max_len)
            .arg("*");
        for (field, value) in &entry.fields {
            command.arg(*field).arg(value);
        }
        command.ignore();
    }
    pipeline.query_async::<()>(&mut redis.connection()).await
}

/// Marks `ids` of `table` published, in one statement.
///
/// # Errors
/// The classified database error.
pub async fn mark_published(
    db: &impl ConnectionTrait,
    table: &'static str,
    ids: &[i64],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE {table} SET published_at = ? WHERE id IN ({})",
        placeholders(ids.len())
    );
    let mut values: Vec<sea_orm::Value> = vec![chrono::Utc::now().into()];
    values.extend(ids.iter().map(|id| sea_orm::Value::from(*id)));
    execute(db, table, &sql, values).await?;
    Ok(())
}

/// The least time between the starts of two passes a write wakes: under a storm of checkouts
/// a pass (a read, a Redis round trip and an update) followed nearly every write; now the
/// writes of one gap share a pass. An idle relay still publishes a write at once.
pub const RELAY_PASS_GAP: Duration = Duration::from_millis(20);

/// Runs `pass` (which publishes up to [`RELAY_BATCH`] rows and returns how many) until
/// `shutdown`: at once again after a full pass, when `woken` (a write of this replica
/// committed rows) but not sooner than `gap` after the last pass began (use
/// [`RELAY_PASS_GAP`]), or every `interval` (rows of other replicas); a failed pass is
/// logged as `what` and retried after a second.
pub async fn relay<F, Fut>(
    what: &'static str,
    interval: Duration,
    gap: Duration,
    woken: &Notify,
    shutdown: CancellationToken,
    mut pass: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<usize>>,
{
    loop {
        let began = tokio::time::Instant::now();
        let pause = match pass().await {
            Ok(count) if count as u64 >= RELAY_BATCH => Duration::ZERO,
            Ok(_) => interval,
            Err(error) => {
                tracing::warn!(relay = what, error.cause_chain = %crate::telemetry::cause_chain(&error), "outbox relay failed, retrying");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
            () = woken.notified() => {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep_until(began + gap) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn writes_during_the_gap_share_one_pass_and_an_idle_relay_publishes_at_once() {
        // A gap far longer than this machine's scheduling noise, so the counts are exact.
        let gap = Duration::from_secs(1);
        let woken = Arc::new(Notify::new());
        let passes = Arc::new(AtomicUsize::new(0));
        let shutdown = CancellationToken::new();
        let relay = tokio::spawn({
            let (woken, passes, shutdown) = (Arc::clone(&woken), Arc::clone(&passes), shutdown.clone());
            async move {
                relay(
                    "test events",
                    Duration::from_secs(3_600),
                    gap,
                    &woken,
                    shutdown,
                    || {
                        passes.fetch_add(1, Ordering::SeqCst);
                        async { Ok(1) }
                    },
                )
                .await;
            }
        });
        // The first pass, then idle past the gap: a write is published without waiting.
        tokio::time::sleep(gap + Duration::from_millis(100)).await;
        assert_eq!(passes.load(Ordering::SeqCst), 1);
        woken.notify_one();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            passes.load(Ordering::SeqCst),
            2,
            "an idle relay waited for the gap"
        );
        // Twenty writes within one gap: one more pass carries them all.
        for _ in 0..20 {
            woken.notify_one();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The burst's pass runs when the second pass's gap ends, the next a gap after that.
        tokio::time::sleep(gap).await;
        assert_eq!(
            passes.load(Ordering::SeqCst),
            3,
            "writes within a gap ran passes of their own"
        );
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), relay)
            .await
            .expect("the relay stops at shutdown")
            .unwrap();
    }
}
