//! `GetBook`, `BatchGetBooks`, `GetBookByIsbn`, `ListTopics`.

use std::collections::HashMap;

use proto::types::{BookId, InvalidField};

use super::Catalog;
use crate::domain::Isbn13;
use crate::domain::book::{Book, TopicCount};
use crate::error::{CatalogError, CatalogResult};
use crate::store;

/// Most ids one `BatchGetBooks` may ask for.
pub const MAX_BATCH: usize = 500;

impl Catalog {
    /// Returns a live book.
    ///
    /// # Errors
    /// `NotFound` for an unknown or deleted book.
    #[tracing::instrument(name = "catalog.get_book", skip_all, fields(book_id = %id))]
    pub async fn get_book(&self, id: BookId) -> CatalogResult<Book> {
        store::book::get_live(&self.db, id).await
    }

    /// Returns the live books among `ids`, in request order (duplicates answered once each
    /// time they are asked), and the ids that have none.
    ///
    /// # Errors
    /// `InvalidArgument` beyond [`MAX_BATCH`] ids.
    #[tracing::instrument(name = "catalog.batch_get_books", skip_all, fields(count = ids.len()))]
    pub async fn batch_get(&self, ids: &[BookId]) -> CatalogResult<(Vec<Book>, Vec<BookId>)> {
        if ids.len() > MAX_BATCH {
            return Err(InvalidField::new("book_ids", "at most 500 ids per call").into());
        }
        let mut by_id = HashMap::new();
        for book in store::book::find_live(&self.db, ids).await? {
            by_id.insert(book.id, book);
        }
        let mut books = Vec::new();
        let mut missing = Vec::new();
        for id in ids {
            match by_id.get(id) {
                Some(book) => books.push(book.clone()),
                None => missing.push(*id),
            }
        }
        Ok((books, missing))
    }

    /// Returns the live book with this ISBN (10 or 13, hyphens allowed).
    ///
    /// # Errors
    /// `InvalidArgument` for a malformed ISBN; `NotFound` when no live book has it.
    #[tracing::instrument(name = "catalog.get_book_by_isbn", skip_all)]
    pub async fn get_by_isbn(&self, raw: &str) -> CatalogResult<Book> {
        let isbn = Isbn13::parse("isbn", raw)?;
        store::book::find_by_isbn(&self.db, isbn.as_ref())
            .await?
            .ok_or(CatalogError::NotFound { entity: "book" })
    }

    /// Returns every topic with its number of live books.
    ///
    /// # Errors
    /// Internal on a database failure.
    #[tracing::instrument(name = "catalog.list_topics", skip_all)]
    pub async fn list_topics(&self) -> CatalogResult<Vec<TopicCount>> {
        store::book::topic_counts(&self.db).await
    }
}
