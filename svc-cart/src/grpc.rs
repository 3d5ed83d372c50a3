//! The tonic adapter: parse the owner, check the caller may touch that cart, call [`Carts`],
//! convert the cart back. The only place that reads or builds this service's messages.

use platform::auth::Principal;
use proto::cart::v1 as pb;
use proto::cart::v1::cart_service_server::CartService;
use proto::types::{InvalidField, UserId};
use tonic::{Request, Response, Status};

use crate::domain::{Cart, CartOwner, parse_book, parse_quantity, parse_session};
use crate::error::CartError;
use crate::ops::{Carts, authorize};

/// `CartService` over [`Carts`].
#[derive(Debug, Clone)]
pub struct CartGrpc {
    carts: Carts,
}

impl CartGrpc {
    /// Wraps the logic handle.
    pub fn new(carts: Carts) -> Self {
        Self { carts }
    }
}

/// Parses the wire owner.
///
/// # Errors
/// Returns [`InvalidField`] naming `owner`, `owner.user_id` or `owner.guest_session_id`.
pub fn owner_from_wire(wire: Option<&pb::CartOwner>) -> Result<CartOwner, InvalidField> {
    match wire.and_then(|owner| owner.owner.as_ref()) {
        Some(pb::cart_owner::Owner::UserId(raw)) => Ok(CartOwner::User(UserId::parse("owner.user_id", raw)?)),
        Some(pb::cart_owner::Owner::GuestSessionId(raw)) => {
            Ok(CartOwner::Guest(parse_session("owner.guest_session_id", raw)?))
        }
        None => Err(InvalidField::new("owner", "name a user_id or a guest_session_id")),
    }
}

fn owner_to_wire(owner: &CartOwner) -> pb::CartOwner {
    let owner = match owner {
        CartOwner::User(id) => pb::cart_owner::Owner::UserId(id.to_string()),
        CartOwner::Guest(session) => pb::cart_owner::Owner::GuestSessionId(session.clone()),
    };
    pb::CartOwner { owner: Some(owner) }
}

/// The wire form of `owner`'s cart (also the bare baseline of the cart benchmark).
pub fn cart_to_wire(owner: &CartOwner, cart: Cart) -> Option<pb::Cart> {
    Some(pb::Cart {
        owner: Some(owner_to_wire(owner)),
        lines: cart
            .lines
            .into_iter()
            .map(|(book, quantity)| pb::CartLine {
                book_id: book.to_string(),
                // The store caps a line at 99 copies.
                quantity: i32::try_from(quantity).unwrap_or(i32::MAX),
            })
            .collect(),
        updated_at: cart.updated_at_ms.map(proto::types::timestamp_millis),
    })
}

/// Parses the owner and checks the caller may touch it.
fn owner<T>(request: &Request<T>, wire: Option<&pb::CartOwner>) -> Result<CartOwner, CartError> {
    let owner = owner_from_wire(wire)?;
    let principal = Principal::of(request);
    authorize(&principal, &owner)?;
    Ok(owner)
}

#[tonic::async_trait]
impl CartService for CartGrpc {
    async fn get_cart(
        &self,
        request: Request<pb::GetCartRequest>,
    ) -> Result<Response<pb::GetCartResponse>, Status> {
        let owner = owner(&request, request.get_ref().owner.as_ref())?;
        Ok(Response::new(pb::GetCartResponse {
            cart: cart_to_wire(&owner, self.carts.get(&owner).await?),
        }))
    }

    async fn add_item(
        &self,
        request: Request<pb::AddItemRequest>,
    ) -> Result<Response<pb::AddItemResponse>, Status> {
        let owner = owner(&request, request.get_ref().owner.as_ref())?;
        let book = parse_book(&request.get_ref().book_id).map_err(CartError::from)?;
        let quantity = parse_quantity(request.get_ref().quantity, false).map_err(CartError::from)?;
        Ok(Response::new(pb::AddItemResponse {
            cart: cart_to_wire(&owner, self.carts.add(&owner, book, quantity).await?),
        }))
    }

    async fn set_quantity(
        &self,
        request: Request<pb::SetQuantityRequest>,
    ) -> Result<Response<pb::SetQuantityResponse>, Status> {
        let owner = owner(&request, request.get_ref().owner.as_ref())?;
        let book = parse_book(&request.get_ref().book_id).map_err(CartError::from)?;
        let quantity = parse_quantity(request.get_ref().quantity, true).map_err(CartError::from)?;
        Ok(Response::new(pb::SetQuantityResponse {
            cart: cart_to_wire(&owner, self.carts.set(&owner, book, quantity).await?),
        }))
    }

    async fn remove_item(
        &self,
        request: Request<pb::RemoveItemRequest>,
    ) -> Result<Response<pb::RemoveItemResponse>, Status> {
        let owner = owner(&request, request.get_ref().owner.as_ref())?;
        let book = parse_book(&request.get_ref().book_id).map_err(CartError::from)?;
        Ok(Response::new(pb::RemoveItemResponse {
            cart: cart_to_wire(&owner, self.carts.set(&owner, book, 0).await?),
        }))
    }

    async fn clear_cart(
        &self,
        request: Request<pb::ClearCartRequest>,
    ) -> Result<Response<pb::ClearCartResponse>, Status> {
        let owner = owner(&request, request.get_ref().owner.as_ref())?;
        Ok(Response::new(pb::ClearCartResponse {
            cart: cart_to_wire(&owner, self.carts.clear(&owner).await?),
        }))
    }

    async fn merge_carts(
        &self,
        request: Request<pb::MergeCartsRequest>,
    ) -> Result<Response<pb::MergeCartsResponse>, Status> {
        let guest = CartOwner::Guest(
            parse_session("guest_session_id", &request.get_ref().guest_session_id)
                .map_err(CartError::from)?,
        );
        let user_wire = pb::CartOwner {
            owner: Some(pb::cart_owner::Owner::UserId(request.get_ref().user_id.clone())),
        };
        let user = owner(&request, Some(&user_wire))?;
        Ok(Response::new(pb::MergeCartsResponse {
            cart: cart_to_wire(&user, self.carts.merge(&guest, &user).await?),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_checked_and_name_the_field() {
        let guest = pb::CartOwner {
            owner: Some(pb::cart_owner::Owner::GuestSessionId(
                "guest-session-0123456789".to_owned(),
            )),
        };
        let owner = owner_from_wire(Some(&guest)).unwrap();
        assert_eq!(owner.key_tag(), "{g:guest-session-0123456789}");
        assert_eq!(owner_to_wire(&owner), guest);
        assert_eq!(owner_from_wire(None).unwrap_err().field, "owner");
    }
}
