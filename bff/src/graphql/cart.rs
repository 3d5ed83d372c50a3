//! Cart mutations and the cart's owner: a signed-in user's cart (their token), or a guest
//! cart keyed by the `cart_session` cookie or `x-cart-session` header (the BFF vouches for
//! it with its own token). A guest's first write mints a session and sets the cookie.

use async_graphql::{Context, ID, Object, Result};
use base64::Engine as _;
use proto::cart::v1 as pb;

use super::caller::Caller;
use super::errors::from_status;
use super::session::{CART_SESSION_COOKIE, CART_SESSION_HEADER, cookie};
use super::types::Cart;
use super::upstreams;

/// Whose cart, and in whose name the call is made.
#[derive(Debug)]
pub struct CartTarget {
    pub owner: pb::CartOwner,
    as_user: bool,
}

impl CartTarget {
    /// Builds the request with the user's token, or the BFF's for a guest cart.
    pub fn request<T>(&self, caller: &Caller, message: T) -> tonic::Request<T> {
        if self.as_user {
            caller.request(message)
        } else {
            caller.service_request(message)
        }
    }
}

/// The caller's cart; `None` for a guest without a session when `create` is false.
///
/// # Errors
/// UNAUTHENTICATED when a token was presented and refused.
pub fn cart_owner(caller: &Caller, create: bool) -> Result<Option<CartTarget>> {
    super::query::reject_bad_token(caller)?;
    if let Some(user) = caller.user {
        return Ok(Some(CartTarget {
            owner: pb::CartOwner {
                owner: Some(pb::cart_owner::Owner::UserId(user.id.to_string())),
            },
            as_user: true,
        }));
    }
    let session = match (&caller.cart_session, create) {
        (Some(session), _) => session.clone(),
        (None, false) => return Ok(None),
        (None, true) => new_session(),
    };
    Ok(Some(CartTarget {
        owner: pb::CartOwner {
            owner: Some(pb::cart_owner::Owner::GuestSessionId(session)),
        },
        as_user: false,
    }))
}

/// 256 random bits, URL-safe.
fn new_session() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Hands a newly minted guest session to the client: cookie for browsers, header for others.
fn remember_session(context: &Context<'_>, caller: &Caller, target: &CartTarget) {
    if caller.cart_session.is_some() || target.as_user {
        return;
    }
    if let Some(pb::cart_owner::Owner::GuestSessionId(session)) = &target.owner.owner {
        let secure = super::session::secure(context);
        context.append_http_header(
            "set-cookie",
            cookie(CART_SESSION_COOKIE, session, 30 * 24 * 3600, secure),
        );
        context.insert_http_header(CART_SESSION_HEADER, session.clone());
    }
}

#[derive(Debug, Default)]
pub struct CartMutation;

#[Object]
impl CartMutation {
    async fn add_to_cart(
        &self,
        context: &Context<'_>,
        book_id: ID,
        #[graphql(default = 1)] quantity: i32,
    ) -> Result<Cart> {
        let caller = Caller::of(context)?;
        let Some(target) = cart_owner(caller, true)? else {
            return Ok(Cart(Vec::new()));
        };
        let request = target.request(
            caller,
            pb::AddItemRequest {
                owner: Some(target.owner.clone()),
                book_id: book_id.to_string(),
                quantity,
            },
        );
        let cart = upstreams(context)?
            .cart()
            .add_item(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner()
            .cart;
        remember_session(context, caller, &target);
        Ok(Cart::from_wire(cart))
    }

    /// 0 removes the line.
    async fn update_cart_item(&self, context: &Context<'_>, book_id: ID, quantity: i32) -> Result<Cart> {
        let caller = Caller::of(context)?;
        let Some(target) = cart_owner(caller, true)? else {
            return Ok(Cart(Vec::new()));
        };
        let request = target.request(
            caller,
            pb::SetQuantityRequest {
                owner: Some(target.owner.clone()),
                book_id: book_id.to_string(),
                quantity,
            },
        );
        let cart = upstreams(context)?
            .cart()
            .set_quantity(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner()
            .cart;
        remember_session(context, caller, &target);
        Ok(Cart::from_wire(cart))
    }

    async fn remove_from_cart(&self, context: &Context<'_>, book_id: ID) -> Result<Cart> {
        let caller = Caller::of(context)?;
        let Some(target) = cart_owner(caller, false)? else {
            return Ok(Cart(Vec::new()));
        };
        let request = target.request(
            caller,
            pb::RemoveItemRequest {
                owner: Some(target.owner.clone()),
                book_id: book_id.to_string(),
            },
        );
        let cart = upstreams(context)?
            .cart()
            .remove_item(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner()
            .cart;
        Ok(Cart::from_wire(cart))
    }

    async fn clear_cart(&self, context: &Context<'_>) -> Result<Cart> {
        let caller = Caller::of(context)?;
        let Some(target) = cart_owner(caller, false)? else {
            return Ok(Cart(Vec::new()));
        };
        let request = target.request(
            caller,
            pb::ClearCartRequest {
                owner: Some(target.owner.clone()),
            },
        );
        let cart = upstreams(context)?
            .cart()
            .clear_cart(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner()
            .cart;
        Ok(Cart::from_wire(cart))
    }
}

/// Moves the caller's guest cart into `user`'s (login, register); a failure costs only the
/// merge, never the sign-in.
pub async fn merge_guest_cart(context: &Context<'_>, caller: &Caller, user: &str) {
    let Some(session) = &caller.cart_session else {
        return;
    };
    let request = caller.service_request(pb::MergeCartsRequest {
        guest_session_id: session.clone(),
        user_id: user.to_owned(),
    });
    let Ok(upstreams) = upstreams(context) else {
        return;
    };
    match upstreams.cart().merge_carts(request).await {
        Ok(_) => {
            let secure = super::session::secure(context);
            context.append_http_header("set-cookie", cookie(CART_SESSION_COOKIE, "", 0, secure));
        }
        Err(status) => tracing::warn!(%status, "guest cart not merged at sign-in"),
    }
}

/// The cart's part of the `Query` root.
#[derive(Debug, Default)]
pub struct CartQuery;

#[Object]
impl CartQuery {
    /// The caller's cart: the user's, or the guest session's.
    async fn cart(&self, context: &Context<'_>) -> Result<Cart> {
        let caller = Caller::of(context)?;
        let Some(target) = cart_owner(caller, false)? else {
            return Ok(Cart(Vec::new()));
        };
        let request = target.request(
            caller,
            proto::cart::v1::GetCartRequest {
                owner: Some(target.owner.clone()),
            },
        );
        let response = upstreams(context)?
            .cart()
            .get_cart(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        Ok(Cart::from_wire(response.cart))
    }
}
