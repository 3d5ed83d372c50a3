//! svc-user's operations: one file per RPC group, in domain types. [`Users`] is the
//! cheap-to-clone handle the gRPC adapter calls; it owns the database pool, the throttle, the
//! hasher and the issuer.

pub mod addresses;
pub mod bootstrap;
pub mod login;
pub mod profile;
pub mod register;
pub mod service_clients;
pub mod sessions;

use platform::auth::Principal;
use proto::types::UserId;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::domain::Account;
use crate::error::{UserError, UserResult};
use crate::secrets::PasswordHasher;
use crate::store;
use crate::throttle::LoginThrottle;
use crate::tokens::TokenIssuer;

/// The logic handle of svc-user.
#[derive(Debug, Clone)]
pub struct Users {
    pub(crate) db: DatabaseConnection,
    pub(crate) hasher: PasswordHasher,
    pub(crate) throttle: LoginThrottle,
    pub(crate) tokens: TokenIssuer,
}

impl Users {
    /// Creates the handle.
    pub fn new(
        db: DatabaseConnection,
        hasher: PasswordHasher,
        throttle: LoginThrottle,
        tokens: TokenIssuer,
    ) -> Self {
        Self {
            db,
            hasher,
            throttle,
            tokens,
        }
    }
}

impl Users {
    /// Returns the key set tokens are verified with (`GetJwks`).
    pub fn published_keys(&self) -> &platform::auth::KeySet {
        self.tokens.published_keys()
    }

    /// Returns the lifetime of service tokens, for `IssueServiceToken`'s answer.
    pub fn service_token_lifetime_seconds(&self) -> i64 {
        i64::try_from(self.tokens.lifetimes.service.as_secs()).unwrap_or(i64::MAX)
    }
}

/// Decides which account an owner-scoped request is about: the requested id, or the caller
/// when none is given. A customer asking for someone else's account gets NOT_FOUND, exactly as
/// for an account that does not exist, so ids reveal nothing. Services reach this only
/// through RPCs whose policy admits them.
///
/// # Errors
/// `InvalidArgument` for a malformed id or an anonymous caller without one; `NotFound` for
/// another user's account.
pub fn target_user(principal: &Principal, requested: &str) -> UserResult<UserId> {
    let target = if requested.is_empty() {
        principal.user_id().ok_or_else(|| {
            UserError::InvalidArgument(proto::types::InvalidField::new("user_id", "is required"))
        })?
    } else {
        UserId::parse("user_id", requested)?
    };
    match principal {
        Principal::User { id, .. } if *id == target => Ok(target),
        Principal::User { .. } if principal.is_admin() => Ok(target),
        Principal::Service { .. } => Ok(target),
        _ => Err(UserError::NotFound { entity: "user" }),
    }
}

/// Loads an account with its addresses.
///
/// # Errors
/// `NotFound` when the account does not exist.
pub async fn load_user(db: &impl ConnectionTrait, id: UserId) -> UserResult<Account> {
    let user = store::user::get(db, id).await?;
    let addresses = store::address::list(db, id).await?;
    user.to_account(&addresses)
}
