//! `Reserve`: all lines or none, in one transaction, each line a conditional update.

use std::time::Duration;

use proto::types::{BookId, OrderId, ReservationId, ShortLine};

use super::{Inventory, commit};
use crate::domain::{Reservation, ReservationState, ReserveLine, StockLevel};
use crate::error::{InventoryError, InventoryRefusal, InventoryResult};
use crate::store::reservation;
use crate::store::{ledger, outbox, stock};

/// A checked reservation request. `lines` are merged and sorted by book (see
/// [`crate::domain::checked_lines`]): the lock order every transaction follows.
#[derive(Debug, Clone)]
pub struct Reserve {
    pub order_id: OrderId,
    pub lines: Vec<ReserveLine>,
    /// `None`: the service default.
    pub ttl: Option<Duration>,
    pub actor: String,
}

impl Inventory {
    /// Holds every line's copies for the order, or nothing.
    ///
    /// Idempotent per order: a retry returns the existing reservation. An order released
    /// before it was reserved (a tombstone) is refused, so a late Reserve cannot strand stock.
    ///
    /// A book the catalog no longer sells (deleted) has nothing to sell: its line is short
    /// with 0 available, whatever stock row it left behind (a deletion is seen within
    /// [`crate::upstream::RESERVE_CONFIRMATION_TTL`]).
    ///
    /// # Errors
    /// `OutOfStock` naming every short line with what is available; `FailedPrecondition` for
    /// an order that was released or expired.
    #[tracing::instrument(name = "inventory.reserve", skip_all, fields(order_id = %command.order_id, lines = command.lines.len()))]
    pub async fn reserve(&self, command: Reserve) -> InventoryResult<Reservation> {
        self.refuse_unsold_books(&command).await?;
        let ttl = command.ttl.unwrap_or(self.default_ttl);
        let expires_at_ms = self.clock.now_ms() + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
        let id = ReservationId::generate();
        let transaction = self.begin().await?;
        // First write of the transaction: claims the order (unique order_id).
        if !reservation::insert_held(&transaction, id, command.order_id, expires_at_ms).await? {
            drop(transaction);
            return self.existing_for(command.order_id).await;
        }
        // The stock rows go last, so a hot book's row stays locked only for its own update,
        // its stock event and the COMMIT (the ledger and lines roll back with a short line).
        reservation::insert_lines(&transaction, id, &command.lines).await?;
        for line in &command.lines {
            ledger::append(
                &transaction,
                ledger::Entry {
                    book_id: line.book_id,
                    delta_on_hand: 0,
                    delta_reserved: line.quantity,
                    reason: "reserve",
                    reservation_id: Some(id),
                    actor: &command.actor,
                },
            )
            .await?;
        }
        let mut short = Vec::new();
        for line in &command.lines {
            match stock::try_reserve(&transaction, line.book_id, line.quantity).await? {
                Some(level) => outbox::append(&transaction, level).await?,
                None => short.push(*line),
            }
        }
        if !short.is_empty() {
            let books: Vec<BookId> = short.iter().map(|line| line.book_id).collect();
            let levels = stock::get_many(&transaction, &books).await?;
            drop(transaction);
            let mut lines = Vec::new();
            for line in short {
                let available = levels
                    .iter()
                    .find(|level| level.book_id == line.book_id)
                    .map(StockLevel::available)
                    .unwrap_or(0);
                lines.push(ShortLine {
                    book_id: line.book_id,
                    requested: line.quantity,
                    available,
                });
            }
            crate::metrics::out_of_stock();
            return Err(InventoryError::from(InventoryRefusal::OutOfStock { lines }));
        }
        commit(transaction).await?;
        Ok(Reservation {
            id,
            order_id: command.order_id,
            state: ReservationState::Held,
            expires_at_ms,
            lines: command.lines,
        })
    }

    /// Refuses the lines of books the catalog does not sell, unless the order already holds
    /// its reservation (a retry answers what the first call did).
    async fn refuse_unsold_books(&self, command: &Reserve) -> InventoryResult<()> {
        let Some(catalog) = &self.catalog else {
            return Ok(());
        };
        let books: Vec<BookId> = command.lines.iter().map(|line| line.book_id).collect();
        let missing = catalog.missing_for_reserve(&books).await?;
        if missing.is_empty()
            || reservation::find_by_order(&self.db, command.order_id)
                .await?
                .is_some()
        {
            return Ok(());
        }
        let mut lines = Vec::new();
        for line in &command.lines {
            if missing.contains(&line.book_id) {
                lines.push(ShortLine {
                    book_id: line.book_id,
                    requested: line.quantity,
                    available: 0,
                });
            }
        }
        crate::metrics::out_of_stock();
        Err(InventoryError::from(InventoryRefusal::OutOfStock { lines }))
    }

    async fn existing_for(&self, order: OrderId) -> InventoryResult<Reservation> {
        let existing = reservation::find_by_order(&self.db, order)
            .await?
            .ok_or_else(|| {
                InventoryError::Internal(anyhow::anyhow!("order {order} claimed but not found"))
            })?;
        match existing.state {
            ReservationState::Held | ReservationState::Committed => Ok(existing),
            ReservationState::Released | ReservationState::Expired => Err(InventoryError::from(
                InventoryRefusal::FailedPrecondition(format!(
                    "order {order} was {} and cannot be reserved again",
                    existing.state.as_str().to_lowercase()
                )),
            )),
        }
    }
}
