//! Counts the round trips each database sees: every statement, and a BEGIN plus a COMMIT or
//! ROLLBACK per transaction. Tests and benchmarks hold a checkout's count down with it
//! (README, "Statements per checkout"). Off unless [`enable`] ran before the pool was opened,
//! so a deployment pays nothing; a database is known by its PostgreSQL name or SQLite file,
//! the same from a URL as from a pool, so a test reads the count of the services' pools.
//! Background loops (relays, sweepers, recovery) run [`uncounted`]: a request's count is its
//! own, whatever a loop polls meanwhile.

use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use sea_orm::{DatabaseBackend, DatabaseConnection};

tokio::task_local! {
    static UNCOUNTED: ();
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static COUNTERS: LazyLock<Mutex<HashMap<String, Arc<Counter>>>> = LazyLock::new(Mutex::default);

#[derive(Debug, Default)]
struct Counter {
    statements: AtomicU64,
    transactions: AtomicU64,
}

/// What one database has seen since its first pool was opened with counting on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundTrips {
    /// Statements sent (queries and writes), BEGIN and COMMIT not included.
    pub statements: u64,
    /// Transactions begun; each costs a BEGIN and a COMMIT (or ROLLBACK) round trip.
    pub transactions: u64,
}

impl RoundTrips {
    /// Statements plus BEGIN and COMMIT of every transaction.
    pub fn total(&self) -> u64 {
        self.statements + 2 * self.transactions
    }

    /// What happened between `earlier` and `self`.
    #[must_use]
    pub fn since(&self, earlier: RoundTrips) -> RoundTrips {
        RoundTrips {
            statements: self.statements.saturating_sub(earlier.statements),
            transactions: self.transactions.saturating_sub(earlier.transactions),
        }
    }
}

impl std::ops::Add for RoundTrips {
    type Output = RoundTrips;

    fn add(self, other: RoundTrips) -> RoundTrips {
        RoundTrips {
            statements: self.statements + other.statements,
            transactions: self.transactions + other.transactions,
        }
    }
}

/// Counts the round trips of every database pool opened from now on, in this process.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Runs `work` without counting its round trips (a service's background loops).
pub async fn uncounted<T>(work: impl Future<Output = T>) -> T {
    UNCOUNTED.scope((), work).await
}

fn counted() -> bool {
    ENABLED.load(Ordering::Relaxed) && UNCOUNTED.try_with(|()| ()).is_err()
}

/// The round trips the database at `url` has seen (zero when nothing counted it).
pub fn of_url(url: &str) -> RoundTrips {
    key_of_url(url).map(|key| snapshot(&key)).unwrap_or_default()
}

fn snapshot(key: &str) -> RoundTrips {
    let counters = COUNTERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    counters
        .get(key)
        .map(|counter| RoundTrips {
            statements: counter.statements.load(Ordering::Relaxed),
            transactions: counter.transactions.load(Ordering::Relaxed),
        })
        .unwrap_or_default()
}

fn counter(key: String) -> Arc<Counter> {
    let mut counters = COUNTERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    Arc::clone(counters.entry(key).or_default())
}

/// Counts `db`'s statements (sea-orm's metric callback sees every one), when enabled.
pub(crate) fn attach(db: &mut DatabaseConnection) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let Some(key) = key_of_pool(db) else {
        return;
    };
    let counter = counter(key);
    db.set_metric_callback(move |_| {
        if counted() {
            counter.statements.fetch_add(1, Ordering::Relaxed);
        }
    });
}

/// Counts a transaction begun on `db`, when enabled.
pub(crate) fn count_transaction(db: &DatabaseConnection) {
    if !counted() {
        return;
    }
    if let Some(key) = key_of_pool(db) {
        counter(key).transactions.fetch_add(1, Ordering::Relaxed);
    }
}

fn key_of_pool(db: &DatabaseConnection) -> Option<String> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => db
            .get_postgres_connection_pool()
            .connect_options()
            .get_database()
            .map(|name| format!("postgres:{name}")),
        DatabaseBackend::Sqlite => Some(format!(
            "sqlite:{}",
            db.get_sqlite_connection_pool()
                .connect_options()
                .get_filename()
                .display()
        )),
        _ => None,
    }
}

fn key_of_url(url: &str) -> Option<String> {
    if url.starts_with("postgres") {
        let options = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url).ok()?;
        return options.get_database().map(|name| format!("postgres:{name}"));
    }
    let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    Some(format!("sqlite:{}", options.get_filename().display()))
}
