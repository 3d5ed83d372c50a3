//! The `addresses` table: a user's shipping addresses, at most one default (a partial unique
//! index guarantees it).

use chrono::{DateTime, Utc};
use platform::store::Classify as _;
use proto::types::UserId;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue, ConnectionTrait, QueryOrder as _};

use crate::domain::{Address, NewAddress};
use crate::error::{UserError, UserResult};

/// One stored address.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "addresses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Returns the address as the service answers with it.
    pub fn to_address(&self) -> Address {
        Address {
            id: self.id,
            line1: self.line1.clone(),
            line2: self.line2.clone(),
            city: self.city.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
            is_default: self.is_default,
        }
    }
}

/// Returns a user's addresses, oldest first.
///
/// # Errors
/// Internal on a database failure.
pub async fn list(db: &impl ConnectionTrait, user: UserId) -> UserResult<Vec<Model>> {
    Entity::find()
        .filter(Column::UserId.eq(user.as_uuid()))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
        .classify("address")
        .map_err(UserError::from)
}

/// Returns the addresses of every user in `users`, oldest first.
///
/// # Errors
/// Internal on a database failure.
pub async fn list_many(db: &impl ConnectionTrait, users: &[UserId]) -> UserResult<Vec<Model>> {
    let uuids: Vec<Uuid> = users.iter().map(UserId::as_uuid).collect();
    Entity::find()
        .filter(Column::UserId.is_in(uuids))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
        .classify("address")
        .map_err(UserError::from)
}

/// Clears the default flag on every address of `user`.
///
/// # Errors
/// Internal on a database failure.
pub async fn clear_default(db: &impl ConnectionTrait, user: UserId) -> UserResult<()> {
    Entity::update_many()
        .col_expr(Column::IsDefault, Expr::value(false))
        .filter(Column::UserId.eq(user.as_uuid()))
        .filter(Column::IsDefault.eq(true))
        .exec(db)
        .await
        .classify("address")?;
    Ok(())
}

/// Stores an address for `user` with the given default flag.
///
/// # Errors
/// `UserRefusal::AlreadyExists` if another default sneaked in (the caller's transaction
/// then rolls back).
pub async fn insert(
    db: &impl ConnectionTrait,
    user: UserId,
    address: &NewAddress,
    is_default: bool,
) -> UserResult<Model> {
    let row = ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        user_id: ActiveValue::Set(user.as_uuid()),
        line1: ActiveValue::Set(address.line1.clone()),
        line2: ActiveValue::Set(address.line2.clone()),
        city: ActiveValue::Set(address.city.clone()),
        postal_code: ActiveValue::Set(address.postal_code.clone()),
        country: ActiveValue::Set(address.country.clone()),
        is_default: ActiveValue::Set(is_default),
        created_at: ActiveValue::Set(Utc::now()),
    };
    row.insert(db)
        .await
        .classify("default address")
        .map_err(UserError::from)
}

/// Deletes one of `user`'s addresses; returns the deleted row.
///
/// # Errors
/// [`UserError::NotFound`] when `user` has no such address (someone else's reads the same).
pub async fn delete(db: &impl ConnectionTrait, user: UserId, address: Uuid) -> UserResult<Model> {
    let found = Entity::find_by_id(address)
        .filter(Column::UserId.eq(user.as_uuid()))
        .one(db)
        .await
        .classify("address")?
        .ok_or(UserError::NotFound { entity: "address" })?;
    Entity::delete_by_id(found.id)
        .exec(db)
        .await
        .classify("address")?;
    Ok(found)
}

/// Makes `address` the default.
///
/// # Errors
/// Internal on a database failure.
pub async fn set_default(db: &impl ConnectionTrait, address: Uuid) -> UserResult<()> {
    Entity::update_many()
        .col_expr(Column::IsDefault, Expr::value(true))
        .filter(Column::Id.eq(address))
        .exec(db)
        .await
        .classify("address")?;
    Ok(())
}
