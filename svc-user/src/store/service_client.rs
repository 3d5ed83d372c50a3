//! The `service_clients` table: who may obtain service tokens, with a hashed secret.

use chrono::{DateTime, Utc};
use platform::store::Classify as _;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue, ConnectionTrait, QueryOrder as _};

use crate::error::{UserError, UserResult};

/// One registered client.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    pub secret_hash: String,
    /// JSON array of the services its tokens may address.
    pub audiences: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Returns the audiences; a row that does not parse grants nothing.
    pub fn audience_list(&self) -> Vec<String> {
        serde_json::from_str(&self.audiences).unwrap_or_default()
    }

    /// Returns the client as the service lists it, without its secret.
    pub fn to_client(&self) -> crate::domain::ServiceClient {
        crate::domain::ServiceClient {
            client_id: self.client_id.clone(),
            audiences: self.audience_list(),
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        }
    }
}

fn new_row(client_id: &str, secret_hash: String, audiences: &[String]) -> UserResult<ActiveModel> {
    let audiences = serde_json::to_string(audiences).map_err(|error| UserError::Internal(error.into()))?;
    Ok(ActiveModel {
        client_id: ActiveValue::Set(client_id.to_owned()),
        secret_hash: ActiveValue::Set(secret_hash),
        audiences: ActiveValue::Set(audiences),
        created_at: ActiveValue::Set(Utc::now()),
        revoked_at: ActiveValue::Set(None),
    })
}

/// Registers a new client.
///
/// # Errors
/// `UserRefusal::AlreadyExists` when the client id is taken.
pub async fn insert(
    db: &impl ConnectionTrait,
    client_id: &str,
    secret_hash: String,
    audiences: &[String],
) -> UserResult<()> {
    new_row(client_id, secret_hash, audiences)?
        .insert(db)
        .await
        .classify("client id is already registered")?;
    Ok(())
}

/// Creates or refreshes one of the mesh's own clients from configuration (idempotent, safe
/// on every replica at start).
///
/// # Errors
/// Internal on a database failure.
pub async fn ensure(
    db: &impl ConnectionTrait,
    client_id: &str,
    secret_hash: String,
    audiences: &[String],
) -> UserResult<()> {
    Entity::insert(new_row(client_id, secret_hash, audiences)?)
        .on_conflict(
            OnConflict::column(Column::ClientId)
                .update_columns([Column::SecretHash, Column::Audiences, Column::RevokedAt])
                .to_owned(),
        )
        .exec(db)
        .await
        .classify("service client")?;
    Ok(())
}

/// Finds a client.
///
/// # Errors
/// Internal on a database failure.
pub async fn find(db: &impl ConnectionTrait, client_id: &str) -> UserResult<Option<Model>> {
    Entity::find_by_id(client_id.to_owned())
        .one(db)
        .await
        .classify("service client")
        .map_err(UserError::from)
}

/// Marks a client revoked (idempotent).
///
/// # Errors
/// [`UserError::NotFound`] when no such client exists.
pub async fn revoke(db: &impl ConnectionTrait, client_id: &str) -> UserResult<()> {
    let Some(client) = find(db, client_id).await? else {
        return Err(UserError::NotFound {
            entity: "service client",
        });
    };
    if client.revoked_at.is_some() {
        return Ok(());
    }
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(Utc::now()))
        .filter(Column::ClientId.eq(client_id))
        .exec(db)
        .await
        .classify("service client")?;
    Ok(())
}

/// Lists every client, by id.
///
/// # Errors
/// Internal on a database failure.
pub async fn list(db: &impl ConnectionTrait) -> UserResult<Vec<Model>> {
    Entity::find()
        .order_by_asc(Column::ClientId)
        .all(db)
        .await
        .classify("service client")
        .map_err(UserError::from)
}
