//! `Login`: email and password for a session, throttled per (account, address) and per
//! address, slowed per account (see `throttle.rs`). A
//! wrong email and a wrong password answer alike: same code, same message, same work.

use super::{Users, load_user};
use crate::domain::{Account, Email, Password, Tokens};
use crate::error::{UserError, UserRefusal, UserResult};
use crate::store;

/// A login attempt.
#[derive(Debug)]
pub struct Login {
    /// What the user typed, trimmed and lower-cased (kept even when it is not an email, so
    /// throttling still counts it).
    pub account: String,
    pub email: Option<Email>,
    pub password: Password,
    pub client_address: Option<String>,
}

impl Users {
    /// Checks the credentials and starts a session.
    ///
    /// # Errors
    /// `Throttled` after too many failures of this address on this account, or of this
    /// address; `InvalidCredentials` for any wrong email or
    /// password.
    #[tracing::instrument(name = "user.login", skip_all)]
    pub async fn login(&self, command: Login) -> UserResult<(Tokens, Account)> {
        let address = command.client_address.as_deref();
        self.throttle.check(&command.account, address).await?;

        let user = match &command.email {
            Some(email) => store::user::find_by_email(&self.db, email).await?,
            None => None,
        };
        let stored_hash = user.as_ref().map(|user| user.password_hash.as_str());
        let password_ok = self.hasher.verify(&command.password, stored_hash).await?;
        let Some(user) = user.filter(|_| password_ok && !command.password.is_out_of_bounds()) else {
            self.throttle.record_failure(&command.account, address).await?;
            return Err(UserError::from(UserRefusal::InvalidCredentials));
        };

        self.throttle.reset(&command.account, address).await?;
        let tokens = self
            .start_session(&self.db, user.user_id(), user.user_role()?)
            .await?;
        let profile = load_user(&self.db, user.user_id()).await?;
        Ok((tokens, profile))
    }
}
