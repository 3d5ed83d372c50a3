//! Client spans for store calls: one per SQL statement run through
//! [`crate::store::execute`]/[`crate::store::query`] (and `begin`/`commit`), and one per
//! Redis command or pipeline sent on a [`crate::store::RedisConnection`], with the
//! OpenTelemetry database conventions (`db.system.name`, `db.operation.name`,
//! `db.collection.name`, span `{operation} {collection}`).
//!
//! Only while traces are exported, and only inside a span: spans that go nowhere would be
//! pure cost on the hottest paths (a few microseconds each, against the tens a query takes:
//! the README, "Observability"), and a store call made while serving a request joins its
//! trace while the loops that poll a store on their own (relays, sweepers, the stock-event
//! consumer) start no trace of their own every few hundred milliseconds. When not wanted a
//! store call pays one atomic load.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::Empty;

/// Whether spans are exported (set once by [`super::init`]).
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Turns store spans on or off; [`super::init`] turns them on when it builds an exporter.
pub fn set_exporting(exporting: bool) {
    EXPORTING.store(exporting, Ordering::Relaxed);
}

/// Whether a store call now gets a span.
fn wanted() -> bool {
    EXPORTING.load(Ordering::Relaxed) && !tracing::Span::current().is_none()
}

/// `sqlite` or `postgresql`, as the conventions spell them.
pub fn sql_system(backend: sea_orm::DatabaseBackend) -> &'static str {
    match backend {
        sea_orm::DatabaseBackend::Postgres => "postgresql",
        sea_orm::DatabaseBackend::Sqlite => "sqlite",
        _ => "other_sql",
    }
}

/// The operation and the table of a statement: `SELECT … FROM books` is (`SELECT`,
/// `Some("books")`); a statement it cannot read is its first word and no table.
pub fn sql_summary(sql: &str) -> (String, Option<&str>) {
    let mut words = sql.split_ascii_whitespace();
    let operation = words.next().unwrap_or("QUERY").to_ascii_uppercase();
    // The word after the one that names the table in each kind of statement.
    let before_table: &[&str] = match operation.as_str() {
        "SELECT" | "DELETE" => &["FROM"],
        "INSERT" => &["INTO"],
        "UPDATE" => &["UPDATE"],
        _ => &[],
    };
    let table = if operation == "UPDATE" {
        words.next()
    } else {
        words
            .by_ref()
            .skip_while(|word| {
                !before_table
                    .iter()
                    .any(|marker| word.eq_ignore_ascii_case(marker))
            })
            .nth(1)
    };
    let table = table
        .map(|name| name.trim_matches(|c: char| c == '"' || c == '(' || c == ')' || c == ','))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    (operation, table)
}

/// The span of one SQL statement, or a disabled span when none is wanted.
pub fn sql(backend: sea_orm::DatabaseBackend, sql: &str) -> tracing::Span {
    if !wanted() {
        return tracing::Span::none();
    }
    let (operation, table) = sql_summary(sql);
    statement(backend, &operation, table)
}

/// The span of a call through sea-orm's entity API, named as a statement's would be
/// (`SELECT books`), or a disabled span when none is wanted.
pub fn entity(backend: sea_orm::DatabaseBackend, operation: &str, collection: &str) -> tracing::Span {
    if !wanted() {
        return tracing::Span::none();
    }
    statement(backend, operation, Some(collection))
}

fn statement(backend: sea_orm::DatabaseBackend, operation: &str, table: Option<&str>) -> tracing::Span {
    let name = match table {
        Some(table) => format!("{operation} {table}"),
        None => operation.to_owned(),
    };
    tracing::info_span!(
        "db.query",
        otel.name = %name,
        otel.kind = "client",
        db.system.name = sql_system(backend),
        db.operation.name = operation,
        db.collection.name = table,
        otel.status_code = Empty,
        error.type = Empty,
    )
}

/// The span of one Redis command (`operation` gives its name, `EVALSHA` for a script) or of
/// a pipeline, or a disabled span when none is wanted.
pub fn redis(operation: impl FnOnce() -> std::borrow::Cow<'static, str>) -> tracing::Span {
    if !wanted() {
        return tracing::Span::none();
    }
    let operation = operation();
    tracing::info_span!(
        "redis.command",
        otel.name = &*operation,
        otel.kind = "client",
        db.system.name = "redis",
        db.operation.name = &*operation,
        otel.status_code = Empty,
        error.type = Empty,
    )
}

/// Marks `span` failed when `result` is an error.
pub fn record<T, E>(span: &tracing::Span, result: &Result<T, E>, kind: impl FnOnce(&E) -> &'static str) {
    if let Err(error) = result {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", kind(error));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_is_summarised_by_its_operation_and_table() {
        let cases = [
            (
                "SELECT id, title FROM books WHERE id = ?",
                "SELECT",
                Some("books"),
            ),
            ("select * from \"orders\" where id = $1", "SELECT", Some("orders")),
            (
                "INSERT INTO reservations (id) VALUES (?)",
                "INSERT",
                Some("reservations"),
            ),
            (
                "UPDATE stock SET on_hand = on_hand - ? WHERE book_id = ?",
                "UPDATE",
                Some("stock"),
            ),
            ("DELETE FROM carts WHERE id = ?", "DELETE", Some("carts")),
            ("SELECT 1", "SELECT", None),
            ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH", None),
            ("", "QUERY", None),
        ];
        for (sql, operation, table) in cases {
            assert_eq!(sql_summary(sql), (operation.to_owned(), table), "{sql}");
        }
    }

    #[test]
    fn outside_a_span_a_store_call_opens_none() {
        // Other tests never need it off: they assert nothing about store spans.
        set_exporting(true);
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, || {
            assert!(sql(sea_orm::DatabaseBackend::Sqlite, "SELECT 1").is_none());
            assert!(redis(|| "GET".into()).is_none());
            let request = tracing::info_span!("request");
            let _entered = request.enter();
            assert!(!sql(sea_orm::DatabaseBackend::Sqlite, "SELECT 1").is_none());
            assert!(!redis(|| "GET".into()).is_none());
        });
    }
}
