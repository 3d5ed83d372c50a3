//! svc-inventory: stock levels, two-phase reservations that never oversell, the stock
//! ledger, and the stock events catalog follows.
//!
//! Correctness lives in the database: every change is a conditional `UPDATE` inside one
//! transaction, backed by `CHECK (0 <= reserved <= on_hand)`; no in-process lock, so any
//! number of replicas is safe. Reserve is idempotent per order, Commit and Release are
//! idempotent, a Release before Reserve leaves a tombstone, a sweeper expires HELD
//! reservations past their TTL, and an outbox relay publishes stock events.
//!
//! # Layout
//! - [`grpc`]: the tonic adapter (`InventoryGrpc`).
//! - [`ops`]: `reserve.rs`, `settle.rs` (commit, release), `stock.rs` (reads, admin writes),
//!   `sweeper.rs`, `relay.rs`.
//! - [`store`]: `stock.rs`, `reservation.rs`, `ledger.rs`, `outbox.rs`: the SQL.
//! - [`domain`]: reservation lines and states. [`clock`]: time, movable in tests.
//! - [`policy`]: who may call each RPC. [`migration`]: the schema. [`error`]: `InventoryError`.

pub mod clock;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod migration;
pub mod ops;
pub mod policy;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use platform::ServiceName;
use platform::server::{GrpcService, ServeContext};
use platform::store::RedisStore;
use proto::inventory::v1::inventory_service_server::InventoryServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::ops::Inventory;

/// Checked settings of svc-inventory.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…?mode=rwc` (embedded) or `postgres://…`.
    pub database_url: String,
    pub migrate_on_start: bool,
    pub redis_url: String,
    /// The Redis Stream stock events go to (catalog reads it).
    pub stock_events_stream: String,
    /// How long a reservation holds when Reserve does not say.
    pub default_ttl: Duration,
    /// How often the sweeper looks for expired reservations.
    pub sweep_interval: Duration,
}

/// Serves svc-inventory on `listener` until `shutdown`, with the sweeper and the outbox relay
/// running beside it.
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
    let redis = RedisStore::connect(&config.redis_url, "").await?;
    let inventory = Inventory::new(db.clone(), Arc::new(clock::SystemClock), config.default_ttl);

    let mut background = tokio::task::JoinSet::new();
    background.spawn(
        inventory
            .clone()
            .run_sweeper(config.sweep_interval, shutdown.clone()),
    );
    background.spawn(inventory.clone().run_relay(
        redis.clone(),
        config.stock_events_stream.clone(),
        Duration::from_millis(200),
        shutdown.clone(),
    ));

    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(InventoryServiceServer::new(grpc::InventoryGrpc::new(inventory)));
    let service = GrpcService {
        name: ServiceName::Inventory,
        routes,
        policies: policy::policies(),
        long_running: Vec::new(),
        readiness: vec![platform::store::database_readiness(db), redis.readiness()],
    };
    let served = platform::server::serve(service, context, listener, shutdown.clone()).await;
    shutdown.cancel();
    while background.join_next().await.is_some() {}
    served
}

/// Applies svc-inventory's pending migrations to `database_url`.
///
/// # Errors
/// Fails when the database cannot be reached or a migration fails.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    platform::store::open_database::<migration::Migrator>(database_url, true).await?;
    Ok(())
}
