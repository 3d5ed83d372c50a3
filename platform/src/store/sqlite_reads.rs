//! Reads of a SQLite database through rusqlite on Tokio's blocking pool, beside the sqlx pool
//! that writes it. sqlx runs each SQLite connection on a worker thread and answers every
//! statement and row over channels, copying each value out (`sqlite3_value_dup`); here one
//! hand-off to a blocking thread runs a read's statements and the rows are read in place
//! (issue #22; `sqlite_read_bench` measures both, figures in the README's "Measured
//! choices"). Writes stay on sqlx: they are few, and their transactions and migrations are
//! sea-orm's.
//!
//! The connections are read-only; in WAL mode they never wait for the writer or each other.
//! There are `database_sqlite_read_connections` of them (one per CPU by default), so reads in
//! flight follow the CPUs, not a constant; the sqlx pool is the one writer connection.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use deadpool::unmanaged::{Pool, PoolConfig, PoolError};
use rusqlite::OpenFlags;
use sea_orm::{DatabaseBackend, DbErr, RuntimeErr};

use super::{DATABASE_ACQUIRE_TIMEOUT_MS, SQLITE_MMAP_BYTES, SQLITE_READ_CONNECTIONS, StoreError};
use crate::telemetry::db_spans;

/// Prepared statements each connection keeps (rusqlite's default is 16): a search statement
/// differs by its filters, sort and page size.
const STATEMENT_CACHE: usize = 64;

/// Read-only connections to one SQLite file, lent to closures that run on the blocking pool.
/// Clone it freely: clones share the connections.
#[derive(Clone)]
pub struct SqliteReads {
    connections: Pool<rusqlite::Connection>,
}

impl std::fmt::Debug for SqliteReads {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.connections.status();
        formatter
            .debug_struct("SqliteReads")
            .field("connections", &status.size)
            .field("available", &status.available)
            .finish()
    }
}

impl SqliteReads {
    /// Opens the read connections of the SQLite database at `url` (which must exist: open it
    /// with [`super::open_database`] first); `None` when `url` is not a SQLite file.
    ///
    /// # Errors
    /// Fails when a connection cannot be opened.
    pub fn open(url: &str) -> anyhow::Result<Option<Self>> {
        let Some(path) = crate::store_path(url) else {
            return Ok(None);
        };
        let size = SQLITE_READ_CONNECTIONS.load(Ordering::Relaxed).max(1) as usize;
        let connections = Pool::from_config(&PoolConfig {
            max_size: size,
            timeout: Some(Duration::from_millis(u64::from(
                DATABASE_ACQUIRE_TIMEOUT_MS.load(Ordering::Relaxed),
            ))),
            runtime: Some(deadpool::Runtime::Tokio1),
        });
        for _ in 0..size {
            let connection = rusqlite::Connection::open_with_flags(
                path,
                // No mutex: a connection is used by one thread at a time, the pool's borrower.
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .with_context(|| format!("failed to open {path} for reading"))?;
            connection.busy_timeout(Duration::from_secs(10))?;
            connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            // Pages through one shared memory map rather than `pread` into each connection's
            // own cache: the catalogue page's count walks the whole books table, and copying
            // it out of the kernel was a fifth of `up`'s CPU.
            connection.pragma_update(None, "mmap_size", SQLITE_MMAP_BYTES)?;
            if connections.try_add(connection).is_err() {
                anyhow::bail!("the read pool of {path} refused a connection");
            }
        }
        Ok(Some(Self { connections }))
    }

    /// Runs `read` on a connection on Tokio's blocking pool, in a span named like a
    /// statement's (`SELECT <collection>`). Waits for a free connection at most
    /// `database_acquire_timeout_ms`.
    ///
    /// # Errors
    /// [`StoreError::Transient`] when no connection came free in time or SQLite stayed busy;
    /// [`StoreError::Other`] for any other failure of `read`, named `what`.
    pub async fn read<T, F>(
        &self,
        what: &'static str,
        collection: &'static str,
        read: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let span = db_spans::entity(DatabaseBackend::Sqlite, "SELECT", collection);
        let result = self.run(what, read, span.clone()).await;
        db_spans::record(&span, &result, StoreError::kind);
        result
    }

    async fn run<T, F>(&self, what: &'static str, read: F, span: tracing::Span) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let connection = self.connections.get().await.map_err(|error| {
            let refused = match error {
                PoolError::Timeout => sea_orm::error::ConnAcquireErr::Timeout,
                PoolError::Closed | PoolError::NoRuntimeSpecified => {
                    sea_orm::error::ConnAcquireErr::ConnectionClosed
                }
            };
            StoreError::Transient {
                what,
                source: DbErr::ConnectionAcquire(refused),
            }
        })?;
        // The connection goes back to the pool when the closure is done with it, even when
        // the caller stopped waiting.
        let outcome = tokio::task::spawn_blocking(move || span.in_scope(|| read(&connection))).await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(classify(what, error)),
            Err(join) => Err(StoreError::Other {
                what,
                source: DbErr::Custom(format!("the read stopped: {join}")),
            }),
        }
    }
}

