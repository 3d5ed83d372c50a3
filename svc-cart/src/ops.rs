//! svc-cart's operations: who may touch which cart, the catalog check on adds, and the
//! store calls. [`Carts`] is the handle the adapter calls.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use platform::ServiceName;
use platform::auth::Principal;
use platform::client::MeshChannel;
use proto::cart::v1 as pb;
use proto::catalog::v1::GetBookRequest;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use proto::types::BookId;

use crate::domain::CartOwner;
use crate::error::{CartError, CartRefusal, CartResult};
use crate::known_books::KnownBooks;
use crate::store::{CartStore, StoredCart};

/// The logic handle of svc-cart.
#[derive(Debug, Clone)]
pub struct Carts {
    store: CartStore,
    /// Checks that a book exists before it goes into a cart.
    catalog: MeshChannel,
    known_books: Arc<KnownBooks>,
}

/// How many confirmed books a replica remembers, and for how long.
const KNOWN_BOOKS: NonZeroUsize = NonZeroUsize::new(100_000).expect("non-zero");
const KNOWN_BOOK_TTL: Duration = Duration::from_secs(60);

/// Decides whether `principal` may touch `owner`'s cart. Someone else's cart reads as absent
/// (NOT_FOUND), as anywhere in the mesh.
///
/// # Errors
/// `NotFound` when the caller may not.
pub fn authorize(principal: &Principal, owner: &CartOwner) -> CartResult<()> {
    let allowed = match (principal, owner) {
        (Principal::User { id, .. }, CartOwner::User(owner_id)) => id == owner_id || principal.is_admin(),
        (Principal::Service { .. }, _) if principal.is_service(ServiceName::Bff) => true,
        (Principal::Service { .. }, CartOwner::User(_)) => principal.is_service(ServiceName::Order),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(CartError::NotFound { entity: "cart" })
    }
}

impl Carts {
    /// Creates the handle.
    pub fn new(store: CartStore, catalog: MeshChannel) -> Self {
        Self {
            store,
            catalog,
            known_books: Arc::new(KnownBooks::new(KNOWN_BOOKS, KNOWN_BOOK_TTL)),
        }
    }

    /// Returns a cart (empty when absent).
    ///
    /// # Errors
    /// `Unavailable` when Redis does not answer.
    pub async fn get(&self, owner: &CartOwner) -> CartResult<pb::Cart> {
        Ok(to_wire(owner, self.store.get(owner).await?))
    }

    /// Adds copies of a book that exists in the catalog.
    ///
    /// # Errors
    /// `NotFound` for an unknown or deleted book; `InvalidArgument` past a limit.
    #[tracing::instrument(name = "cart.add_item", skip_all, fields(book_id = %book))]
    pub async fn add(&self, owner: &CartOwner, book: BookId, quantity: i64) -> CartResult<pb::Cart> {
        self.ensure_book_exists(book).await?;
        Ok(to_wire(
            owner,
            self.store.add(owner, book.as_uuid(), quantity).await?,
        ))
    }

    /// Sets a line's quantity exactly; 0 removes it.
    ///
    /// # Errors
    /// `NotFound` for an unknown book (when adding); `InvalidArgument` past a limit.
    #[tracing::instrument(name = "cart.set_quantity", skip_all, fields(book_id = %book, quantity))]
    pub async fn set(&self, owner: &CartOwner, book: BookId, quantity: i64) -> CartResult<pb::Cart> {
        if quantity > 0 {
            self.ensure_book_exists(book).await?;
        }
        Ok(to_wire(
            owner,
            self.store.set(owner, book.as_uuid(), quantity).await?,
        ))
    }

    /// Empties a cart.
    ///
    /// # Errors
    /// `Unavailable` when Redis does not answer.
    pub async fn clear(&self, owner: &CartOwner) -> CartResult<pb::Cart> {
        self.store.clear(owner).await?;
        Ok(to_wire(owner, StoredCart::default()))
    }

    /// Moves a guest cart into a user's; safe to retry.
    ///
    /// # Errors
    /// `Unavailable` when Redis does not answer.
    #[tracing::instrument(name = "cart.merge_carts", skip_all)]
    pub async fn merge(&self, guest: &CartOwner, user: &CartOwner) -> CartResult<pb::Cart> {
        Ok(to_wire(user, self.store.merge(guest, user).await?))
    }

    async fn ensure_book_exists(&self, book: BookId) -> CartResult<()> {
        if self.known_books.contains(book.as_uuid()) {
            return Ok(());
        }
        let request = GetBookRequest {
            book_id: book.to_string(),
        };
        let lookup = platform::client::retry_idempotent(platform::client::RetryPolicy::default(), || {
            let mut catalog = CatalogServiceClient::new(self.catalog.clone());
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

fn to_wire(owner: &CartOwner, cart: StoredCart) -> pb::Cart {
    pb::Cart {
        owner: Some(owner.to_wire()),
        lines: cart
            .lines
            .into_iter()
            .map(|(book, quantity)| pb::CartLine {
                book_id: book.to_string(),
                quantity: i32::try_from(quantity).unwrap_or(i32::MAX),
            })
            .collect(),
        updated_at: cart.updated_at_ms.map(|ms| prost_types::Timestamp {
            seconds: ms.div_euclid(1000),
            nanos: i32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or_default(),
        }),
    }
}
