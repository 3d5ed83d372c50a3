//! `CreateBook`, `UpdateBook`, `DeleteBook` (admins only, by policy).

use platform::store::Classify as _;
use proto::catalog::v1 as pb;
use proto::types::BookId;
use sea_orm::TransactionTrait as _;

use super::{Catalog, to_wire};
use crate::domain::BookDraft;
use crate::error::CatalogResult;
use crate::store;

impl Catalog {
    /// Adds a book.
    ///
    /// # Errors
    /// `AlreadyExists` when its ISBN is taken.
    #[tracing::instrument(name = "catalog.create_book", skip_all, fields(isbn = %draft.isbn))]
    pub async fn create_book(&self, draft: BookDraft) -> CatalogResult<pb::Book> {
        let transaction = self.db.begin().await.classify("book")?;
        let created = store::book::insert_many(&transaction, std::slice::from_ref(&draft)).await?;
        transaction.commit().await.classify("book")?;
        let book = created.first().map(to_wire).unwrap_or_default();
        tracing::info!(book_id = %book.id, "book created");
        Ok(book)
    }

    /// Replaces every field of a live book.
    ///
    /// # Errors
    /// `NotFound` for an unknown or deleted book; `AlreadyExists` for a taken ISBN.
    #[tracing::instrument(name = "catalog.update_book", skip_all, fields(book_id = %id))]
    pub async fn update_book(&self, id: BookId, draft: BookDraft) -> CatalogResult<pb::Book> {
        let transaction = self.db.begin().await.classify("book")?;
        let updated = store::book::update(&transaction, id.as_uuid(), &draft).await?;
        transaction.commit().await.classify("book")?;
        Ok(to_wire(&updated))
    }

    /// Soft-deletes a book: gone from reads and search, kept for order history. Idempotent.
    ///
    /// # Errors
    /// `NotFound` for a book that never existed.
    #[tracing::instrument(name = "catalog.delete_book", skip_all, fields(book_id = %id))]
    pub async fn delete_book(&self, id: BookId) -> CatalogResult<()> {
        let transaction = self.db.begin().await.classify("book")?;
        store::book::soft_delete(&transaction, id.as_uuid()).await?;
        transaction.commit().await.classify("book")?;
        Ok(())
    }
}
