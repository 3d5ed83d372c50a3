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
//! - [`upstream`]: the catalog, asked whether books exist.
//! - [`policy`]: who may call each RPC. [`migration`]: the schema. [`error`]: `InventoryError`.
//! - [`settings`]: `Settings`, the `inventory.*` knobs.

pub mod clock;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod metrics;
pub mod migration;
pub mod ops;
pub mod policy;
pub mod settings;
pub mod store;
pub mod upstream;

use std::sync::Arc;
use std::time::Duration;

use platform::ServiceName;
use platform::server::{Background, GrpcService, ServeContext};
use proto::inventory::v1::inventory_service_server::InventoryServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::ops::Inventory;
pub use crate::settings::Settings;

/// How often the relay looks for unpublished stock events when there is no backlog.
const RELAY_INTERVAL: Duration = Duration::from_millis(200);

/// Serves svc-inventory on `listener` until `shutdown`, with the sweeper and the outbox relay
/// running beside it.
///
/// # Errors
/// Fails when the database cannot be reached, a migration fails, the catalog's endpoints
/// are invalid, or the server or one of
/// its loops stops with an error.
pub async fn serve(
    settings: &Settings,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (db, reads) = context.open_database_with_reads::<migration::Migrator>().await?;
    platform::telemetry::metrics::recorder();
    metrics::describe();
    let redis = context.redis();
    let mut inventory = Inventory::new(
        db.clone(),
        Arc::new(clock::SystemClock),
        settings.reservation_ttl(),
    )
    .reading_from(reads);
    if settings.verify_books {
        inventory = inventory.verifying_books(upstream::Catalog::new(context.channel(ServiceName::Catalog)?));
    }
    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(InventoryServiceServer::new(grpc::InventoryGrpc::new(
        inventory.clone(),
    )));
    let (sweeper, sweep_interval) = (inventory.clone(), settings.sweep_interval());
    let relay_redis = redis.clone();
    GrpcService::new(ServiceName::Inventory, routes, policy::policies())
        .readiness(platform::store::database_readiness(db))
        .readiness(redis.readiness())
        .background(redis.connector())
        .background(Background::new("sweeper", move |stop| {
            sweeper.run_sweeper(sweep_interval, stop)
        }))
        .background(Background::new("stock event relay", move |stop| {
            inventory.run_relay(relay_redis, RELAY_INTERVAL, stop)
        }))
        .serve(context, listener, shutdown)
        .await
}

/// Applies svc-inventory's pending migrations to `database_url`.
///
/// # Errors
/// Fails when the database cannot be reached or a migration fails.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    platform::store::open_database::<migration::Migrator>(database_url, true).await?;
    Ok(())
}
