//! Reads of a PostgreSQL database on connections of their own, lent without sqlx's pool.
//! sqlx's pool pings the server every time a connection goes back to it
//! (`PoolConnection::return_to_pool` in sqlx-core 0.9, with no setting to turn it off): one
//! more round trip, and a task spawned to make it, per statement: a measurable share of the
//! catalogue page's CPU, whose two reads are single statements (issue #22; figures in
//! the README's "CPU per page"). Here a connection goes back as it is: sqlx drains whatever a
//! cancelled statement left on it before its next statement, and one that failed on its
//! socket is dropped rather than lent again. Hand-written on deadpool, the crate the SQLite
//! reads already use, because no pool of sqlx's own lends without the ping. Like sea-orm's pool
//! here, a connection unlent for a while is pinged before it is lent.
//!
//! Only reads come here (a search page, stock levels); writes and their transactions stay on
//! sea-orm's pool. The connections are part of `database_pool_size`, not extra: see
//! [`super::open_database_with_reads`].

use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use sea_orm::sea_query::Values;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement,
};
use sea_query_sqlx::SqlxValues;

use super::{DATABASE_ACQUIRE_TIMEOUT_MS, POSTGRES_PING_AFTER_IDLE};

/// How long opening one connection may take, as for sea-orm's pool.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Read connections to one PostgreSQL database, opened on demand up to their number. Clone
/// it freely: clones share the connections. As a [`ConnectionTrait`] it runs queries and
/// refuses anything that writes.
#[derive(Clone)]
pub struct PostgresReads {
    connections: managed::Pool<Connector>,
}

impl std::fmt::Debug for PostgresReads {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.connections.status();
        formatter
            .debug_struct("PostgresReads")
            .field("connections", &status.size)
            .field("available", &status.available)
            .finish()
    }
}

/// Opens connections for the pool and checks one before it is lent only when it sat unlent
/// for a while (the module's why).
struct Connector {
    options: PgConnectOptions,
}

impl managed::Manager for Connector {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        PgConnection::connect_with(&self.options).await
    }

    /// Pings only a connection that sat unlent long enough for a proxy, a failover or a
    /// restart to have dropped it, as sea-orm's pool is set to ([`POSTGRES_PING_AFTER_IDLE`]);
    /// one that fails is dropped and another lent.
    async fn recycle(&self, connection: &mut PgConnection, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if metrics.last_used() >= POSTGRES_PING_AFTER_IDLE {
            connection.ping().await.map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

impl PostgresReads {
    /// `connections` read connections to the PostgreSQL database at `url`, none opened yet.
    ///
    /// # Errors
    /// Fails when `url` does not parse as a PostgreSQL URL.
    pub fn open(url: &str, connections: u32) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .with_context(|| format!("{} is not a PostgreSQL URL", super::redact(url)))?
            .disable_statement_logging();
        let wait = Duration::from_millis(u64::from(DATABASE_ACQUIRE_TIMEOUT_MS.load(Ordering::Relaxed)));
        let connections = managed::Pool::builder(Connector { options })
            .max_size(connections.max(1) as usize)
            .wait_timeout(Some(wait))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .context("failed to build the PostgreSQL read pool")?;
        Ok(Self { connections })
    }

    async fn connection(&self) -> Result<Object<Connector>, DbErr> {
        self.connections.get().await.map_err(|error| match error {
            PoolError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            PoolError::Closed | PoolError::NoRuntimeSpecified => {
                DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
            }
            // The database refused or did not answer: the same error sea-orm's pool gives.
            PoolError::Backend(error) => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(error))),
            PoolError::PostCreateHook(error) => DbErr::Custom(error.to_string()),
        })
    }

    /// Runs `statement` on a lent connection: every row, or only the first when `first`.
    async fn fetch(&self, statement: Statement, first: bool) -> Result<Vec<QueryResult>, DbErr> {
        let mut connection = self.connection().await?;
        let values = statement.values.unwrap_or(Values(Vec::new()));
        let query = sqlx::query_with(sqlx::AssertSqlSafe(statement.sql), SqlxValues(values));
        let rows = if first {
            query.fetch_optional(&mut *connection).await.map(Vec::from_iter)
        } else {
            query.fetch_all(&mut *connection).await
        };
        match rows {
            Ok(rows) => Ok(rows.into_iter().map(QueryResult::from).collect()),
            Err(error) => {
                if broken(&error) {
                    // Not lent again: the pool opens another when one is next needed.
                    drop(Object::take(connection));
                }
                Err(DbErr::Query(RuntimeErr::SqlxError(Arc::new(error))))
            }
        }
    }
}

/// Whether `error` leaves the connection unusable: its socket or the protocol failed, or the
/// server is ending the session (a connection exception, a shutdown), as opposed to a
/// statement the server refused.
fn broken(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Tls(_) | sqlx::Error::Protocol(_))
        || super::transient::is_transient_sqlx(error)
}

fn refuse_write() -> DbErr {
    DbErr::Custom("the PostgreSQL read connections run queries only".to_owned())
}

#[async_trait::async_trait]
impl ConnectionTrait for PostgresReads {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, _statement: Statement) -> Result<ExecResult, DbErr> {
        Err(refuse_write())
    }

    async fn execute_unprepared(&self, _sql: &str) -> Result<ExecResult, DbErr> {
        Err(refuse_write())
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.fetch(statement, true).await?.into_iter().next())
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.fetch(statement, false).await
    }
}
