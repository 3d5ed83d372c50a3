//! A rate limit per client: per user when the request carries a valid token, per client
//! address otherwise (behind a trusted proxy, the address it forwarded: `client_address.rs`). The defaults are far above what one storefront tab sends, and a checkout rush
//! of many distinct users is many keys, each with its own budget.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::client_address::ClientAddress;
use crate::graphql::caller::VerifiedToken;
use crate::graphql::session::presented_token;

/// Requests a second and burst, per signed-in user and per anonymous address.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub per_user_per_second: u32,
    pub per_address_per_second: u32,
    /// How many requests above the rate a client may send at once.
    pub burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_user_per_second: 50,
            per_address_per_second: 200,
            burst: 200,
        }
    }
}

/// The limiter state shared by every request.
#[derive(Clone)]
pub struct Limiter {
    users: Arc<DefaultKeyedRateLimiter<String>>,
    addresses: Arc<DefaultKeyedRateLimiter<String>>,
    verifier: platform::auth::Verifier,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Limiter").finish_non_exhaustive()
    }
}

fn quota(per_second: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(per_second).max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

impl Limiter {
    /// Builds the limiter; `verifier` tells signed-in users from forged tokens.
    pub fn new(limits: RateLimits, verifier: platform::auth::Verifier) -> Self {
        Limiter {
            users: Arc::new(governor::RateLimiter::keyed(quota(
                limits.per_user_per_second,
                limits.burst,
            ))),
            addresses: Arc::new(governor::RateLimiter::keyed(quota(
                limits.per_address_per_second,
                limits.burst,
            ))),
            verifier,
        }
    }

    /// Forgets idle clients, so the key tables stay bounded.
    pub fn forget_idle(&self) {
        self.users.retain_recent();
        self.addresses.retain_recent();
    }
}

/// The middleware: 429 with `Retry-After` past the budget.
pub async fn limit(
    State(limiter): State<Limiter>,
    Extension(ClientAddress(client)): Extension<ClientAddress>,
    mut request: Request,
    next: Next,
) -> Response {
    let verified =
        presented_token(request.headers()).map(|(token, _)| VerifiedToken::verify(&limiter.verifier, token));
    let by_user = verified.as_ref().and_then(|checked| checked.user);
    let verdict = match by_user {
        Some(user) => limiter.users.check_key(&user.id.to_string()),
        None => limiter.addresses.check_key(&client.to_string()),
    };
    match verdict {
        Ok(()) => {
            // The GraphQL handlers reuse this check rather than verifying again.
            if let Some(checked) = verified {
                request.extensions_mut().insert(checked);
            }
            next.run(request).await
        }
        Err(not_until) => {
            crate::metrics::rate_limited(by_user.is_some());
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs().max(1).to_string();
            let body = serde_json::json!({ "errors": [{
                "message": "too many requests, slow down",
                "extensions": { "code": "UNAVAILABLE" }
            }]});
            let mut response = (StatusCode::TOO_MANY_REQUESTS, body.to_string()).into_response();
            if let Ok(value) = HeaderValue::from_str(&seconds) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
    }
}
