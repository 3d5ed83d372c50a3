//! Connecting to the stores: SQLite or PostgreSQL from one URL (with migrations), and Redis
//! (one node or a cluster) under a key prefix.

mod connection;
mod lazy;
pub mod outbox;
mod postgres_reads;
pub mod round_trips;
mod sql;
mod sqlite_reads;
mod stream;
mod transient;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use redis::TlsCertificates;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend, SqliteTransactionMode,
    TransactionOptions, TransactionTrait as _,
};
use sea_orm_migration::MigratorTrait;

use crate::server::ReadinessCheck;

pub use connection::{CLUSTER_SCHEME, CLUSTER_TLS_SCHEME, RedisConnection, cluster_nodes};
pub use lazy::LazyRedis;
pub use postgres_reads::PostgresReads;
pub use sql::{
    Classify, StoreError, Violation, begin, column, commit, execute, numbered_placeholders, placeholders,
    query, statement, traced,
};
pub use sqlite_reads::{SqliteReads, sqlite_parameters, sqlite_value};
pub use stream::stream_entries;
pub use transient::is_transient;

/// The Redis Stream (a key under the deployment's prefix) inventory publishes stock changes
/// to and catalog follows. Its own hash tag: on a cluster it lives in one slot, whichever
/// the prefix, and catalog's blocking reads go to the master of that slot.
pub const STOCK_EVENTS: &str = "{stock-events}";
/// The Redis Stream catalog publishes book changes to (created, updated, deleted, imported)
/// and the BFF's catalogue cache follows; its own hash tag, like [`STOCK_EVENTS`].
pub const BOOK_EVENTS: &str = "{book-events}";

/// How long a PostgreSQL connection may sit idle before it is pinged on its next acquire.
const POSTGRES_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The most connections a PostgreSQL pool opens; one process-wide setting.
static POSTGRES_POOL_SIZE: AtomicU32 = AtomicU32::new(16);
/// Read-only connections to each SQLite file ([`SqliteReads`]); one process-wide setting. In
/// WAL mode readers never wait for each other or for the writer, so the catalogue's reads
/// scale with the connections: the default follows the CPUs (see
/// [`default_sqlite_read_connections`]), as a constant four left twelve of sixteen cores idle
/// behind four busy `sqlx-sqlite-worker` threads (issue #22).
static SQLITE_READ_CONNECTIONS: AtomicU32 = AtomicU32::new(SQLITE_READ_CONNECTIONS_FLOOR);
/// Connections of a SQLite file's sqlx pool, which every write goes through: one. SQLite
/// takes one writer at a time whatever the connections; with several, a writer that loses
/// the lock sleeps in its busy handler (naps of up to 100 ms, no queue). On one connection
/// writers wait in the pool's queue in arrival order, which cut the checkout's p99 (figures:
/// the README's "Measured choices").
const SQLITE_WRITER_CONNECTIONS: u32 = 1;
/// How long a query may wait for a pooled connection, in milliseconds.
static DATABASE_ACQUIRE_TIMEOUT_MS: AtomicU32 = AtomicU32::new(5_000);
/// How long Redis may take to answer one command, in milliseconds.
static REDIS_TIMEOUT_MS: AtomicU32 = AtomicU32::new(2_000);

/// How much of a SQLite file its read connections map into memory (address space, not
/// memory: the pages are the kernel's page cache, shared by every connection and process).
/// Every mapped page the process touches counts in its RSS, so only connections whose reads
/// walk the data map it; the writer reads through its own bounded page cache.
const SQLITE_MMAP_BYTES: i64 = 1 << 30;
/// The page cache of a SQLite file's writer, in KiB (SQLite's default is 2 MiB): a write
/// touches the right edge of each table and index it appends to and the pages of the rows
/// it updates; the rest of the file waits in the kernel's page cache, a `pread` away.
const SQLITE_WRITER_CACHE_KIB: u32 = 1024;

