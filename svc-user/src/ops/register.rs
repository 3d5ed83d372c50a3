//! `Register`: a new CUSTOMER account and its first session.

use platform::store::Classify as _;

use super::Users;
use crate::domain::{Account, DisplayName, Email, Password, Tokens, UserRole};
use crate::error::UserResult;
use crate::store;

/// A checked registration.
#[derive(Debug)]
pub struct Register {
    pub email: Email,
    pub password: Password,
    pub name: DisplayName,
}

impl Users {
    /// Creates the account and signs it in.
    ///
    /// The password is hashed before the insert, so a taken email answers no faster than a
    /// free one.
    ///
    /// # Errors
    /// `AlreadyExists` when the email is registered (decided by the unique index).
    #[tracing::instrument(name = "user.register", skip_all)]
    pub async fn register(&self, command: Register) -> UserResult<(Tokens, Account)> {
        let password_hash = self.hasher.hash(&command.password).await?;
        let transaction = platform::store::begin(&self.db, "user").await?;
        let user = store::user::insert(
            &transaction,
            &command.email,
            password_hash,
            &command.name,
            UserRole::Customer,
        )
        .await?;
        let tokens = self
            .start_session(&transaction, user.user_id(), UserRole::Customer)
            .await?;
        transaction.commit().await.classify("user")?;
        tracing::info!(user_id = %user.id, "account registered");
        Ok((tokens, user.to_account(&[])?))
    }
}
