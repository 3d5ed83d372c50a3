//! svc-inventory's operations, one file per RPC group, plus the two background loops.
//! [`Inventory`] is the cheap-to-clone handle the gRPC adapter and the loops share.

pub mod relay;
pub mod reserve;
pub mod settle;
pub mod stock;
pub mod sweeper;

use std::sync::Arc;
use std::time::Duration;

use proto::types::{BookId, ReservationId};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::domain::ReserveLine;
use crate::error::InventoryResult;
use crate::store::{self, ledger, outbox};
use crate::upstream::Catalog;

/// The logic handle of svc-inventory.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: Arc<dyn Clock>,
    /// How long a reservation holds when the caller does not say.
    pub(crate) default_ttl: Duration,
    /// Asked before stock is set and before a reservation holds (`inventory.verify_books`);
    /// `None`: every book id is taken as existing.
    pub(crate) catalog: Option<Catalog>,
    /// The connections stock levels are read from (see [`platform::store::Reads`]); `None`:
    /// every read goes through `db`.
    pub(crate) reads: Option<platform::store::Reads>,
    /// Woken after a write committed stock events, so the relay publishes them at once.
    pub(crate) changed: Arc<Notify>,
}

impl Inventory {
    /// Creates the handle over a migrated database.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, default_ttl: Duration) -> Self {
        Self {
            db,
            clock,
            default_ttl,
            catalog: None,
            reads: None,
            changed: Arc::new(Notify::new()),
        }
    }

    /// Tells the relay that committed stock events wait (many wakes before it runs are one).
    pub(crate) fn wake_relay(&self) {
        self.changed.notify_one();
    }

    /// Checks every book id against `catalog` before stock is set or reserved.
    pub fn verifying_books(mut self, catalog: Catalog) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// Reads stock levels (`GetStock`, `BatchGetStock`) from `reads` instead of `db`.
    pub fn reading_from(mut self, reads: Option<platform::store::Reads>) -> Self {
        self.reads = reads;
        self
    }

    /// Returns the database, for invariant checks in tests and benchmarks.
    pub fn database(&self) -> &DatabaseConnection {
        &self.db
    }

    pub(crate) async fn begin(&self) -> InventoryResult<DatabaseTransaction> {
        Ok(platform::store::begin(&self.db, "transaction").await?)
    }

    /// A transaction for a checkout phase on SQLite, whose phases are batches of
    /// statements; `None` on PostgreSQL, whose phases are single statements.
    pub(crate) async fn begin_if_batched(&self) -> InventoryResult<Option<DatabaseTransaction>> {
        if self.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            return Ok(None);
        }
        self.begin().await.map(Some)
    }
}

/// Commits a transaction.
pub(crate) async fn commit(transaction: DatabaseTransaction) -> InventoryResult<()> {
    Ok(platform::store::commit(transaction, "transaction").await?)
}

/// Gives a reservation's held copies back, with a ledger row and a stock event per book.
pub(crate) async fn release_lines(
    db: &impl ConnectionTrait,
    reservation: ReservationId,
    lines: &[ReserveLine],
    reason: &str,
    actor: &str,
) -> InventoryResult<()> {
    for line in lines {
        store::stock::unreserve(db, line.book_id, line.quantity).await?;
        ledger::append(
            db,
            ledger::Entry {
                book_id: line.book_id,
                delta_on_hand: 0,
                delta_reserved: -line.quantity,
                reason,
                reservation_id: Some(reservation),
                actor,
            },
        )
        .await?;
        publish_level(db, line.book_id).await?;
    }
    Ok(())
}

/// Queues the book's new availability for the stock event stream.
pub(crate) async fn publish_level(db: &impl ConnectionTrait, book: BookId) -> InventoryResult<()> {
    let level = store::stock::get(db, book).await?;
    debug_assert!(
        0 <= level.reserved && level.reserved <= level.on_hand,
        "{level:?}"
    );
    outbox::append(db, level).await
}