/// The fewest SQLite connections the default gives: what the pool had before it followed
/// the CPUs (a read, a write and room for a slow one beside them).
pub const SQLITE_READ_CONNECTIONS_FLOOR: u32 = 4;
/// The most SQLite connections the default gives, however many CPUs: each is a thread with
/// its own page cache (about 2 MiB), and past the CPUs more only queue in the kernel.
pub const SQLITE_READ_CONNECTIONS_CEILING: u32 = 64;

/// Default of `database_sqlite_read_connections`: one connection per CPU this process may
/// use, within [`SQLITE_READ_CONNECTIONS_FLOOR`] and [`SQLITE_READ_CONNECTIONS_CEILING`].
pub fn default_sqlite_read_connections() -> u32 {
    let cpus = u32::try_from(crate::server::available_cpus()).unwrap_or(u32::MAX);
    cpus.clamp(SQLITE_READ_CONNECTIONS_FLOOR, SQLITE_READ_CONNECTIONS_CEILING)
}

/// Default of `database_pool_size` (PostgreSQL): 8 connections per CPU, at least 16 (what
/// it was before it followed the CPUs) and at most 24, so `bookstore up`'s four SQL
/// services stay under PostgreSQL's default `max_connections` of 100 on any machine. A
/// replica waits on PostgreSQL's round trips, not its own CPU, so a few per CPU keep it busy.
pub fn default_postgres_pool_size() -> u32 {
    let cpus = u32::try_from(crate::server::available_cpus()).unwrap_or(u32::MAX);
    cpus.saturating_mul(8).clamp(16, 24)
}

/// Process-wide store settings (the binary's `database_pool_size`,
/// `database_sqlite_read_connections`, `database_acquire_timeout_ms` and
/// `redis_timeout_ms`): size the pools so replicas × services fit the server's
/// `max_connections` and SQLite's reads use the machine, and the waits so a burst queues
/// instead of failing, while a dead store still shows as an error, not a hang.
pub fn configure(
    pool_size: u32,
    sqlite_read_connections: u32,
    acquire_timeout_ms: u32,
    redis_timeout_ms: u32,
) {
    POSTGRES_POOL_SIZE.store(pool_size.max(1), Ordering::Relaxed);
    SQLITE_READ_CONNECTIONS.store(sqlite_read_connections.max(1), Ordering::Relaxed);
    DATABASE_ACQUIRE_TIMEOUT_MS.store(acquire_timeout_ms.max(1), Ordering::Relaxed);
    REDIS_TIMEOUT_MS.store(redis_timeout_ms.max(1), Ordering::Relaxed);
}

/// How long Redis may take to answer one command (see [`configure`]).
pub(crate) fn redis_timeout() -> Duration {
    Duration::from_millis(u64::from(REDIS_TIMEOUT_MS.load(Ordering::Relaxed)))
}

/// Opens a pool on `url` (`sqlite://path?mode=rwc` or `postgres://…`). For SQLite it creates
/// the file's directory and turns on WAL, foreign keys and a busy timeout, so concurrent
/// writers wait instead of failing.
///
/// # Errors
/// Fails when the directory cannot be created or the database does not answer.
pub async fn connect_database(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect(
        url,
        SQLITE_WRITER_CONNECTIONS,
        SqliteMap::Unmapped,
        postgres_pool_size(),
    )
    .await
}

fn postgres_pool_size() -> u32 {
    POSTGRES_POOL_SIZE.load(Ordering::Relaxed)
}

/// [`connect_database`], with `connections` in a SQLite file's sqlx pool instead of the one
/// writer, each mapping the file as the read connections do: for `sqlite_read_bench`, which
/// measures sqlx's reads against the read connections at the same count. The services use
/// [`connect_database`].
///
/// # Errors
/// As [`connect_database`].
pub async fn connect_with_sqlite_connections(
    url: &str,
    connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    connect(url, connections, SqliteMap::Mapped, postgres_pool_size()).await
}

