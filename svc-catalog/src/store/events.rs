//! The outbox of book changes (`book_events`): a row written in the transaction of the
//! change, so an event cannot be lost if the process dies between commit and publish. The
//! relay (`ops/book_events.rs`) publishes rows to the Redis Stream and marks them.

use chrono::Utc;
use platform::store::{column, execute, query};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::book::BookChange;
use crate::error::CatalogResult;

/// An event waiting to be published: its row id, the book (none for an import batch) and
/// the kind (`created`, `updated`, `deleted`, `imported`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    pub id: i64,
    pub book_id: Option<Uuid>,
    pub kind: String,
}

/// Records a change, inside the caller's transaction.
pub async fn append(db: &impl ConnectionTrait, change: BookChange) -> CatalogResult<()> {
    execute(
        db,
        "book event",
        "INSERT INTO book_events (book_id, kind, created_at) VALUES (?, ?, ?)",
        [
            change.book().map(|id| id.as_uuid()).into(),
            change.kind().into(),
            Utc::now().into(),
        ],
    )
    .await?;
    Ok(())
}

/// The relay's read of the oldest `limit` unpublished events (its cost is tested).
#[must_use]
pub fn unpublished_sql(limit: u64) -> String {
    platform::store::outbox::unpublished_sql("book_events", "id, book_id, kind", limit)
}

/// Returns the oldest unpublished events.
pub async fn unpublished(db: &impl ConnectionTrait, limit: u64) -> CatalogResult<Vec<PendingEvent>> {
    let rows = query(db, "book event", &unpublished_sql(limit), []).await?;
    let mut events = Vec::new();
    for row in rows {
        events.push(PendingEvent {
            id: column::<i32>(&row, "id")
                .map(i64::from)
                .or_else(|_| column::<i64>(&row, "id"))?,
            book_id: column(&row, "book_id")?,
            kind: column(&row, "kind")?,
        });
    }
    Ok(events)
}
