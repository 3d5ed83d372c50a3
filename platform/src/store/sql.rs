//! Hand-written SQL, written once for SQLite and PostgreSQL, and the one classification of
//! database failures every service maps into its own error: a constraint refused the
//! write, the store is briefly gone, or something else went wrong.

use tracing::Instrument as _;

use crate::telemetry::db_spans;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, QueryResult, SqlErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait as _, TryGetable, Value,
};

/// Which constraint refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// A unique index (or primary key) already holds the value.
    Unique,
    /// A foreign key names a row that does not exist.
    ForeignKey,
}

/// A database failure, classified by code (never by message), so SQLite and PostgreSQL
/// behave alike. `what` names what the statement was about (`"book"`, `"reservation"`), for
/// the service's error and the log line.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A constraint refused the write; the service decides what it means to its caller.
    #[error("{what}: {violation:?} constraint violated")]
    Constraint {
        what: &'static str,
        violation: Violation,
        #[source]
        source: DbErr,
    },
    /// The store is briefly gone (connection cut, pool exhausted, server restarting):
    /// callers hear UNAVAILABLE and retry.
    #[error("database unavailable on {what}")]
    Transient {
        what: &'static str,
        #[source]
        source: DbErr,
    },
    /// Anything else: internal.
    #[error("database error on {what}")]
    Other {
        what: &'static str,
        #[source]
        source: DbErr,
    },
}

impl StoreError {
    /// Classifies `source`, a failure of a statement about `what`.
    pub fn classify(source: DbErr, what: &'static str) -> Self {
        let violation = match source.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Some(Violation::Unique),
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Some(Violation::ForeignKey),
            _ => None,
        };
        match violation {
            Some(violation) => StoreError::Constraint {
                what,
                violation,
                source,
            },
            None if super::transient::is_transient_db(&source) => StoreError::Transient { what, source },
            None => StoreError::Other { what, source },
        }
    }

    /// Returns the constraint that refused the write, if one did.
    pub fn violation(&self) -> Option<Violation> {
        match self {
            StoreError::Constraint { violation, .. } => Some(*violation),
            StoreError::Transient { .. } | StoreError::Other { .. } => None,
        }
    }

    /// The kind of failure `error` would be classified as (see [`StoreError::kind`]).
    fn classify_kind(error: &DbErr) -> &'static str {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_)) => {
                "constraint"
            }
            _ if super::transient::is_transient_db(error) => "unavailable",
            _ => "other",
        }
    }

    /// The kind of failure, for the `error.type` of a store call's span.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::Constraint { .. } => "constraint",
            StoreError::Transient { .. } => "unavailable",
            StoreError::Other { .. } => "other",
        }
    }

    /// Whether a CHECK constraint refused the write: a guard that ends a statement on purpose
    /// (inventory's `reserved <= on_hand` refuses a reservation of more than is available),
    /// so it stays unclassified and the statement's owner decides what it means.
    pub fn is_check_violation(&self) -> bool {
        let source = match self {
            StoreError::Other { source, .. } => source,
            StoreError::Constraint { .. } | StoreError::Transient { .. } => return false,
        };
        match source {
            DbErr::Exec(sea_orm::RuntimeErr::SqlxError(error))
            | DbErr::Query(sea_orm::RuntimeErr::SqlxError(error)) => {
                matches!(error.as_database_error(), Some(database) if database.is_check_violation())
            }
            _ => false,
        }
    }

    /// Returns what the failed statement was about.
    pub fn what(&self) -> &'static str {
        match self {
            StoreError::Constraint { what, .. }
            | StoreError::Transient { what, .. }
            | StoreError::Other { what, .. } => what,
        }
    }
}

