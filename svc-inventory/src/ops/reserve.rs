//! `Reserve`: all lines or none, in one statement (one batch on SQLite) whose stock CHECK
//! refuses a short line.

use std::time::Duration;

use proto::types::{BookId, OrderId, ReservationId, ShortLine};

use super::{Inventory, commit};
use crate::domain::{Reservation, ReservationState, ReserveLine, StockLevel};
use crate::error::{InventoryError, InventoryRefusal, InventoryResult};
use crate::store::reservation;
use crate::store::{phases, stock};

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
        // One round trip on PostgreSQL (a statement is its own transaction); on SQLite one
        // batch in a transaction, which a short line rolls back.
        let transaction = self.begin_if_batched().await?;
        let outcome = match &transaction {
            Some(transaction) => {
                phases::reserve(
                    transaction,
                    id,
                    command.order_id,
                    expires_at_ms,
                    &command.lines,
                    &command.actor,
                )
                .await?
            }
            None => {
                phases::reserve(
                    &self.db,
                    id,
                    command.order_id,
                    expires_at_ms,
                    &command.lines,
                    &command.actor,
                )
                .await?
            }
        };
        match outcome {
            phases::Reserved::Held => {}
            phases::Reserved::Unclaimed => {
                drop(transaction);
                if reservation::find_by_order(&self.db, command.order_id)
                    .await?
                    .is_none()
                {
                    // Not claimed before: a book has no stock row, so nothing available.
                    return Err(self.short(&command.lines).await?);
                }
                return self.existing_for(command.order_id).await;
            }
            phases::Reserved::Short => {
                drop(transaction);
                return Err(self.short(&command.lines).await?);
            }
        }
        if let Some(transaction) = transaction {
            commit(transaction).await?;
        }
        self.wake_relay();
        Ok(Reservation {
            id,
            order_id: command.order_id,
            state: ReservationState::Held,
            expires_at_ms,
            lines: command.lines,
        })
    }

    /// The refusal of a reservation a CHECK refused: every line with less available than it
    /// asks for, with what is available now.
    async fn short(&self, lines: &[ReserveLine]) -> InventoryResult<InventoryError> {
        let books: Vec<BookId> = lines.iter().map(|line| line.book_id).collect();
        let levels = stock::get_many(&self.db, &books).await?;
        let available = |book: BookId| {
            levels
                .iter()
                .find(|level| level.book_id == book)
                .map(StockLevel::available)
                .unwrap_or(0)
        };
        let mut short: Vec<ShortLine> = lines
            .iter()
            .filter(|line| available(line.book_id) < line.quantity)
            .map(|line| ShortLine {
                book_id: line.book_id,
                requested: line.quantity,
                available: available(line.book_id),
            })
            .collect();
        if short.is_empty() {
            // Copies came back between the refusal and this read: the line that was short
            // is not known any more, so every line is reported with what it has now.
            short = lines
                .iter()
                .map(|line| ShortLine {
                    book_id: line.book_id,
                    requested: line.quantity,
                    available: available(line.book_id),
                })
                .collect();
        }
        crate::metrics::out_of_stock();
        Ok(InventoryError::from(InventoryRefusal::OutOfStock {
            lines: short,
        }))
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
