//! The `users` table.

use chrono::{DateTime, Utc};
use platform::store::{Classify as _, traced};
use proto::types::UserId;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue, ConnectionTrait};

use crate::domain::{Account, DisplayName, Email, UserRole};
use crate::error::{UserError, UserResult};

/// One account. `password_hash` is an argon2id PHC string and never leaves the service.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub password_hash: String,
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Returns the typed id.
    pub fn user_id(&self) -> UserId {
        UserId::from(self.id)
    }

    /// Returns the stored role.
    ///
    /// # Errors
    /// Internal, with the account, when the stored role is not one.
    pub fn user_role(&self) -> UserResult<UserRole> {
        UserRole::from_stored(&self.role)
            .map_err(|error| UserError::Internal(error.context(format!("account {}", self.id))))
    }

    /// Returns the account with `addresses` (the password hash stays behind).
    ///
    /// # Errors
    /// Internal when the stored role is not one.
    pub fn to_account(&self, addresses: &[super::address::Model]) -> UserResult<Account> {
        Ok(Account {
            id: self.user_id(),
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.user_role()?,
            addresses: addresses.iter().map(super::address::Model::to_address).collect(),
            created_at: self.created_at,
        })
    }
}

/// Inserts a new account.
///
/// # Errors
/// `UserRefusal::AlreadyExists` when the email is taken (by the unique index, so two
/// concurrent registrations cannot both win).
#[tracing::instrument(name = "user.store.insert_user", skip_all)]
pub async fn insert(
    db: &impl ConnectionTrait,
    email: &Email,
    password_hash: String,
    name: &DisplayName,
    role: UserRole,
) -> UserResult<Model> {
    let now = Utc::now();
    let row = ActiveModel {
        id: ActiveValue::Set(UserId::generate().as_uuid()),
        email: ActiveValue::Set(email.to_string()),
        password_hash: ActiveValue::Set(password_hash),
        name: ActiveValue::Set(name.to_string()),
        role: ActiveValue::Set(role.as_str().to_owned()),
        created_at: ActiveValue::Set(now),
        updated_at: ActiveValue::Set(now),
    };
    row.insert(db)
        .await
        .classify("email is already registered")
        .map_err(UserError::from)
}

/// Finds an account by its normalised email.
///
/// # Errors
/// Internal on a database failure.
pub async fn find_by_email(db: &impl ConnectionTrait, email: &Email) -> UserResult<Option<Model>> {
    let found = Entity::find().filter(Column::Email.eq(email.as_ref())).one(db);
    traced(db, "SELECT", "users", found)
        .await
        .classify("user")
        .map_err(UserError::from)
}

/// Finds an account by id.
///
/// # Errors
/// [`UserError::NotFound`] when there is none.
pub async fn get(db: &impl ConnectionTrait, id: UserId) -> UserResult<Model> {
    traced(db, "SELECT", "users", Entity::find_by_id(id.as_uuid()).one(db))
        .await
        .classify("user")?
        .ok_or(UserError::NotFound { entity: "user" })
}

/// Finds the accounts among `ids` (in no particular order).
///
/// # Errors
/// Internal on a database failure.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[UserId]) -> UserResult<Vec<Model>> {
    let uuids: Vec<Uuid> = ids.iter().map(UserId::as_uuid).collect();
    traced(
        db,
        "SELECT",
        "users",
        Entity::find().filter(Column::Id.is_in(uuids)).all(db),
    )
    .await
    .classify("user")
    .map_err(UserError::from)
}

/// Changes the display name.
///
/// # Errors
/// [`UserError::NotFound`] when the account does not exist.
pub async fn update_name(db: &impl ConnectionTrait, id: UserId, name: &DisplayName) -> UserResult<()> {
    let result = Entity::update_many()
        .col_expr(Column::Name, Expr::value(name.to_string()))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id.as_uuid()))
        .exec(db)
        .await
        .classify("user")?;
    if result.rows_affected == 0 {
        return Err(UserError::NotFound { entity: "user" });
    }
    Ok(())
}

/// Changes the role.
///
/// # Errors
/// [`UserError::NotFound`] when the account does not exist.
pub async fn set_role(db: &impl ConnectionTrait, id: UserId, role: UserRole) -> UserResult<()> {
    let result = Entity::update_many()
        .col_expr(Column::Role, Expr::value(role.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id.as_uuid()))
        .exec(db)
        .await
        .classify("user")?;
    if result.rows_affected == 0 {
        return Err(UserError::NotFound { entity: "user" });
    }
    Ok(())
}

/// Replaces the password hash (bootstrap admin).
///
/// # Errors
/// Internal on a database failure.
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: UserId,
    password_hash: String,
) -> UserResult<()> {
    Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(password_hash))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id.as_uuid()))
        .exec(db)
        .await
        .classify("user")?;
    Ok(())
}
