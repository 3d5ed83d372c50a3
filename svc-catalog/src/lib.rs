//! svc-catalog: books, authors, topics, prices and the search index.
//!
//! Reads (`GetBook`, `BatchGetBooks`, `GetBookByIsbn`, `SearchBooks`, `ListTopics`) for any
//! authenticated caller; writes (`CreateBook`, `UpdateBook`, `DeleteBook`, `ImportBooks`) for
//! admins. Search runs on an index on both backends (SQLite FTS5, PostgreSQL `tsvector` +
//! GIN) with keyset pages. The `in_stock` flag follows inventory's stock events.
//!
//! # Layout
//! - [`grpc`]: the tonic adapter (`CatalogGrpc`).
//! - [`ops`]: the logic (`Catalog`): `read.rs`, `search.rs`, `admin.rs`, `import.rs`,
//!   `stock_events.rs` (the Redis Stream consumer).
//! - [`store`]: `book.rs` (entity, writes, reads), `search.rs` (the search SQL per backend).
//! - [`domain`]: `Isbn13`, `BookDraft`, `SearchQuery` and its cursor.
//! - [`policy`]: who may call each RPC. [`migration`]: the schema. [`error`]: `CatalogError`.

pub mod domain;
pub mod error;
pub mod grpc;
pub mod migration;
pub mod ops;
pub mod policy;
pub mod store;

use platform::ServiceName;
use platform::server::{GrpcService, ServeContext};
use platform::store::RedisStore;
use proto::catalog::v1::catalog_service_server::CatalogServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::ops::Catalog;
use crate::ops::stock_events::StockEventConsumer;

/// Checked settings of svc-catalog.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…?mode=rwc` (embedded) or `postgres://…`.
    pub database_url: String,
    pub migrate_on_start: bool,
    pub redis_url: String,
    /// The Redis Stream inventory publishes stock events to.
    pub stock_events_stream: String,
    /// This replica's consumer name in the group (unique per replica).
    pub consumer_name: String,
}

/// Serves svc-catalog on `listener` until `shutdown` is cancelled, with the stock-event
/// consumer running beside it.
///
/// # Errors
/// Fails when the database or Redis cannot be reached, a migration fails, or the server
/// stops with an error.
pub async fn serve(
    config: &Config,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let db =
        platform::store::open_database::<migration::Migrator>(&config.database_url, config.migrate_on_start)
            .await?;
    let catalog = Catalog::new(db.clone());
    let redis = RedisStore::connect(&config.redis_url, "").await?;
    let consumer = StockEventConsumer::new(
        catalog.clone(),
        &redis,
        config.stock_events_stream.clone(),
        config.consumer_name.clone(),
    )
    .await?;
    let consumer_task = tokio::spawn(consumer.run(shutdown.clone()));

    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(
        CatalogServiceServer::new(grpc::CatalogGrpc::new(catalog)).max_decoding_message_size(4 * 1024 * 1024),
    );
    let service = GrpcService {
        name: ServiceName::Catalog,
        routes,
        policies: policy::policies(),
        // An import streams as long as the file is.
        long_running: vec![format!("/{}/ImportBooks", policy::SERVICE)],
        readiness: vec![platform::store::database_readiness(db), redis.readiness()],
    };
    let served = platform::server::serve(service, context, listener, shutdown.clone()).await;
    shutdown.cancel();
    consumer_task.await?;
    served
}

/// Applies svc-catalog's pending migrations to `database_url`.
///
/// # Errors
/// Fails when the database cannot be reached or a migration fails.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    platform::store::open_database::<migration::Migrator>(database_url, true).await?;
    Ok(())
}
