//! The one call svc-cart makes: asking the catalog whether a book exists before it goes into
//! a cart, remembered for a minute (see [`KnownIds`]). The only place besides `grpc.rs`
//! that builds protobuf messages.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use platform::client::{MeshChannel, RetryPolicy, retry_idempotent};
use proto::catalog::v1::GetBookRequest;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use proto::types::BookId;

use crate::error::{CartError, CartRefusal, CartResult};
use platform::known_ids::KnownIds;

/// How many confirmed books a replica remembers, and for how long.
const KNOWN_BOOKS: NonZeroUsize = NonZeroUsize::new(100_000).expect("non-zero");
const KNOWN_BOOK_TTL: Duration = Duration::from_secs(60);

/// The catalog, as svc-cart asks it.
#[derive(Debug, Clone)]
pub struct Catalog {
    channel: MeshChannel,
    known_books: Arc<KnownIds>,
}

impl Catalog {
    /// Creates the client over a channel to the catalog.
    pub fn new(channel: MeshChannel) -> Self {
        Self {
            channel,
            known_books: Arc::new(KnownIds::new(KNOWN_BOOKS, KNOWN_BOOK_TTL)),
        }
    }

    /// Succeeds when the catalog sells `book`.
    ///
    /// # Errors
    /// `NotFound` for an unknown or deleted book; `Unavailable` when the catalog does not
    /// answer.
    pub async fn ensure_exists(&self, book: BookId) -> CartResult<()> {
        if self.known_books.contains(book.as_uuid()) {
            return Ok(());
        }
        let request = GetBookRequest {
            book_id: book.to_string(),
        };
        let lookup = retry_idempotent(self.channel.budget(), RetryPolicy::default(), || {
            let mut catalog = CatalogServiceClient::new(self.channel.clone());
            let request = request.clone();
            async move { catalog.get_book(request).await }
        })
        .await;
        match lookup {
            Ok(_) => {
                self.known_books.insert(book.as_uuid());
                Ok(())
            }
            Err(status) if status.code() == tonic::Code::NotFound => {
                Err(CartError::NotFound { entity: "book" })
            }
            Err(status) => {
                tracing::warn!(code = ?status.code(), "catalog lookup failed");
                Err(CartError::from(CartRefusal::Unavailable(
                    "the catalog is unavailable, retry shortly",
                )))
            }
        }
    }
}
