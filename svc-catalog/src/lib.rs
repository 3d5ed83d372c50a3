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
//!   `stock_events.rs` (the Redis Stream consumer), `book_events.rs` (the outbox relay of
//!   book changes to `{book-events}`, which the BFF's cache follows).
//! - [`store`]: `book.rs` (entity, writes, reads), `search.rs` (the search SQL per backend),
//!   `events.rs` (the outbox).
//! - [`domain`]: `Isbn13`, `BookDraft`, `SearchQuery` and its cursor.
//! - [`policy`]: who may call each RPC. [`migration`]: the schema. [`error`]: `CatalogError`.
//! - [`settings`]: `Settings`, the `catalog.*` knobs.

pub mod domain;
pub mod error;
pub mod grpc;
pub mod metrics;
pub mod migration;
pub mod ops;
pub mod policy;
pub mod settings;
pub mod store;

use platform::ServiceName;
use platform::server::{Background, GrpcService, ServeContext};
use proto::catalog::v1::catalog_service_server::CatalogServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::ops::Catalog;
use crate::ops::stock_events::StockEventConsumer;
pub use crate::settings::Settings;

/// Serves svc-catalog on `listener` until `shutdown` is cancelled, with the stock-event
/// consumer and the book-event relay running beside it.
///
/// # Errors
/// Fails when the database cannot be reached, a migration fails, or the server or the
/// consumer stops with an error.
pub async fn serve(
    _settings: &Settings,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    platform::telemetry::metrics::recorder();
    metrics::describe();
    let (db, reads) = context.open_database_with_reads::<migration::Migrator>().await?;
    let catalog = Catalog::new(db.clone(), reads);
    let redis = context.redis();
    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(
        CatalogServiceServer::new(grpc::CatalogGrpc::new(catalog.clone()))
            .max_decoding_message_size(4 * 1024 * 1024),
    );
    let (consumer_redis, consumer) = (redis.clone(), context.replica.clone());
    let (relay, relay_redis) = (catalog.clone(), redis.clone());
    GrpcService::new(ServiceName::Catalog, routes, policy::policies())
        // An import streams as long as the file is.
        .long_running("ImportBooks")
        .readiness(platform::store::database_readiness(db))
        .readiness(redis.readiness())
        .background(redis.connector())
        .background(Background::new("stock event consumer", move |stop| {
            StockEventConsumer::follow(catalog, consumer_redis, consumer, stop)
        }))
        .background(Background::new("book event relay", move |stop| {
            relay.run_book_event_relay(relay_redis, stop)
        }))
        .serve(context, listener, shutdown)
        .await
}

/// Applies svc-catalog's pending migrations to `database_url`.
///
/// # Errors
/// Fails when the database cannot be reached or a migration fails.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    platform::store::open_database::<migration::Migrator>(database_url, true).await?;
    Ok(())
}