/// Classifies the error of a sea-orm call: `.classify("book")?`.
pub trait Classify<T> {
    /// Turns a [`DbErr`] into a [`StoreError`] about `what`.
    ///
    /// # Errors
    /// The classified error.
    fn classify(self, what: &'static str) -> Result<T, StoreError>;
}

impl<T> Classify<T> for Result<T, DbErr> {
    fn classify(self, what: &'static str) -> Result<T, StoreError> {
        self.map_err(|error| StoreError::classify(error, what))
    }
}

/// Rewrites `?` placeholders as `$1, $2, …` for PostgreSQL, so hand-written SQL is written
/// once for both backends. Write SQL without `?` inside string literals.
pub fn numbered_placeholders(backend: DatabaseBackend, sql: &str) -> String {
    if backend != DatabaseBackend::Postgres {
        return sql.to_owned();
    }
    let mut numbered = String::with_capacity(sql.len() + 8);
    let mut index = 0;
    for character in sql.chars() {
        if character == '?' {
            index += 1;
            numbered.push_str(&format!("${index}"));
        } else {
            numbered.push(character);
        }
    }
    numbered
}

/// Builds a statement from `?`-placeholder SQL for `backend`.
pub fn statement(backend: DatabaseBackend, sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(backend, numbered_placeholders(backend, sql), values)
}

/// `?, ?, …` for an `IN` list of `count` values.
pub fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// Runs a statement about `what`; returns the rows it changed.
///
/// # Errors
/// The classified database error.
pub async fn execute(
    db: &impl ConnectionTrait,
    what: &'static str,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<u64, StoreError> {
    let span = db_spans::sql(db.get_database_backend(), sql);
    let statement = statement(db.get_database_backend(), sql, values);
    let result = db
        .execute_raw(statement)
        .instrument(span.clone())
        .await
        .classify(what);
    db_spans::record(&span, &result, StoreError::kind);
    Ok(result?.rows_affected())
}

/// Runs a query about `what`; returns its rows.
///
/// # Errors
/// The classified database error.
pub async fn query(
    db: &impl ConnectionTrait,
    what: &'static str,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Vec<QueryResult>, StoreError> {
    let span = db_spans::sql(db.get_database_backend(), sql);
    let statement = statement(db.get_database_backend(), sql, values);
    let result = db
        .query_all_raw(statement)
        .instrument(span.clone())
        .await
        .classify(what);
    db_spans::record(&span, &result, StoreError::kind);
    result
}

/// Runs a call through sea-orm's entity API in a store span, as [`query`] runs its SQL:
/// `traced(db, "SELECT", "books", Entity::find().all(db)).await.classify("book")?`.
///
/// # Errors
/// The call's own error, unclassified.
pub async fn traced<T>(
    db: &impl ConnectionTrait,
    operation: &'static str,
    collection: &'static str,
    call: impl std::future::Future<Output = Result<T, DbErr>>,
) -> Result<T, DbErr> {
    let span = db_spans::entity(db.get_database_backend(), operation, collection);
    let result = call.instrument(span.clone()).await;
    db_spans::record(&span, &result, StoreError::classify_kind);
    result
}

/// Reads a column of a row.
///
/// # Errors
/// [`StoreError::Other`] when the column is missing or has another type.
pub fn column<T: TryGetable>(row: &QueryResult, name: &str) -> Result<T, StoreError> {
    row.try_get("", name).classify("column")
}

/// Starts a transaction that will write. On SQLite it begins `IMMEDIATE`, taking the write
/// lock up front (waiting on the busy timeout): a deferred transaction that reads first and
/// then writes fails at once with `SQLITE_BUSY_SNAPSHOT` when another connection committed
/// in between, as the catalog's outbox relay does beside every admin write.
///
/// The BEGIN runs in a task of its own, so a caller that stops waiting (a cancelled RPC) does
/// not cancel it halfway: sqlx 0.9's `begin` counts the transaction only once the server has
/// answered, and its guard for a cancelled BEGIN rolls back only a transaction it counted, so
/// a BEGIN cancelled after it was sent left the connection in a transaction sqlx did not
/// know of, back in the pool; once a statement failed in it, every later one on that
/// connection failed too ("current transaction is aborted"). Finished in its task, a
/// transaction nobody takes is dropped there and rolled back as any other (sqlx issue #4393,
/// fixed upstream by transact-rs/sqlx#4394; this can go once a release carries it).
///
/// # Errors
/// The classified database error.
pub async fn begin(db: &DatabaseConnection, what: &'static str) -> Result<DatabaseTransaction, StoreError> {
    super::round_trips::count_transaction(db);
    let span = db_spans::sql(db.get_database_backend(), "BEGIN");
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    let pool = db.clone();
    let began = tokio::spawn(async move { pool.begin_with_options(options).await }.instrument(span.clone()));
    let result = match began.await {
        Ok(began) => began.classify(what),
        Err(join) => Err(StoreError::Other {
            what,
            source: DbErr::Custom(format!("the BEGIN stopped: {join}")),
        }),
    };
    db_spans::record(&span, &result, StoreError::kind);
    result
}

/// Commits a transaction.
///
/// # Errors
/// The classified database error.
pub async fn commit(transaction: DatabaseTransaction, what: &'static str) -> Result<(), StoreError> {
    let span = db_spans::sql(transaction.get_database_backend(), "COMMIT");
    let result = transaction.commit().instrument(span.clone()).await.classify(what);
    db_spans::record(&span, &result, StoreError::kind);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_gets_numbered_placeholders_and_sqlite_keeps_question_marks() {
        let sql = "UPDATE t SET a = ? WHERE b IN (?, ?)";
        assert_eq!(
            numbered_placeholders(DatabaseBackend::Postgres, sql),
            "UPDATE t SET a = $1 WHERE b IN ($2, $3)"
        );
        assert_eq!(numbered_placeholders(DatabaseBackend::Sqlite, sql), sql);
        assert_eq!(placeholders(3), "?, ?, ?");
    }

    #[test]
    fn errors_are_classified_by_kind_and_keep_what_they_were_about() {
        let busy = StoreError::classify(
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout),
            "stock",
        );
        assert!(matches!(busy, StoreError::Transient { what: "stock", .. }));
        let other = StoreError::classify(DbErr::Custom("boom".to_owned()), "order");
        assert!(matches!(other, StoreError::Other { .. }));
        assert_eq!(other.to_string(), "database error on order");
        assert_eq!(other.violation(), None);
    }
}
