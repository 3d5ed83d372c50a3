//! Who is asking, per request: the user's access token (bearer header or cookie) and what
//! it verified to, the guest cart session, the client's address and the request's deadline.
//! Every upstream call is built here, so each carries the user's token when there is one
//! and the remaining budget of the request as its gRPC deadline.

use async_graphql::{Context, Error};
use platform::auth::{Principal, Role};
use proto::types::UserId;
use tokio::time::Instant;

use super::errors;

/// A signed-in user, as their token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedIn {
    pub id: UserId,
    pub admin: bool,
}

/// A presented access token and the user it verified to (`None`: refused). The rate
/// limiter verifies it once and hands it on in the request's extensions.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub token: String,
    pub user: Option<SignedIn>,
}

impl VerifiedToken {
    /// Verifies `token` (an end user's; service tokens are refused here).
    pub fn verify(verifier: &platform::auth::Verifier, token: String) -> Self {
        let user = match verifier.verify(&token) {
            Ok(Principal::User { id, role, .. }) => Some(SignedIn {
                id,
                admin: role == Role::Admin,
            }),
            Ok(_) | Err(_) => None,
        };
        VerifiedToken { token, user }
    }
}

/// The caller of one GraphQL request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user's access token, forwarded to services.
    pub token: Option<String>,
    pub user: Option<SignedIn>,
    /// A token was presented but did not verify (expired, forged): the storefront should
    /// refresh, so operations that need a user say UNAUTHENTICATED.
    pub token_rejected: bool,
    /// The token came from the session cookie (CSRF rules apply).
    pub via_cookie: bool,
    /// The guest cart's session id (cookie or `x-cart-session`).
    pub cart_session: Option<String>,
    pub client_address: Option<String>,
    pub deadline: Instant,
    /// When set, every upstream call is counted by request type and the counts are reported
    /// in the response's `extensions.upstreamCalls` (tests prove batching with it).
    pub calls: Option<UpstreamCalls>,
}

/// Upstream calls of one request, by request message (`BatchGetStockRequest`: 1).
pub type UpstreamCalls = std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, u32>>>;

impl Caller {
    /// A caller from the token it presented (already verified), if any.
    pub fn new(
        token: Option<VerifiedToken>,
        via_cookie: bool,
        cart_session: Option<String>,
        client_address: Option<String>,
        deadline: Instant,
    ) -> Self {
        let (token, user, token_rejected) = match token {
            Some(VerifiedToken {
                token,
                user: Some(user),
            }) => (Some(token), Some(user), false),
            Some(VerifiedToken { user: None, .. }) => (None, None, true),
            None => (None, None, false),
        };
        Caller {
            token,
            user,
            token_rejected,
            via_cookie,
            cart_session,
            client_address,
            deadline,
            calls: None,
        }
    }

    /// Reads the caller from the GraphQL context (the HTTP layer always puts one there).
    ///
    /// # Errors
    /// INTERNAL when it is missing.
    pub fn of<'a>(context: &'a Context<'_>) -> Result<&'a Caller, Error> {
        context
            .data::<Caller>()
            .map_err(|_| errors::error("INTERNAL", "request context missing"))
    }

    /// The signed-in user, or UNAUTHENTICATED.
    ///
    /// # Errors
    /// When no valid token came with the request.
    pub fn user(&self) -> Result<SignedIn, Error> {
        self.user.ok_or_else(errors::unauthenticated)
    }

    /// An admin, or FORBIDDEN (UNAUTHENTICATED when anonymous).
    ///
    /// # Errors
    /// When the caller is not an admin.
    pub fn admin(&self) -> Result<SignedIn, Error> {
        let user = self.user()?;
        if user.admin {
            Ok(user)
        } else {
            Err(errors::error("FORBIDDEN", "only an admin may do this"))
        }
    }

    fn remaining(&self) -> std::time::Duration {
        self.deadline
            .saturating_duration_since(Instant::now())
            .max(std::time::Duration::from_millis(1))
    }

    /// A request carrying the user's token (when signed in) and the remaining deadline.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = self.service_request(message);
        if let Some(token) = &self.token
            && let Ok(value) = format!("Bearer {token}").parse()
        {
            request.metadata_mut().insert("authorization", value);
        }
        request
    }

    /// A request the BFF makes in its own name (its service token), with the deadline:
    /// guest carts, public catalog reads, login.
    pub fn service_request<T>(&self, message: T) -> tonic::Request<T> {
        if let Some(calls) = &self.calls
            && let Ok(mut calls) = calls.lock()
        {
            let name = std::any::type_name::<T>().rsplit("::").next().unwrap_or_default();
            *calls.entry(name.to_owned()).or_default() += 1;
        }
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.remaining());
        request
    }
}
