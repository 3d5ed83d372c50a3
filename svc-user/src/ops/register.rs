//! `Register`: a new CUSTOMER account and its first session.

use platform::store::Classify as _;
use proto::user::v1 as pb;
use sea_orm::TransactionTrait as _;

use super::{Users, to_wire};
use crate::domain::{DisplayName, Email, Password, UserRole};
use crate::error::UserResult;
use crate::store;

/// A checked registration.
#[derive(Debug)]
pub struct Register {
    pub email: Email,
    pub password: Password,
    pub name: DisplayName,
}

impl TryFrom<pb::RegisterRequest> for Register {
    type Error = crate::error::UserError;

    fn try_from(request: pb::RegisterRequest) -> Result<Self, Self::Error> {
        Ok(Register {
            email: Email::parse(&request.email)?,
            password: Password::new_password(&request.password)?,
            name: DisplayName::parse(&request.name)?,
        })
    }
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
    pub async fn register(&self, command: Register) -> UserResult<(pb::AuthTokens, pb::User)> {
        let password_hash = self.hasher.hash(&command.password).await?;
        let transaction = self.db.begin().await.classify("user")?;
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
        Ok((tokens, to_wire(&user, &[])))
    }
}
