//! `GetProfile`, `BatchGetUsers`, `UpdateProfile` and `SetRole`.

use std::collections::HashMap;

use proto::types::UserId;

use super::{Users, load_user};
use crate::domain::{Account, DisplayName, UserRole};
use crate::error::UserResult;
use crate::store;

/// Most ids one `BatchGetUsers` may ask for.
pub const MAX_BATCH: usize = 500;

impl Users {
    /// Returns an account with its addresses.
    ///
    /// # Errors
    /// `NotFound` when it does not exist.
    #[tracing::instrument(name = "user.get_profile", skip_all, fields(user_id = %user))]
    pub async fn get_profile(&self, user: UserId) -> UserResult<Account> {
        load_user(&self.db, user).await
    }

    /// Returns the accounts among `ids` (with their addresses) in request order, and the ids
    /// that have none.
    ///
    /// # Errors
    /// `InvalidArgument` for more than [`MAX_BATCH`] ids.
    #[tracing::instrument(name = "user.batch_get_users", skip_all, fields(count = ids.len()))]
    pub async fn batch_get(&self, ids: &[UserId]) -> UserResult<(Vec<Account>, Vec<UserId>)> {
        if ids.len() > MAX_BATCH {
            return Err(proto::types::InvalidField::new("user_ids", "at most 500 ids per call").into());
        }
        let rows = store::user::find_many(&self.db, ids).await?;
        let mut by_id: HashMap<uuid::Uuid, store::user::Model> = HashMap::new();
        for row in rows {
            by_id.insert(row.id, row);
        }
        // One query for every account's addresses: the BFF's `me` reads them through here.
        let mut addresses: HashMap<uuid::Uuid, Vec<store::address::Model>> = HashMap::new();
        for address in store::address::list_many(&self.db, ids).await? {
            addresses.entry(address.user_id).or_default().push(address);
        }
        let mut users = Vec::new();
        let mut missing = Vec::new();
        for id in ids {
            match by_id.get(&id.as_uuid()) {
                Some(row) => {
                    let own = addresses.get(&row.id).map(Vec::as_slice).unwrap_or_default();
                    users.push(row.to_account(own)?);
                }
                None => missing.push(*id),
            }
        }
        Ok((users, missing))
    }

    /// Changes the name when one is given; returns the account.
    ///
    /// # Errors
    /// `NotFound` when the account does not exist.
    #[tracing::instrument(name = "user.update_profile", skip_all, fields(user_id = %user))]
    pub async fn update_profile(&self, user: UserId, name: Option<DisplayName>) -> UserResult<Account> {
        if let Some(name) = name {
            store::user::update_name(&self.db, user, &name).await?;
        }
        load_user(&self.db, user).await
    }

    /// Sets a user's role; it shows in the user's next access token.
    ///
    /// # Errors
    /// `NotFound` when the account does not exist.
    #[tracing::instrument(name = "user.set_role", skip_all, fields(user_id = %user, role = role.as_str()))]
    pub async fn set_role(&self, user: UserId, role: UserRole) -> UserResult<Account> {
        store::user::set_role(&self.db, user, role).await?;
        tracing::info!(user_id = %user, role = role.as_str(), "role changed");
        load_user(&self.db, user).await
    }
}
