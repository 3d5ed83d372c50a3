//! Sessions: a refresh-token family per login, rotated on every `Refresh`. Presenting a spent
//! token revokes the whole family (someone else has a copy); `Logout` revokes one family or
//! every family of the user.

use chrono::Utc;
use platform::auth::Principal;
use platform::store::Classify as _;
use proto::types::UserId;
use sea_orm::ConnectionTrait;

use super::{Users, load_user};
use crate::domain::{Account, Tokens, UserRole};
use crate::error::{UserError, UserRefusal, UserResult};
use crate::secrets::{random_token, token_hash};
use crate::store;

impl Users {
    /// Starts a session for `user` inside `db` (the caller's transaction when there is one)
    /// and returns its tokens.
    pub(crate) async fn start_session(
        &self,
        db: &impl ConnectionTrait,
        user: UserId,
        role: UserRole,
    ) -> UserResult<Tokens> {
        let family = uuid::Uuid::now_v7();
        self.issue_in_family(db, family, user, role).await
    }

    async fn issue_in_family(
        &self,
        db: &impl ConnectionTrait,
        family: uuid::Uuid,
        user: UserId,
        role: UserRole,
    ) -> UserResult<Tokens> {
        let refresh_token = random_token();
        let lifetime = chrono::Duration::from_std(self.tokens.lifetimes.refresh)
            .map_err(|error| UserError::Internal(error.into()))?;
        store::refresh_token::insert(
            db,
            family,
            user,
            token_hash(&refresh_token),
            Utc::now() + lifetime,
        )
        .await?;
        let access_token = self.tokens.access_token(user, role, family)?;
        Ok(Tokens {
            access_token,
            refresh_token,
            expires_in_seconds: i64::try_from(self.tokens.lifetimes.access.as_secs()).unwrap_or(i64::MAX),
        })
    }

    /// Spends `refresh_token` and returns a new pair in the same family.
    ///
    /// # Errors
    /// `InvalidRefreshToken` for an unknown, expired, revoked or already spent token; a
    /// spent one also revokes its family.
    #[tracing::instrument(name = "user.refresh", skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> UserResult<(Tokens, Account)> {
        let Some(row) = store::refresh_token::find_by_hash(&self.db, &token_hash(refresh_token)).await?
        else {
            return Err(UserError::from(UserRefusal::InvalidRefreshToken));
        };
        if row.revoked_at.is_some() || row.expires_at <= Utc::now() {
            return Err(UserError::from(UserRefusal::InvalidRefreshToken));
        }
        let transaction = platform::store::begin(&self.db, "session").await?;
        // Conditional: of two requests presenting the same token, exactly one spends it.
        if !store::refresh_token::spend(&transaction, row.id).await? {
            drop(transaction);
            tracing::warn!(family = %row.family_id, "refresh token reused, revoking its family");
            store::refresh_token::revoke_family(&self.db, row.family_id).await?;
            return Err(UserError::from(UserRefusal::InvalidRefreshToken));
        }
        let user_id = UserId::from(row.user_id);
        let user = store::user::get(&transaction, user_id).await?;
        let tokens = self
            .issue_in_family(&transaction, row.family_id, user_id, user.user_role()?)
            .await?;
        transaction.commit().await.classify("session")?;
        let profile = load_user(&self.db, user_id).await?;
        Ok((tokens, profile))
    }

    /// Ends a session: the family of `refresh_token`, or of the caller's token when none is
    /// given; with `all_sessions`, every family of the user. Idempotent.
    ///
    /// # Errors
    /// `InvalidArgument` when there is neither a refresh token nor a signed-in user.
    #[tracing::instrument(name = "user.logout", skip_all)]
    pub async fn logout(
        &self,
        principal: &Principal,
        refresh_token: &str,
        all_sessions: bool,
    ) -> UserResult<()> {
        if !refresh_token.is_empty() {
            let Some(row) = store::refresh_token::find_by_hash(&self.db, &token_hash(refresh_token)).await?
            else {
                return Ok(());
            };
            // A user may only end their own sessions; someone else's token changes nothing.
            if let Some(caller) = principal.user_id()
                && caller.as_uuid() != row.user_id
            {
                return Ok(());
            }
            if all_sessions {
                return store::refresh_token::revoke_user(&self.db, UserId::from(row.user_id)).await;
            }
            return store::refresh_token::revoke_family(&self.db, row.family_id).await;
        }
        let Principal::User { id, session, .. } = principal else {
            return Err(proto::types::InvalidField::new("refresh_token", "is required").into());
        };
        match (all_sessions, session) {
            (false, Some(session)) => {
                let family =
                    uuid::Uuid::parse_str(session).map_err(|error| UserError::Internal(error.into()))?;
                store::refresh_token::revoke_family(&self.db, family).await
            }
            _ => store::refresh_token::revoke_user(&self.db, *id).await,
        }
    }
}
