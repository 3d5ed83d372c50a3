//! `AddAddress`, `ListAddresses`, `RemoveAddress`: a user's addresses, exactly one of them
//! the default while there are any (the first one added becomes it).

use platform::store::Classify as _;
use proto::types::UserId;

use super::{Users, load_user};
use crate::domain::{Account, Address, NewAddress};
use crate::error::UserResult;
use crate::store;

/// Most addresses one account keeps.
pub const MAX_ADDRESSES: usize = 20;

impl Users {
    /// Adds an address; it becomes the default when asked or when it is the first.
    ///
    /// # Errors
    /// `InvalidArgument` beyond [`MAX_ADDRESSES`]; `NotFound` for an unknown account.
    #[tracing::instrument(name = "user.add_address", skip_all, fields(user_id = %user))]
    pub async fn add_address(&self, user: UserId, address: NewAddress) -> UserResult<(Account, uuid::Uuid)> {
        store::user::get(&self.db, user).await?;
        let transaction = platform::store::begin(&self.db, "address").await?;
        let existing = store::address::list(&transaction, user).await?;
        if existing.len() >= MAX_ADDRESSES {
            return Err(
                proto::types::InvalidField::new("address", "at most 20 addresses per account").into(),
            );
        }
        let is_default = existing.is_empty() || address.is_default;
        if is_default {
            store::address::clear_default(&transaction, user).await?;
        }
        let stored = store::address::insert(&transaction, user, &address, is_default).await?;
        transaction.commit().await.classify("address")?;
        Ok((load_user(&self.db, user).await?, stored.id))
    }

    /// Returns the user's addresses, oldest first.
    ///
    /// # Errors
    /// Internal on a database failure.
    #[tracing::instrument(name = "user.list_addresses", skip_all, fields(user_id = %user))]
    pub async fn list_addresses(&self, user: UserId) -> UserResult<Vec<Address>> {
        let addresses = store::address::list(&self.db, user).await?;
        Ok(addresses.iter().map(store::address::Model::to_address).collect())
    }

    /// Removes one of the user's addresses; if it was the default, the oldest remaining one
    /// takes over.
    ///
    /// # Errors
    /// `NotFound` when the user has no such address.
    #[tracing::instrument(name = "user.remove_address", skip_all, fields(user_id = %user))]
    pub async fn remove_address(&self, user: UserId, address: uuid::Uuid) -> UserResult<Account> {
        let transaction = platform::store::begin(&self.db, "address").await?;
        let removed = store::address::delete(&transaction, user, address).await?;
        if removed.is_default {
            let remaining = store::address::list(&transaction, user).await?;
            if let Some(oldest) = remaining.first() {
                store::address::set_default(&transaction, oldest.id).await?;
            }
        }
        transaction.commit().await.classify("address")?;
        load_user(&self.db, user).await
    }
}
