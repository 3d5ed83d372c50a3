//! Hand-written SQL, one file per aggregate, the same text on SQLite and PostgreSQL. Every
//! stock change is a conditional `UPDATE` whose `WHERE` carries the rule, so the database
//! decides, never a read followed by a write.

pub mod ledger;
pub mod outbox;
pub mod reservation;
pub mod stock;

use anyhow::anyhow;
use sea_orm::{ConnectionTrait, DbErr, QueryResult, SqlErr, Value};

use crate::error::InventoryError;

/// Turns a database error into the service's error. A CHECK violation would mean a code
/// path tried to break an invariant: internal, and the transaction rolls back.
pub fn map_db_err(error: DbErr, what: &'static str) -> InventoryError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => InventoryError::Conflict(what),
        _ => InventoryError::Internal(anyhow!(error).context(format!("database error on {what}"))),
    }
}

/// Runs a statement; returns the rows it changed.
pub(crate) async fn execute(
    db: &impl ConnectionTrait,
    what: &'static str,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<u64, InventoryError> {
    let statement = platform::store::statement(db.get_database_backend(), sql, values);
    let result = db
        .execute_raw(statement)
        .await
        .map_err(|error| map_db_err(error, what))?;
    Ok(result.rows_affected())
}

/// Runs a query; returns its rows.
pub(crate) async fn query(
    db: &impl ConnectionTrait,
    what: &'static str,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Vec<QueryResult>, InventoryError> {
    let statement = platform::store::statement(db.get_database_backend(), sql, values);
    db.query_all_raw(statement)
        .await
        .map_err(|error| map_db_err(error, what))
}

/// Reads a column.
pub(crate) fn column<T: sea_orm::TryGetable>(row: &QueryResult, name: &str) -> Result<T, InventoryError> {
    row.try_get("", name).map_err(|error| map_db_err(error, "row"))
}
