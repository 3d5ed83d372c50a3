//! svc-order: orders, the checkout saga, payments and order tracking.
//!
//! PlaceOrder turns the caller's cart into an order exactly once per idempotency key,
//! prices it from the catalog, reserves stock, authorizes the payment, commits the stock,
//! captures the payment and confirms. Each step is persisted before the next starts; a
//! recovery loop (safe on any number of replicas) finishes or undoes orders whose saga
//! stalled. Payments go through a [`payments::PaymentProvider`]; the built-in sandbox
//! behaves like a processor's test mode.
//!
//! # Layout
//! - [`grpc`]: the tonic adapter (`OrderGrpc`).
//! - [`saga`]: `place.rs` (input to PENDING), `drive.rs` (step by step), `compensate.rs`
//!   (void/refund, release/restock), `recovery.rs` (the loop).
//! - [`ops`]: `tracking.rs` (get, list, watch), `fulfilment.rs` (cancel, status moves).
//! - [`payments`]: the provider trait, the call record, `sandbox.rs`.
//! - [`store`]: `orders.rs`, `payments.rs`: the SQL.
//! - [`upstream`]: calls to cart, catalog, inventory and user.
//! - [`domain`]: statuses, saga steps, payment input checks. [`error`]: `OrderError`.
//! - [`policy`]: who may call each RPC. [`migration`]: the schema. [`metrics`]: checkouts.
//! - [`settings`]: `Settings`, the `order.*` knobs.

pub mod domain;
pub mod error;
pub mod grpc;
pub mod metrics;
pub mod migration;
pub mod ops;
pub mod payments;
pub mod policy;
pub mod saga;
pub mod settings;
pub mod store;
pub mod upstream;

use std::sync::Arc;

use platform::ServiceName;
use platform::server::{Background, GrpcService, ServeContext};
use proto::order::v1::order_service_server::OrderServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::payments::sandbox::SandboxProvider;
use crate::saga::{Halt, Saga};
pub use crate::settings::Settings;

/// Serves svc-order on `listener` until `shutdown` is cancelled, with the recovery loop
/// running beside it.
///
/// # Errors
/// Fails when the database cannot be opened or migrated, an upstream's endpoints are
/// invalid, or the server or the recovery loop stops with an error.
pub async fn serve(
    settings: &Settings,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    platform::telemetry::metrics::recorder();
    metrics::describe();
    let db = context.open_database::<migration::Migrator>().await?;
    let upstreams = upstream::Upstreams {
        cart: context.channel(ServiceName::Cart)?,
        catalog: context.channel(ServiceName::Catalog)?,
        inventory: context.channel(ServiceName::Inventory)?,
        user: context.channel(ServiceName::User)?,
    };
    let provider = Arc::new(SandboxProvider::new(db.clone(), settings.sandbox_faults()));
    let payments = payments::Payments::new(provider, db.clone(), settings.payment_timeout());
    let halt = Halt {
        at: settings.halt_at,
        shutdown: shutdown.clone(),
    };
    let saga = Saga::new(db.clone(), upstreams, payments, settings.saga(), halt);
    let orders = ops::Orders {
        saga: saga.clone(),
        watch_poll: settings.watch_poll(),
    };
    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(OrderServiceServer::new(grpc::OrderGrpc::new(orders)));
    GrpcService::new(ServiceName::Order, routes, policy::policies())
        .long_running("WatchOrder")
        .readiness(platform::store::database_readiness(db))
        .background(Background::new("recovery", move |stop| saga.run_recovery(stop)))
        .serve(context, listener, shutdown)
        .await
}

/// Applies svc-order's pending migrations to `database_url`.
///
/// # Errors
/// Fails when the database cannot be reached or a migration fails.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    platform::store::open_database::<migration::Migrator>(database_url, true).await?;
    Ok(())
}
