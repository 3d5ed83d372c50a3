//! svc-cart's operations: who may touch which cart, the catalog check on adds, and the
//! store calls, in domain types. [`Carts`] is the handle the adapter calls.

use platform::ServiceName;
use platform::auth::Principal;
use proto::types::BookId;

use crate::domain::{Cart, CartOwner};
use crate::error::{CartError, CartResult};
use crate::store::CartStore;
use crate::upstream::Catalog;

/// The logic handle of svc-cart.
#[derive(Debug, Clone)]
pub struct Carts {
    store: CartStore,
    /// Checks that a book exists before it goes into a cart.
    catalog: Catalog,
}

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
    pub fn new(store: CartStore, catalog: Catalog) -> Self {
        Self { store, catalog }
    }

    /// Returns a cart (empty when absent).
    ///
    /// # Errors
    /// `Unavailable` when Redis does not answer.
    pub async fn get(&self, owner: &CartOwner) -> CartResult<Cart> {
        self.store.get(owner).await
    }

    /// Adds copies of a book that exists in the catalog.
    ///
    /// # Errors
    /// `NotFound` for an unknown or deleted book; `InvalidArgument` past a limit.
    #[tracing::instrument(name = "cart.add_item", skip_all, fields(book_id = %book))]
    pub async fn add(&self, owner: &CartOwner, book: BookId, quantity: i64) -> CartResult<Cart> {
        self.catalog.ensure_exists(book).await?;
        self.store.add(owner, book, quantity).await
    }

    /// Sets a line's quantity exactly; 0 removes it.
    ///
    /// # Errors
    /// `NotFound` for an unknown book (when adding); `InvalidArgument` past a limit.
    #[tracing::instrument(name = "cart.set_quantity", skip_all, fields(book_id = %book, quantity))]
    pub async fn set(&self, owner: &CartOwner, book: BookId, quantity: i64) -> CartResult<Cart> {
        if quantity > 0 {
            self.catalog.ensure_exists(book).await?;
        }
        self.store.set(owner, book, quantity).await
    }

    /// Empties a cart.
    ///
    /// # Errors
    /// `Unavailable` when Redis does not answer.
    pub async fn clear(&self, owner: &CartOwner) -> CartResult<Cart> {
        self.store.clear(owner).await?;
        Ok(Cart::default())
    }

    /// Moves a guest cart into a user's; safe to retry.
    ///
    /// # Errors
    /// `Unavailable` when Redis does not answer.
    #[tracing::instrument(name = "cart.merge_carts", skip_all)]
    pub async fn merge(&self, guest: &CartOwner, user: &CartOwner) -> CartResult<Cart> {
        self.store.merge(guest, user).await
    }
}
