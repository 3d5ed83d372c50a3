//! Sign-up, sign-in, token refresh, sign-out and the profile. Signing in merges the guest
//! cart and, for browsers, sets the session cookies.

use async_graphql::{Context, ID, InputObject, Object, Result};
use proto::user::v1 as pb;

use super::caller::Caller;
use super::cart::merge_guest_cart;
use super::errors::from_status;
use super::session::{ACCESS_COOKIE, REFRESH_COOKIE, cookie};
use super::types::{AuthPayload, User};
use super::upstreams;
use crate::graphql::loaders::Loaders;

/// How long the refresh cookie lives in the browser (svc-user decides the token's own life).
const REFRESH_COOKIE_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Clone, InputObject)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(Debug, Clone, InputObject)]
pub struct AddressInput {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub is_default: Option<bool>,
}

impl AddressInput {
    pub fn to_wire(&self) -> proto::common::v1::AddressInput {
        proto::common::v1::AddressInput {
            line1: self.line1.clone(),
            line2: self.line2.clone().unwrap_or_default(),
            city: self.city.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
            is_default: self.is_default.unwrap_or(false),
        }
    }
}

/// The account in svc-user's answer to `operation`.
///
/// # Errors
/// INTERNAL (logged) when the answer has none: never an empty, nameless user.
fn answered_user(user: Option<pb::User>, operation: &str) -> Result<User> {
    match user {
        Some(user) => Ok(User::from_wire(&user)),
        None => Err(super::errors::broken_answer(format_args!(
            "{operation} answered without a user"
        ))),
    }
}

/// Builds the payload and, for browsers, the session cookies.
///
/// # Errors
/// INTERNAL (logged) when svc-user answered without tokens or without the user: no cookie
/// is set from a token that is not there.
fn signed_in(
    context: &Context<'_>,
    tokens: Option<pb::AuthTokens>,
    user: Option<pb::User>,
    operation: &str,
) -> Result<AuthPayload> {
    let Some(tokens) = tokens else {
        return Err(super::errors::broken_answer(format_args!(
            "{operation} answered without tokens"
        )));
    };
    let user = answered_user(user, operation)?;
    let secure = super::session::secure(context);
    context.append_http_header(
        "set-cookie",
        cookie(
            ACCESS_COOKIE,
            &tokens.access_token,
            tokens.expires_in_seconds,
            secure,
        ),
    );
    context.append_http_header(
        "set-cookie",
        cookie(REFRESH_COOKIE, &tokens.refresh_token, REFRESH_COOKIE_SECS, secure),
    );
    Ok(AuthPayload {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_in: i32::try_from(tokens.expires_in_seconds).unwrap_or(i32::MAX),
        user,
    })
}

#[derive(Debug, Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    async fn register(&self, context: &Context<'_>, input: RegisterInput) -> Result<AuthPayload> {
        let caller = Caller::of(context)?;
        let request = caller.service_request(pb::RegisterRequest {
            email: input.email,
            password: input.password,
            name: input.name,
        });
        let response = upstreams(context)?
            .user()
            .register(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        let user_id = response
            .user
            .as_ref()
            .map(|user| user.id.clone())
            .unwrap_or_default();
        merge_guest_cart(context, caller, &user_id).await;
        signed_in(context, response.tokens, response.user, "register")
    }

    async fn login(&self, context: &Context<'_>, email: String, password: String) -> Result<AuthPayload> {
        let caller = Caller::of(context)?;
        let request = caller.service_request(pb::LoginRequest {
            email,
            password,
            client_address: caller.client_address.clone(),
        });
        let response = upstreams(context)?
            .user()
            .login(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        let user_id = response
            .user
            .as_ref()
            .map(|user| user.id.clone())
            .unwrap_or_default();
        merge_guest_cart(context, caller, &user_id).await;
        signed_in(context, response.tokens, response.user, "login")
    }

    /// Rotates the refresh token. Browsers in cookie mode may pass an empty string: the
    /// refresh cookie is used.
    async fn refresh_token(&self, context: &Context<'_>, refresh_token: String) -> Result<AuthPayload> {
        let caller = Caller::of(context)?;
        let presented = if refresh_token.is_empty() {
            context
                .data::<super::RefreshCookie>()
                .map(|cookie| cookie.0.clone())
                .unwrap_or_default()
        } else {
            refresh_token
        };
        let request = caller.service_request(pb::RefreshRequest {
            refresh_token: presented,
        });
        let response = upstreams(context)?
            .user()
            .refresh(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        signed_in(context, response.tokens, response.user, "refreshToken")
    }

    /// Ends this session (its refresh token is revoked) and clears the cookies.
    async fn logout(&self, context: &Context<'_>) -> Result<bool> {
        let caller = Caller::of(context)?;
        caller.user()?;
        let refresh = context
            .data::<super::RefreshCookie>()
            .map(|cookie| cookie.0.clone())
            .unwrap_or_default();
        let request = caller.request(pb::LogoutRequest {
            refresh_token: refresh,
            all_sessions: false,
        });
        upstreams(context)?
            .user()
            .logout(request)
            .await
            .map_err(|status| from_status(&status))?;
        let secure = super::session::secure(context);
        context.append_http_header("set-cookie", cookie(ACCESS_COOKIE, "", 0, secure));
        context.append_http_header("set-cookie", cookie(REFRESH_COOKIE, "", 0, secure));
        Ok(true)
    }

    async fn update_profile(&self, context: &Context<'_>, name: String) -> Result<User> {
        let caller = Caller::of(context)?;
        let user = caller.user()?;
        let request = caller.request(pb::UpdateProfileRequest {
            user_id: user.id.to_string(),
            name: Some(name),
        });
        let response = upstreams(context)?
            .user()
            .update_profile(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        answered_user(response.user, "updateProfile")
    }

    async fn add_address(&self, context: &Context<'_>, input: AddressInput) -> Result<User> {
        let caller = Caller::of(context)?;
        let user = caller.user()?;
        let request = caller.request(pb::AddAddressRequest {
            user_id: user.id.to_string(),
            address: Some(input.to_wire()),
        });
        let response = upstreams(context)?
            .user()
            .add_address(request)
            .await
            .map_err(|status| super::errors::from_status_within(&status, "address"))?
            .into_inner();
        answered_user(response.user, "addAddress")
    }

    async fn remove_address(&self, context: &Context<'_>, id: ID) -> Result<User> {
        let caller = Caller::of(context)?;
        let user = caller.user()?;
        let request = caller.request(pb::RemoveAddressRequest {
            user_id: user.id.to_string(),
            address_id: id.to_string(),
        });
        let response = upstreams(context)?
            .user()
            .remove_address(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        answered_user(response.user, "removeAddress")
    }
}

/// The account's part of the `Query` root.
#[derive(Debug, Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user; null when anonymous.
    async fn me(&self, context: &Context<'_>) -> Result<Option<User>> {
        let caller = Caller::of(context)?;
        if caller.token_rejected {
            return Err(super::errors::unauthenticated());
        }
        let Some(user) = caller.user else {
            return Ok(None);
        };
        let loaders = context.data::<Loaders>()?;
        let profile = loaders
            .users
            .load_one(user.id.to_string())
            .await
            .map_err(|error| error.0)?;
        Ok(profile.as_ref().map(User::from_wire))
    }
}
