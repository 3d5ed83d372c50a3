//! The one call svc-inventory makes: asking the catalog which books it sells, so stock is
//! only ever set for a book that exists and a deleted book's stock is never reserved. The
//! only place besides `grpc.rs` that builds protobuf messages.
//!
//! A synchronous check, not the catalog's events: catalog publishes no book events, and a
//! check at the moment of the write cannot be overtaken by a late event. SetStock and Restock
//! always ask; Reserve, the hot path of every checkout, takes a book the catalog confirmed
//! within the last [`RESERVE_CONFIRMATION_TTL`] as existing, so a checkout rush on one book
//! costs one catalog call per replica every two seconds, not one per order (a book deleted
//! that recently can still be held, as it could be by an order that priced it a moment
//! before its deletion).

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use platform::client::{MeshChannel, RetryPolicy, retry_idempotent};
use platform::known_ids::KnownIds;
use proto::catalog::v1::BatchGetBooksRequest;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use proto::types::BookId;

use crate::error::{InventoryError, InventoryRefusal, InventoryResult};

/// How long Reserve takes a confirmed book as existing.
pub const RESERVE_CONFIRMATION_TTL: Duration = Duration::from_secs(2);
/// How many confirmed books a replica remembers.
const CONFIRMED_BOOKS: NonZeroUsize = NonZeroUsize::new(100_000).expect("non-zero");

/// The catalog, as svc-inventory asks it.
#[derive(Debug, Clone)]
pub struct Catalog {
    channel: MeshChannel,
    confirmed: Arc<KnownIds>,
}

impl Catalog {
    /// Creates the client over a channel to the catalog.
    pub fn new(channel: MeshChannel) -> Self {
        Self {
            channel,
            confirmed: Arc::new(KnownIds::new(CONFIRMED_BOOKS, RESERVE_CONFIRMATION_TTL)),
        }
    }

    /// [`Catalog::missing`] for Reserve: books confirmed within
    /// [`RESERVE_CONFIRMATION_TTL`] are not asked about again.
    ///
    /// # Errors
    /// What [`Catalog::missing`] fails with.
    pub async fn missing_for_reserve(&self, books: &[BookId]) -> InventoryResult<Vec<BookId>> {
        let mut unconfirmed = Vec::new();
        for book in books {
            if !self.confirmed.contains(book.as_uuid()) {
                unconfirmed.push(*book);
            }
        }
        if unconfirmed.is_empty() {
            return Ok(Vec::new());
        }
        let missing = self.missing(&unconfirmed).await?;
        for book in &unconfirmed {
            if !missing.contains(book) {
                self.confirmed.insert(book.as_uuid());
            }
        }
        Ok(missing)
    }

    /// Returns the books of `books` the catalog does not sell (unknown or deleted).
    ///
    /// # Errors
    /// `Unavailable` when the catalog does not answer; `Internal` when it answers with an
    /// id that does not parse.
    pub async fn missing(&self, books: &[BookId]) -> InventoryResult<Vec<BookId>> {
        let request = BatchGetBooksRequest {
            book_ids: books.iter().map(BookId::to_string).collect(),
        };
        let answer = retry_idempotent(self.channel.budget(), RetryPolicy::default(), || {
            let mut catalog = CatalogServiceClient::new(self.channel.clone());
            let request = request.clone();
            async move { catalog.batch_get_books(request).await }
        })
        .await;
        let missing_ids = match answer {
            Ok(response) => response.into_inner().missing_ids,
            Err(status) => {
                tracing::warn!(code = ?status.code(), "catalog lookup failed");
                return Err(InventoryError::from(InventoryRefusal::Unavailable(
                    "the catalog is unavailable, retry shortly",
                )));
            }
        };
        let mut missing = Vec::new();
        for id in missing_ids {
            let book = BookId::parse("missing_ids", &id).map_err(|error| {
                InventoryError::Internal(anyhow::anyhow!("catalog sent a bad answer: {error}"))
            })?;
            missing.push(book);
        }
        Ok(missing)
    }

    /// Succeeds when the catalog sells `book`.
    ///
    /// # Errors
    /// `NotFound` (entity `book`) when it does not; what [`Catalog::missing`] fails with.
    pub async fn ensure_exists(&self, book: BookId) -> InventoryResult<()> {
        if self.missing(&[book]).await?.is_empty() {
            Ok(())
        } else {
            Err(InventoryError::NotFound { entity: "book" })
        }
    }
}
