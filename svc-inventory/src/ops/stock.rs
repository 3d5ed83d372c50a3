//! `GetStock`, `BatchGetStock`, and the admin writes `SetStock` and `Restock`.

use platform::store::Reads;
use proto::types::{BookId, OrderId};

use super::{Inventory, commit, publish_level};
use crate::domain::StockLevel;
use crate::error::{InventoryError, InventoryRefusal, InventoryResult};
use crate::store::ledger;
use crate::store::stock;

/// Most books one `BatchGetStock` may ask for.
pub const MAX_BATCH: usize = 500;

impl Inventory {
    /// Returns one book's stock (zeros for a book inventory has never heard of).
    ///
    /// # Errors
    /// Internal on a database failure.
    pub async fn get_stock(&self, book: BookId) -> InventoryResult<StockLevel> {
        let levels = self.levels(&[book]).await?;
        Ok(levels.first().copied().unwrap_or_else(|| StockLevel::zero(book)))
    }

    /// Returns each book's stock in request order, zeros for unknown books.
    ///
    /// # Errors
    /// `InvalidArgument` beyond [`MAX_BATCH`] books.
    pub async fn batch_get_stock(&self, books: &[BookId]) -> InventoryResult<Vec<StockLevel>> {
        if books.len() > MAX_BATCH {
            return Err(proto::types::InvalidField::new("book_ids", "at most 500 ids per call").into());
        }
        let levels = self.levels(books).await?;
        let mut ordered = Vec::new();
        for book in books {
            let level = levels.iter().find(|level| level.book_id == *book).copied();
            ordered.push(level.unwrap_or_else(|| StockLevel::zero(*book)));
        }
        Ok(ordered)
    }

    /// The levels of `books` that have a row, from the read connections when there are.
    async fn levels(&self, books: &[BookId]) -> InventoryResult<Vec<StockLevel>> {
        match &self.reads {
            Some(Reads::Sqlite(reads)) => stock::get_many_sqlite(reads, books).await,
            Some(Reads::Postgres(reads)) => stock::get_many(reads, books).await,
            None => stock::get_many(&self.db, books).await,
        }
    }

    /// Sets a book's `on_hand` (a stock take); never below what is reserved.
    ///
    /// # Errors
    /// `InvalidArgument` for a negative count; `NotFound` for a book the catalog does not
    /// sell; `FailedPrecondition` below the reserved count.
    #[tracing::instrument(name = "inventory.set_stock", skip_all, fields(book_id = %book, on_hand))]
    pub async fn set_stock(
        &self,
        book: BookId,
        on_hand: i64,
        reason: &str,
        actor: &str,
    ) -> InventoryResult<StockLevel> {
        if on_hand < 0 {
            return Err(proto::types::InvalidField::new("on_hand", "must not be negative").into());
        }
        if let Some(catalog) = &self.catalog {
            catalog.ensure_exists(book).await?;
        }
        let transaction = self.begin().await?;
        stock::ensure(&transaction, book).await?;
        let before = stock::get(&transaction, book).await?;
        if !stock::set_on_hand(&transaction, book, on_hand).await? {
            return Err(InventoryError::from(InventoryRefusal::FailedPrecondition(
                format!(
                    "cannot set on_hand to {on_hand}: {} copies are reserved",
                    before.reserved
                ),
            )));
        }
        ledger::append(
            &transaction,
            ledger::Entry {
                book_id: book,
                delta_on_hand: on_hand - before.on_hand,
                delta_reserved: 0,
                reason: if reason.is_empty() { "set_stock" } else { reason },
                reservation_id: None,
                actor,
            },
        )
        .await?;
        publish_level(&transaction, book).await?;
        let after = stock::get(&transaction, book).await?;
        commit(transaction).await?;
        self.wake_relay();
        Ok(after)
    }

    /// Adds copies (a delivery, or the stock of a cancelled order). With an order id it is
    /// idempotent per (order, book): a retried cancellation never restocks twice.
    ///
    /// A restock without an order must name a book the catalog sells; one for an order is
    /// the stock of a sale given back, taken whatever became of the book since.
    ///
    /// # Errors
    /// `InvalidArgument` for a quantity below 1; `NotFound` for a book the catalog does not
    /// sell (without an order).
    #[tracing::instrument(name = "inventory.restock", skip_all, fields(book_id = %book, quantity))]
    pub async fn restock(
        &self,
        book: BookId,
        quantity: i64,
        reason: &str,
        order: Option<OrderId>,
        actor: &str,
    ) -> InventoryResult<StockLevel> {
        if !(1..=1_000_000).contains(&quantity) {
            return Err(proto::types::InvalidField::new("quantity", "must be between 1 and 1000000").into());
        }
        if let (Some(catalog), None) = (&self.catalog, order) {
            catalog.ensure_exists(book).await?;
        }
        let transaction = self.begin().await?;
        if let Some(order) = order
            && !stock::fence_restock(&transaction, order, book, quantity).await?
        {
            drop(transaction);
            return stock::get(&self.db, book).await;
        }
        stock::ensure(&transaction, book).await?;
        stock::add_on_hand(&transaction, book, quantity).await?;
        ledger::append(
            &transaction,
            ledger::Entry {
                book_id: book,
                delta_on_hand: quantity,
                delta_reserved: 0,
                reason: if reason.is_empty() { "restock" } else { reason },
                reservation_id: None,
                actor,
            },
        )
        .await?;
        publish_level(&transaction, book).await?;
        let after = stock::get(&transaction, book).await?;
        commit(transaction).await?;
        self.wake_relay();
        Ok(after)
    }
}
