//! The bootstrap admin: when configured, that account exists with the ADMIN role after start
//! (created, or promoted if it was a customer). Idempotent and safe on every replica.

use secrecy::{ExposeSecret as _, SecretString};

use super::Users;
use crate::domain::{DisplayName, Email, Password, UserRole};
use crate::error::{UserError, UserRefusal, UserResult};
use crate::store;

impl Users {
    /// Makes sure `email` is an admin, creating the account with `password` if needed. An
    /// existing account keeps its password.
    ///
    /// # Errors
    /// `InvalidArgument` for an email or password that breaks the rules.
    #[tracing::instrument(name = "user.ensure_admin", skip_all)]
    pub async fn ensure_admin(&self, email: &str, password: &SecretString) -> UserResult<()> {
        let email = Email::parse(email)?;
        if let Some(existing) = store::user::find_by_email(&self.db, &email).await? {
            if existing.user_role()? != UserRole::Admin {
                store::user::set_role(&self.db, existing.user_id(), UserRole::Admin).await?;
                tracing::info!(user_id = %existing.id, "bootstrap admin promoted");
            }
            return Ok(());
        }
        let password = Password::new_password(password.expose_secret())?;
        let hash = self.hasher.hash(&password).await?;
        let name = DisplayName::parse("Administrator")?;
        match store::user::insert(&self.db, &email, hash, &name, UserRole::Admin).await {
            Ok(created) => {
                tracing::info!(user_id = %created.id, "bootstrap admin created");
                Ok(())
            }
            // Another replica created it a moment ago: promote whatever is there.
            Err(UserError::Refused(UserRefusal::AlreadyExists(_))) => {
                if let Some(existing) = store::user::find_by_email(&self.db, &email).await? {
                    store::user::set_role(&self.db, existing.user_id(), UserRole::Admin).await?;
                }
                Ok(())
            }
            Err(other) => Err(other),
        }
    }
}