/// Whether a SQLite connection reads its file through a memory map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SqliteMap {
    Mapped,
    /// Through the connection's own page cache ([`SQLITE_WRITER_CACHE_KIB`]), which stays
    /// that size however large the file grows; a map's touched pages stayed in the RSS.
    Unmapped,
}

/// `sqlite_connections` and `map` apply to a SQLite file, `postgres_connections` to PostgreSQL.
async fn connect(
    url: &str,
    sqlite_connections: u32,
    map: SqliteMap,
    postgres_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_millis(u64::from(
            DATABASE_ACQUIRE_TIMEOUT_MS.load(Ordering::Relaxed),
        )))
        .sqlx_logging(false);
    if let Some(path) = crate::store_path(url) {
        if let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create {}", parent.display()))?;
        }
        options
            .max_connections(sqlite_connections.max(1))
            // A file never hangs up: sqlx's ping before every acquire was one more trip to the
            // connection's worker thread per statement, for nothing.
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(move |sqlite| {
                let sqlite = sqlite
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                match map {
                    SqliteMap::Mapped => sqlite.pragma("mmap_size", SQLITE_MMAP_BYTES.to_string()),
                    // Negative: a size in KiB rather than in pages.
                    SqliteMap::Unmapped => sqlite.pragma("cache_size", format!("-{SQLITE_WRITER_CACHE_KIB}")),
                }
            });
    } else {
        options
            .max_connections(postgres_connections.max(1))
            // Ping only a connection that sat idle long enough for a proxy, a failover or a
            // restart to have dropped it; a busy one goes straight to its statement rather
            // than paying a round trip first.
            .test_before_acquire_if_idle_for(POSTGRES_PING_AFTER_IDLE);
    }
    let mut db = Database::connect(options)
        .await
        .with_context(|| format!("failed to connect to database {}", redact(url)))?;
    round_trips::attach(&mut db);
    Ok(db)
}

/// Connects to `url` and, when `run_migrations` is set, applies `M`'s pending migrations.
///
/// # Errors
/// Fails when the database does not answer or a migration fails.
pub async fn open_database<M: MigratorTrait>(
    url: &str,
    run_migrations: bool,
) -> anyhow::Result<DatabaseConnection> {
    let db = connect_database(url).await?;
    if run_migrations {
        migrate::<M>(&db).await?;
    }
    Ok(db)
}

/// Where a service's hot reads go, beside the pool its writes use.
#[derive(Debug, Clone)]
pub enum Reads {
    /// Read-only rusqlite connections to the SQLite file.
    Sqlite(SqliteReads),
    /// PostgreSQL connections lent without sqlx's ping on return.
    Postgres(PostgresReads),
}

/// A PostgreSQL `database_pool_size` split into (read connections, the rest): a quarter for
/// the reads, which are single statements holding a connection for a round trip; the rest
/// hold theirs for a transaction. Under four, none: the reads share the pool, which a
/// transaction would otherwise wait behind a read connection for.
fn postgres_connection_split(pool_size: u32) -> (u32, u32) {
    let reads = pool_size / 4;
    (reads, pool_size.saturating_sub(reads).max(1))
}

/// [`open_database`], plus the connections the service's hot reads go through
/// ([`Reads`]; `None` on a PostgreSQL pool of under four, whose reads share it). On
/// PostgreSQL the two together open at most `database_pool_size` connections, so the
/// deployment's sum against `max_connections` stays what it was.
///
/// # Errors
/// As [`open_database`], and when the read connections cannot be opened.
pub async fn open_database_with_reads<M: MigratorTrait>(
    url: &str,
    run_migrations: bool,
) -> anyhow::Result<(DatabaseConnection, Option<Reads>)> {
    let (read_connections, write_connections) = postgres_connection_split(postgres_pool_size());
    let db = connect(
        url,
        SQLITE_WRITER_CONNECTIONS,
        SqliteMap::Unmapped,
        write_connections,
    )
    .await?;
    if run_migrations {
        migrate::<M>(&db).await?;
    }
    let reads = match SqliteReads::open(url)? {
        Some(sqlite) => Some(Reads::Sqlite(sqlite)),
        None if read_connections > 0 => Some(Reads::Postgres(PostgresReads::open(url, read_connections)?)),
        None => None,
    };
    Ok((db, reads))
}

