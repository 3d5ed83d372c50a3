//! sea-orm entities and queries, one file per aggregate. Database errors are classified
//! once, here, by code (never by message), so SQLite and PostgreSQL behave alike.

pub mod address;
pub mod refresh_token;
pub mod service_client;
pub mod user;

use anyhow::anyhow;
use sea_orm::{DbErr, SqlErr};

use crate::error::UserError;

/// Turns a database error into the service's error. A unique violation means the thing
/// already exists (`what` names it); anything else is internal.
pub fn map_db_err(error: DbErr, what: &'static str) -> UserError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => UserError::AlreadyExists(what),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => UserError::NotFound { entity: "user" },
        _ => UserError::Internal(anyhow!(error).context(format!("database error on {what}"))),
    }
}
