//! `GetBook`, `BatchGetBooks`, `GetBookByIsbn`, `ListTopics`.

use std::collections::HashMap;

use proto::catalog::v1 as pb;
use proto::types::{BookId, InvalidField};

use super::{Catalog, to_wire};
use crate::domain::Isbn13;
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
    pub async fn get_book(&self, id: BookId) -> CatalogResult<pb::Book> {
        Ok(to_wire(&store::book::get_live(&self.db, id.as_uuid()).await?))
    }

    /// Returns the live books among `ids`, in request order (duplicates answered once each
    /// time they are asked), and the ids that have none.
    ///
    /// # Errors
    /// `InvalidArgument` beyond [`MAX_BATCH`] ids.
    #[tracing::instrument(name = "catalog.batch_get_books", skip_all, fields(count = ids.len()))]
    pub async fn batch_get(&self, ids: &[BookId]) -> CatalogResult<(Vec<pb::Book>, Vec<String>)> {
        if ids.len() > MAX_BATCH {
            return Err(InvalidField::new("book_ids", "at most 500 ids per call").into());
        }
        let uuids: Vec<uuid::Uuid> = ids.iter().map(BookId::as_uuid).collect();
        let mut by_id = HashMap::new();
        for book in store::book::find_live(&self.db, &uuids).await? {
            by_id.insert(book.id, book);
        }
        let mut books = Vec::new();
        let mut missing = Vec::new();
        for id in ids {
            match by_id.get(&id.as_uuid()) {
                Some(book) => books.push(to_wire(book)),
                None => missing.push(id.to_string()),
            }
        }
        Ok((books, missing))
    }

    /// Returns the live book with this ISBN (10 or 13, hyphens allowed).
    ///
    /// # Errors
    /// `InvalidArgument` for a malformed ISBN; `NotFound` when no live book has it.
    #[tracing::instrument(name = "catalog.get_book_by_isbn", skip_all)]
    pub async fn get_by_isbn(&self, raw: &str) -> CatalogResult<pb::Book> {
        let isbn = Isbn13::parse("isbn", raw)?;
        let book = store::book::find_by_isbn(&self.db, isbn.as_ref()).await?;
        book.map(|book| to_wire(&book))
            .ok_or(CatalogError::NotFound { entity: "book" })
    }

    /// Returns every topic with its number of live books.
    ///
    /// # Errors
    /// Internal on a database failure.
    #[tracing::instrument(name = "catalog.list_topics", skip_all)]
    pub async fn list_topics(&self) -> CatalogResult<Vec<pb::TopicCount>> {
        let counts = store::book::topic_counts(&self.db).await?;
        Ok(counts
            .into_iter()
            .map(|(name, book_count)| pb::TopicCount { name, book_count })
            .collect())
    }
}