/// A rusqlite failure as the store's error: SQLite busy or locked past the busy timeout is
/// transient (as on sqlx's connections); anything else is not.
fn classify(what: &'static str, error: rusqlite::Error) -> StoreError {
    let transient = matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    let source = DbErr::Query(RuntimeErr::Internal(error.to_string()));
    if transient {
        StoreError::Transient { what, source }
    } else {
        StoreError::Other { what, source }
    }
}

/// A value bound by sea-orm, as rusqlite binds it on SQLite: the same storage sqlx gives it
/// (a UUID as its 16 bytes, a boolean as 0 or 1), so a statement built for sea-orm runs here
/// unchanged.
///
/// # Errors
/// A type the mesh never binds in a read (it would be a bug to guess its storage).
pub fn sqlite_value(value: sea_orm::Value) -> rusqlite::Result<rusqlite::types::Value> {
    use rusqlite::types::Value as Sqlite;
    use sea_orm::Value as Bound;
    Ok(match value {
        Bound::Bool(Some(flag)) => Sqlite::Integer(i64::from(flag)),
        Bound::Int(Some(number)) => Sqlite::Integer(i64::from(number)),
        Bound::BigInt(Some(number)) => Sqlite::Integer(number),
        Bound::Double(Some(number)) => Sqlite::Real(number),
        Bound::String(Some(text)) => Sqlite::Text(text),
        Bound::Uuid(Some(id)) => Sqlite::Blob(id.as_bytes().to_vec()),
        Bound::Bool(None)
        | Bound::Int(None)
        | Bound::BigInt(None)
        | Bound::Double(None)
        | Bound::String(None)
        | Bound::Uuid(None) => Sqlite::Null,
        other => {
            return Err(rusqlite::Error::ToSqlConversionFailure(
                format!("no SQLite storage chosen for {other:?}").into(),
            ));
        }
    })
}

/// The bound values of a sea-orm statement, as rusqlite parameters.
///
/// # Errors
/// As [`sqlite_value`].
pub fn sqlite_parameters(statement: &sea_orm::Statement) -> rusqlite::Result<Vec<rusqlite::types::Value>> {
    statement
        .values
        .iter()
        .flat_map(|values| values.0.iter().cloned())
        .map(sqlite_value)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::ConnectionTrait as _;

    use super::*;

    #[tokio::test]
    async fn reads_see_what_sqlx_wrote_and_run_as_many_at_once_as_there_are_connections() {
        const READS: usize = 8;
        super::super::configure(16, READS as u32, 5_000, 2_000);
        let (db, directory) = super::super::tests::two_book_sqlite("rusqlite-reads").await;
        let url = format!("sqlite://{}/rusqlite-reads.db?mode=rwc", directory.display());
        let reads = SqliteReads::open(&url).unwrap().expect("a SQLite URL");
        // Every read waits inside its connection until all have one: with fewer connections
        // than reads this would time out.
        let all_in = Arc::new(std::sync::Barrier::new(READS));
        let mut pending = tokio::task::JoinSet::new();
        for _ in 0..READS {
            let (reads, all_in) = (reads.clone(), Arc::clone(&all_in));
            pending.spawn(async move {
                reads
                    .read("book", "book", move |connection| {
                        let titles: Vec<String> = connection
                            .prepare_cached("SELECT title FROM book ORDER BY id")?
                            .query_map([], |row| row.get(0))?
                            .collect::<rusqlite::Result<_>>()?;
                        all_in.wait();
                        Ok(titles)
                    })
                    .await
                    .unwrap()
            });
        }
        let titles = tokio::time::timeout(Duration::from_secs(20), pending.join_all())
            .await
            .expect("eight reads were in flight at once");
        assert_eq!(titles, vec![vec!["a".to_owned(), "b".to_owned()]; READS]);

        // A write through sqlx is seen by the next read.
        db.execute_unprepared("UPDATE book SET title = 'c' WHERE id = 2")
            .await
            .unwrap();
        let title: String = reads
            .read("book", "book", |connection| {
                connection.query_row("SELECT title FROM book WHERE id = 2", [], |row| row.get(0))
            })
            .await
            .unwrap();
        assert_eq!(title, "c");

        // A broken statement is an error naming what was read, never a panic.
        let broken = reads
            .read("book", "book", |connection| {
                connection.query_row("SELECT nothing FROM book", [], |row| row.get::<_, i64>(0))
            })
            .await
            .unwrap_err();
        assert_eq!(broken.kind(), "other");
        assert!(broken.to_string().contains("book"), "{broken}");
        // And the connection it used went back: all of them are still there.
        assert_eq!(reads.connections.status().available, READS);
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(directory);
    }

    #[test]
    fn bound_values_keep_the_storage_sqlx_gives_them() {
        use rusqlite::types::Value as Sqlite;
        let id = uuid::Uuid::now_v7();
        assert_eq!(
            sqlite_value(sea_orm::Value::Uuid(Some(id))).unwrap(),
            Sqlite::Blob(id.as_bytes().to_vec())
        );
        assert_eq!(
            sqlite_value(sea_orm::Value::Bool(Some(true))).unwrap(),
            Sqlite::Integer(1)
        );
        assert_eq!(sqlite_value(sea_orm::Value::String(None)).unwrap(), Sqlite::Null);
        assert!(sqlite_value(sea_orm::Value::Float(Some(1.0))).is_err());
    }
}