/// Key of the PostgreSQL advisory lock every migration run holds (any fixed number; it
/// spells "bookmigr"), so replicas starting together with `migrate_on_start` take turns.
const MIGRATION_LOCK_KEY: i64 = 0x626f_6f6b_6d69_6772;

/// Applies every pending migration of `M`, in one transaction per run: on PostgreSQL it
/// first takes an advisory transaction lock (`pg_advisory_xact_lock`, released by the
/// COMMIT or ROLLBACK), on SQLite it begins `IMMEDIATE` (SQLite's own write lock; the busy
/// timeout makes a second writer wait). A replica that waited finds nothing pending, so N
/// replicas apply each migration once, and a failed run leaves no half-applied migration.
///
/// # Errors
/// Fails when the lock cannot be taken or a migration fails (nothing of the run is kept).
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection) -> anyhow::Result<()> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    let transaction = db
        .begin_with_options(options)
        .await
        .context("failed to begin the migration transaction")?;
    if db.get_database_backend() == DbBackend::Postgres {
        transaction
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [MIGRATION_LOCK_KEY.into()],
            ))
            .await
            .context("failed to take the migration lock")?;
    }
    M::up(&transaction, None)
        .await
        .context("failed to run migrations")?;
    transaction.commit().await.context("failed to commit migrations")
}

/// Returns a readiness check that pings the database.
pub fn database_readiness(db: DatabaseConnection) -> ReadinessCheck {
    std::sync::Arc::new(move || {
        let db = db.clone();
        Box::pin(async move {
            db.execute_unprepared("SELECT 1")
                .await
                .map(|_| ())
                .map_err(|error| format!("database: {error}"))
        })
    })
}

/// Reads the PEM CA certificates of `redis_tls_ca_file`.
///
/// # Errors
/// Fails, naming the file, when it cannot be read or holds no PEM certificate that parses.
pub fn read_ca_file(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let pem = std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
    let mut certificates = 0;
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        certificate.with_context(|| format!("{} holds a certificate that does not parse", path.display()))?;
        certificates += 1;
    }
    if certificates == 0 {
        anyhow::bail!("{} holds no PEM certificate", path.display());
    }
    Ok(pem)
}

/// Whether `error` says that a TLS peer's certificate was not trusted (an unknown issuer, a
/// wrong name, expired): a configuration error, unlike a Redis that is late.
pub fn is_untrusted_certificate(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| matches!(rustls_error(cause), Some(rustls::Error::InvalidCertificate(_))))
}

/// The rustls error inside `error`: itself, inside an `io::Error` (tokio-rustls), or inside
/// the `Arc` the redis crate keeps its causes in.
fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(rustls) = error.downcast_ref::<rustls::Error>() {
        return Some(rustls);
    }
    if let Some(shared) = error.downcast_ref::<Arc<dyn std::error::Error + Send + Sync>>() {
        return rustls_error(shared.as_ref());
    }
    let io = error.downcast_ref::<std::io::Error>()?;
    io.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// Hides the password of a database URL for log lines and errors.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => format!("{scheme}://{credentials}@{host}"),
    }
}

/// A Redis connection whose keys all live under one prefix, so tests and tenants never
/// collide. It reconnects by itself; clones share the connection. `url` is a single node
/// (`redis://`, `rediss://`) or a cluster (`redis-cluster://host:port,host:port`, or
/// `redis-cluster+tls://…`).
#[derive(Clone)]
pub struct RedisStore {
    /// The single-node client, for dedicated connections; `None` on a cluster.
    client: Option<redis::Client>,
    /// A cluster's node URLs (scheme and credentials for a dedicated connection to one node).
    cluster_nodes: Vec<String>,
    /// PEM CA certificates that replace the system's roots for TLS (`redis_tls_ca_file`).
    ca_pem: Option<Arc<Vec<u8>>>,
    connection: RedisConnection,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("cluster", &self.client.is_none())
            .finish_non_exhaustive()
    }
}

