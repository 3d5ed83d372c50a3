//! The `refresh_tokens` table: one row per issued refresh token, stored as a SHA-256 hash,
//! grouped in families (one per login) so reuse of a spent token can revoke the family.

use chrono::{DateTime, Utc};
use platform::store::Classify as _;
use proto::types::UserId;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue, ConnectionTrait};

use crate::error::UserResult;

/// One refresh token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: Uuid,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Stores a new token of `family`.
///
/// # Errors
/// Internal on a database failure.
pub async fn insert(
    db: &impl ConnectionTrait,
    family: Uuid,
    user: UserId,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> UserResult<()> {
    let row = ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        family_id: ActiveValue::Set(family),
        user_id: ActiveValue::Set(user.as_uuid()),
        token_hash: ActiveValue::Set(token_hash),
        expires_at: ActiveValue::Set(expires_at),
        used_at: ActiveValue::Set(None),
        revoked_at: ActiveValue::Set(None),
        created_at: ActiveValue::Set(Utc::now()),
    };
    row.insert(db).await.classify("refresh token")?;
    Ok(())
}

/// Finds a token by its hash.
///
/// # Errors
/// Internal on a database failure.
pub async fn find_by_hash(db: &impl ConnectionTrait, token_hash: &str) -> UserResult<Option<Model>> {
    Entity::find()
        .filter(Column::TokenHash.eq(token_hash))
        .one(db)
        .await
        .classify("refresh token")
        .map_err(crate::error::UserError::from)
}

/// Spends a token: marks it used only if it is neither used nor revoked. Returns false when
/// another request spent it first, which the caller treats as reuse.
///
/// # Errors
/// Internal on a database failure.
pub async fn spend(db: &impl ConnectionTrait, id: Uuid) -> UserResult<bool> {
    let result = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .filter(Column::UsedAt.is_null())
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await
        .classify("refresh token")?;
    Ok(result.rows_affected == 1)
}

/// Revokes every token of a family (a logout, or a detected theft).
///
/// # Errors
/// Internal on a database failure.
pub async fn revoke_family(db: &impl ConnectionTrait, family: Uuid) -> UserResult<()> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(Utc::now()))
        .filter(Column::FamilyId.eq(family))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await
        .classify("refresh token")?;
    Ok(())
}

/// Revokes every token of a user ("log out everywhere").
///
/// # Errors
/// Internal on a database failure.
pub async fn revoke_user(db: &impl ConnectionTrait, user: UserId) -> UserResult<()> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(Utc::now()))
        .filter(Column::UserId.eq(user.as_uuid()))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await
        .classify("refresh token")?;
    Ok(())
}
