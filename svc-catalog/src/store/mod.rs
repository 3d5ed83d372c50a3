//! sea-orm entities and queries. `book.rs` writes and reads books (with their authors, topics
//! and search-index row in one transaction); `search.rs` builds the search SQL per backend.
//! Database errors are classified once, here, by code.

pub mod book;
pub mod search;

use anyhow::anyhow;
use sea_orm::{DbErr, SqlErr};

use crate::error::CatalogError;

/// Turns a database error into the service's error; a unique violation means `what` exists.
pub fn map_db_err(error: DbErr, what: &'static str) -> CatalogError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => CatalogError::AlreadyExists(what),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => CatalogError::NotFound { entity: "book" },
        _ => CatalogError::Internal(anyhow!(error).context(format!("database error on {what}"))),
    }
}