/// The certificates a TLS connection trusts: `ca_pem` instead of the system's roots.
fn certificates(ca_pem: Option<&Arc<Vec<u8>>>) -> Option<TlsCertificates> {
    ca_pem.map(|pem| TlsCertificates {
        client_tls: None,
        root_cert: Some(pem.as_ref().clone()),
    })
}

/// A client of one node, trusting `ca_pem` when given (for `rediss://`).
fn node_client(url: &str, ca_pem: Option<&Arc<Vec<u8>>>) -> redis::RedisResult<redis::Client> {
    match certificates(ca_pem) {
        Some(certificates) if url.starts_with("rediss://") => {
            redis::Client::build_with_tls(url, certificates)
        }
        _ => redis::Client::open(url),
    }
}

impl RedisStore {
    /// Connects to `url`, failing fast when Redis does not answer.
    ///
    /// # Errors
    /// Fails with a message naming the URL when Redis cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        Self::connect_with_ca(url, prefix, None).await
    }

    /// [`RedisStore::connect`], trusting the PEM CA certificates `ca_pem` for TLS instead
    /// of the system's roots.
    ///
    /// # Errors
    /// Fails with a message naming the URL when Redis cannot be reached or its certificate
    /// is not trusted.
    pub async fn connect_with_ca(
        url: &str,
        prefix: &str,
        ca_pem: Option<Arc<Vec<u8>>>,
    ) -> anyhow::Result<Self> {
        if let Some(nodes) = cluster_nodes(url) {
            let nodes = nodes.with_context(|| format!("invalid redis url {}", redact(url)))?;
            let connection = connection::connect_cluster(nodes.clone(), certificates(ca_pem.as_ref()))
                .await
                .with_context(|| format!("redis cluster at {} does not answer", redact(url)))?;
            return Ok(Self {
                client: None,
                cluster_nodes: nodes,
                ca_pem,
                connection: RedisConnection::Cluster(connection),
                prefix: prefix.to_owned(),
            });
        }
        let client = node_client(url, ca_pem.as_ref())
            .with_context(|| format!("invalid redis url {}", redact(url)))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connection::NODE_TIMEOUT))
            .set_response_timeout(Some(redis_timeout()))
            .set_number_of_retries(2);
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .with_context(|| format!("redis at {} does not answer", redact(url)))?;
        Ok(Self {
            client: Some(client),
            cluster_nodes: Vec::new(),
            ca_pem,
            connection: RedisConnection::Single(connection),
            prefix: prefix.to_owned(),
        })
    }

    /// Returns `<prefix>:<name>`.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// Returns the prefix every key of this store starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Returns a connection handle (cheap: one multiplexed connection per node, shared).
    pub fn connection(&self) -> RedisConnection {
        self.connection.clone()
    }

    /// Opens a connection of its own for blocking commands (`XREADGROUP … BLOCK`) on `key`,
    /// which would stall every other user of the shared multiplexed connection. On a
    /// cluster it goes to the master serving `key`'s slot (a command there that meets a
    /// moved slot fails, and its caller opens a new one). Its response timeout is `block`
    /// plus a margin.
    ///
    /// # Errors
    /// Fails when Redis does not answer.
    pub async fn dedicated_connection(
        &self,
        block: Duration,
        key: &str,
    ) -> anyhow::Result<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(block + Duration::from_secs(2)))
            .set_number_of_retries(2);
        let client = match (&self.client, &self.connection) {
            (Some(client), _) => client.clone(),
            (None, RedisConnection::Cluster(cluster)) => {
                let (host, port) = connection::master_of_key(&mut cluster.clone(), key).await?;
                let template = self
                    .cluster_nodes
                    .first()
                    .map(String::as_str)
                    .unwrap_or("redis://");
                node_client(&connection::node_url(template, &host, port), self.ca_pem.as_ref())
                    .context("invalid redis cluster node")?
            }
            (None, RedisConnection::Single(_)) => {
                anyhow::bail!("a single-node redis store without its client")
            }
        };
        client
            .get_connection_manager_with_config(config)
            .await
            .context("redis does not answer")
    }

    /// Returns a readiness check that sends a real `PING` (on a cluster, to every master).
    pub fn readiness(&self) -> ReadinessCheck {
        let store = self.clone();
        std::sync::Arc::new(move || {
            let connection = store.connection();
            Box::pin(async move {
                match connection {
                    RedisConnection::Cluster(mut cluster) => {
                        connection::ping_every_master(&mut cluster).await
                    }
                    RedisConnection::Single(mut single) => redis::cmd("PING")
                        .query_async::<String>(&mut single)
                        .await
                        .map(|_| ())
                        .map_err(|error| format!("redis: {error}")),
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SQLite file of its own under the temp dir, with books 1 'a' and 2 'b'.
    pub(super) async fn two_book_sqlite(name: &str) -> (DatabaseConnection, std::path::PathBuf) {
        let directory = std::env::temp_dir().join(format!("store-{name}-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}/{name}.db?mode=rwc", directory.display());
        let db = connect_database(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE book (id INTEGER PRIMARY KEY, title TEXT)")
            .await
            .unwrap();
        db.execute_unprepared("INSERT INTO book (id, title) VALUES (1, 'a'), (2, 'b')")
            .await
            .unwrap();
        (db, directory)
    }

    #[tokio::test]
    async fn sqlite_writes_take_turns_on_one_connection_while_reads_go_on_beside_them() {
        let (db, directory) = two_book_sqlite("writer").await;
        let url = format!("sqlite://{}/writer.db?mode=rwc", directory.display());
        let reads = SqliteReads::open(&url).unwrap().expect("a SQLite URL");
        let transaction = begin(&db, "book").await.unwrap();
        transaction
            .execute_unprepared("UPDATE book SET title = 'held' WHERE id = 1")
            .await
            .unwrap();
        // Twenty writers while the lock is held: they queue for the one connection; with a
        // connection each they would nap in SQLite's busy handler instead.
        let mut writers = tokio::task::JoinSet::new();
        for round in 0..20 {
            let db = db.clone();
            writers.spawn(async move {
                db.execute_unprepared(&format!("UPDATE book SET title = 'w{round}' WHERE id = 2"))
                    .await
                    .map(|_| ())
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            writers.try_join_next().is_none(),
            "a write went past the open transaction"
        );
        // Reads do not wait for the writer: they see the last committed titles.
        let titles: Vec<String> = reads
            .read("book", "book", |connection| {
                connection
                    .prepare_cached("SELECT title FROM book ORDER BY id")?
                    .query_map([], |row| row.get(0))?
                    .collect()
            })
            .await
            .unwrap();
        assert_eq!(titles, ["a", "b"]);
        commit(transaction, "book").await.unwrap();
        for write in writers.join_all().await {
            write.expect("every queued write ran, none refused as busy");
        }
        assert_eq!(db.get_sqlite_connection_pool().size(), 1);
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(directory);
    }

    async fn pragma(db: &DatabaseConnection, name: &str) -> i64 {
        let rows = query(db, "pragma", &format!("PRAGMA {name}"), []).await.unwrap();
        rows[0].try_get_by_index(0).unwrap()
    }

    #[tokio::test]
    async fn only_sqlite_read_connections_map_the_file() {
        // A mapped page the process touched stays in its RSS, so a writer that mapped the
        // file grew with every order it stored (issue #23); reads that walk the books keep
        // the map, where it saved copying them out of the kernel.
        let (db, directory) = two_book_sqlite("mapped").await;
        let url = format!("sqlite://{}/mapped.db?mode=rwc", directory.display());
        assert_eq!(
            pragma(&db, "mmap_size").await,
            0,
            "the writer reads through its page cache"
        );
        assert_eq!(
            pragma(&db, "cache_size").await,
            -i64::from(SQLITE_WRITER_CACHE_KIB)
        );
        let reads = SqliteReads::open(&url).unwrap().expect("a SQLite URL");
        let read_map: i64 = reads
            .read("pragma", "book", |connection| {
                connection.query_row("PRAGMA mmap_size", [], |row| row.get(0))
            })
            .await
            .unwrap();
        assert_eq!(read_map, SQLITE_MMAP_BYTES);
        let bench = connect_with_sqlite_connections(&url, 2).await.unwrap();
        assert_eq!(
            pragma(&bench, "mmap_size").await,
            SQLITE_MMAP_BYTES,
            "the bench's sqlx reads map as the read connections do"
        );
        bench.close().await.unwrap();
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(directory);
    }

    #[tokio::test]
    async fn a_write_transaction_that_reads_first_waits_for_another_writer_instead_of_failing() {
        // A deferred transaction's read pins a snapshot; when another connection commits
        // before the transaction's first write, SQLite refuses that write at once
        // (SQLITE_BUSY_SNAPSHOT, no busy wait): the catalog's DeleteBook failed that way
        // beside its outbox relay. `begin` takes the write lock up front instead.
        let (db, directory) = two_book_sqlite("writes").await;
        let transaction = begin(&db, "book").await.unwrap();
        transaction
            .query_all_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "SELECT title FROM book",
            ))
            .await
            .unwrap();
        let other = db.clone();
        let other_writer = tokio::spawn(async move {
            other
                .execute_unprepared("UPDATE book SET title = 'other' WHERE id = 2")
                .await
                .map(|_| ())
        });
        // Long enough for the other write to commit if nothing held it back.
        tokio::time::sleep(Duration::from_millis(300)).await;
        transaction
            .execute_unprepared("UPDATE book SET title = 'mine' WHERE id = 1")
            .await
            .expect("the write after a read is not refused");
        transaction.commit().await.unwrap();
        other_writer
            .await
            .unwrap()
            .expect("the other writer waited its turn");
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(directory);
    }

    #[test]
    fn the_default_sqlite_pool_follows_the_cpus_between_its_floor_and_ceiling() {
        let cpus = u32::try_from(crate::server::available_cpus()).unwrap();
        assert_eq!(
            default_sqlite_read_connections(),
            cpus.clamp(SQLITE_READ_CONNECTIONS_FLOOR, SQLITE_READ_CONNECTIONS_CEILING)
        );
        assert!(default_postgres_pool_size() >= 16 && default_postgres_pool_size() <= 24);
    }

    #[test]
    fn the_read_connections_come_out_of_the_pool_size() {
        let splits = [
            (24, (6, 18)),
            (16, (4, 12)),
            (8, (2, 6)),
            (4, (1, 3)),
            (3, (0, 3)),
            (1, (0, 1)),
        ];
        for (pool_size, split) in splits {
            assert_eq!(postgres_connection_split(pool_size), split, "{pool_size}");
        }
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/user"),
            "postgres://app:***@db:5432/user"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            redact("sqlite://data/user.db?mode=rwc"),
            "sqlite://data/user.db?mode=rwc"
        );
        assert_eq!(
            redact("redis-cluster://app:s3cret@a:1,b:2"),
            "redis-cluster://app:***@a:1,b:2"
        );
    }

    #[test]
    fn sqlite_paths_are_found_in_urls() {
        assert_eq!(
            crate::store_path("sqlite://data/user.db?mode=rwc"),
            Some("data/user.db")
        );
        assert_eq!(crate::store_path("sqlite::memory:"), None);
        assert_eq!(crate::store_path("postgres://x"), None);
    }
}
