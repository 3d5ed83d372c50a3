//! The tonic adapter: parse the owner, check the caller may touch that cart, call [`Carts`].

use platform::auth::Principal;
use proto::cart::v1 as pb;
use proto::cart::v1::cart_service_server::CartService;
use tonic::{Request, Response, Status};

use crate::domain::{CartOwner, parse_book, parse_quantity, parse_session};
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

/// Parses the owner and checks the caller may touch it.
fn owner<T>(request: &Request<T>, wire: Option<&pb::CartOwner>) -> Result<CartOwner, CartError> {
    let owner = CartOwner::parse(wire)?;
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
            cart: Some(self.carts.get(&owner).await?),
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
            cart: Some(self.carts.add(&owner, book, quantity).await?),
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
            cart: Some(self.carts.set(&owner, book, quantity).await?),
        }))
    }

    async fn remove_item(
        &self,
        request: Request<pb::RemoveItemRequest>,
    ) -> Result<Response<pb::RemoveItemResponse>, Status> {
        let owner = owner(&request, request.get_ref().owner.as_ref())?;
        let book = parse_book(&request.get_ref().book_id).map_err(CartError::from)?;
        Ok(Response::new(pb::RemoveItemResponse {
            cart: Some(self.carts.set(&owner, book, 0).await?),
        }))
    }

    async fn clear_cart(
        &self,
        request: Request<pb::ClearCartRequest>,
    ) -> Result<Response<pb::ClearCartResponse>, Status> {
        let owner = owner(&request, request.get_ref().owner.as_ref())?;
        Ok(Response::new(pb::ClearCartResponse {
            cart: Some(self.carts.clear(&owner).await?),
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
            cart: Some(self.carts.merge(&guest, &user).await?),
        }))
    }
}
