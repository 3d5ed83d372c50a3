//! `CreateBook`, `UpdateBook`, `DeleteBook` (admins only, by policy).

use platform::store::Classify as _;
use proto::types::BookId;

use super::Catalog;
use crate::domain::BookDraft;
use crate::domain::book::{Book, BookChange};
use crate::error::{CatalogError, CatalogResult};
use crate::store;

impl Catalog {
    /// Adds a book.
    ///
    /// # Errors
    /// `AlreadyExists` when its ISBN is taken.
    #[tracing::instrument(name = "catalog.create_book", skip_all, fields(isbn = %draft.isbn))]
    pub async fn create_book(&self, draft: BookDraft) -> CatalogResult<Book> {
        let transaction = platform::store::begin(&self.db, "book").await?;
        let created = store::book::insert_many(&transaction, std::slice::from_ref(&draft)).await?;
        let book = created
            .into_iter()
            .next()
            .ok_or_else(|| CatalogError::Internal(anyhow::anyhow!("the insert of one book returned none")))?;
        store::events::append(&transaction, BookChange::Created(book.id)).await?;
        transaction.commit().await.classify("book")?;
        self.changed.notify_one();
        tracing::info!(book_id = %book.id, "book created");
        Ok(book)
    }

    /// Replaces every field of a live book.
    ///
    /// # Errors
    /// `NotFound` for an unknown or deleted book; `AlreadyExists` for a taken ISBN.
    #[tracing::instrument(name = "catalog.update_book", skip_all, fields(book_id = %id))]
    pub async fn update_book(&self, id: BookId, draft: BookDraft) -> CatalogResult<Book> {
        let transaction = platform::store::begin(&self.db, "book").await?;
        let updated = store::book::update(&transaction, id, &draft).await?;
        store::events::append(&transaction, BookChange::Updated(id)).await?;
        transaction.commit().await.classify("book")?;
        self.changed.notify_one();
        Ok(updated)
    }

    /// Soft-deletes a book: gone from reads and search, kept for order history. Idempotent.
    ///
    /// # Errors
    /// `NotFound` for a book that never existed.
    #[tracing::instrument(name = "catalog.delete_book", skip_all, fields(book_id = %id))]
    pub async fn delete_book(&self, id: BookId) -> CatalogResult<()> {
        let transaction = platform::store::begin(&self.db, "book").await?;
        store::book::soft_delete(&transaction, id).await?;
        store::events::append(&transaction, BookChange::Deleted(id)).await?;
        transaction.commit().await.classify("book")?;
        self.changed.notify_one();
        Ok(())
    }
}
