//! The outbox: a stock event row written in the same transaction as the stock change, so an
//! event cannot be lost if the process dies between commit and publish. The relay publishes
//! rows to the Redis Stream and marks them.

use chrono::Utc;
use proto::types::BookId;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::StockLevel;
use crate::error::InventoryResult;
use platform::store::{column, execute, query};

/// An event waiting to be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingEvent {
    pub id: i64,
    pub book_id: BookId,
    pub available: i64,
    pub version: i64,
}

/// Records the book's availability after a change.
pub async fn append(db: &impl ConnectionTrait, level: StockLevel) -> InventoryResult<()> {
    execute(
        db,
        "outbox",
        "INSERT INTO outbox (book_id, available, version, created_at) VALUES (?, ?, ?, ?)",
        [
            level.book_id.as_uuid().into(),
            level.available().into(),
            level.version.into(),
            Utc::now().into(),
        ],
    )
    .await?;
    Ok(())
}

/// The relay's read of the oldest `limit` unpublished events (its cost is tested).
#[must_use]
pub fn unpublished_sql(limit: u64) -> String {
    platform::store::outbox::unpublished_sql("outbox", "id, book_id, available, version", limit)
}

/// Returns the oldest unpublished events.
pub async fn unpublished(db: &impl ConnectionTrait, limit: u64) -> InventoryResult<Vec<PendingEvent>> {
    let rows = query(db, "outbox", &unpublished_sql(limit), []).await?;
    let mut events = Vec::new();
    for row in rows {
        events.push(PendingEvent {
            id: column::<i32>(&row, "id")
                .map(i64::from)
                .or_else(|_| column::<i64>(&row, "id"))?,
            book_id: column::<Uuid>(&row, "book_id")?.into(),
            available: column(&row, "available")?,
            version: column(&row, "version")?,
        });
    }
    Ok(events)
}
