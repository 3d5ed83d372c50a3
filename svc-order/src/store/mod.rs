//! Hand-written SQL, one file per table group, the same text on SQLite and PostgreSQL. Every
//! saga move is a conditional `UPDATE` on the order's current step, so of two drivers (the
//! request and a recovery loop on another replica) exactly one makes each move.

pub mod orders;
pub mod payments;

use sea_orm::{ConnectionTrait, QueryResult, Value};

use crate::error::OrderResult;

/// Runs a statement; returns the rows it changed.
pub(crate) async fn execute(
    db: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> OrderResult<u64> {
    let statement = platform::store::statement(db.get_database_backend(), sql, values);
    Ok(db.execute_raw(statement).await?.rows_affected())
}

/// Runs a query; returns its rows.
pub(crate) async fn query(
    db: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> OrderResult<Vec<QueryResult>> {
    let statement = platform::store::statement(db.get_database_backend(), sql, values);
    Ok(db.query_all_raw(statement).await?)
}

/// Reads a column.
pub(crate) fn column<T: sea_orm::TryGetable>(row: &QueryResult, name: &str) -> OrderResult<T> {
    Ok(row.try_get("", name)?)
}

/// `?, ?, …` for an `IN` list of `count` values.
pub(crate) fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
