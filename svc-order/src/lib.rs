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
//! - [`store`]: `orders.rs`, `payments.rs`: the SQL. [`view`]: rows to wire orders.
//! - [`upstream`]: calls to cart, catalog, inventory and user.
//! - [`domain`]: statuses, saga steps, payment input checks. [`error`]: `OrderError`.
//! - [`policy`]: who may call each RPC. [`migration`]: the schema.

pub mod domain;
pub mod error;
pub mod grpc;
pub mod migration;
pub mod ops;
pub mod payments;
pub mod policy;
pub mod saga;
pub mod store;
pub mod upstream;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

use platform::ServiceName;
use platform::client::{MeshChannel, UpstreamConfig};
use platform::server::{GrpcService, ServeContext};
use proto::order::v1::order_service_server::OrderServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::domain::HaltPoint;
use crate::payments::sandbox::{SandboxFaults, SandboxProvider};
use crate::saga::{Halt, Saga, SagaSettings};

/// Checked settings of svc-order.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…?mode=rwc` (embedded) or `postgres://…` (one database per service).
    pub database_url: String,
    /// Apply pending migrations before serving (`bookstore migrate` does it otherwise).
    pub migrate_on_start: bool,
    pub saga: SagaSettings,
    /// How often WatchOrder re-reads an order.
    pub watch_poll: Duration,
    /// Fault injection of the sandbox payment provider.
    pub sandbox_faults: SandboxFaults,
    /// The deadline of every payment provider call.
    pub payment_timeout: Duration,
    /// Fault injection: freeze checkout there, as if the process died (tests).
    pub halt_at: Option<HaltPoint>,
    pub cart: UpstreamConfig,
    pub catalog: UpstreamConfig,
    pub inventory: UpstreamConfig,
    pub user: UpstreamConfig,
}

/// Serves svc-order on `listener` until `shutdown` is cancelled, with the recovery loop
/// running beside it.
///
/// # Errors
/// Fails when the database cannot be opened or migrated, an upstream's endpoints are
/// invalid, or the server stops with an error.
pub async fn serve(
    config: &Config,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let db =
        platform::store::open_database::<migration::Migrator>(&config.database_url, config.migrate_on_start)
            .await?;
    let channel =
        |service, upstream: &UpstreamConfig| MeshChannel::new(service, upstream, context.tokens.clone());
    let upstreams = upstream::Upstreams {
        cart: channel(ServiceName::Cart, &config.cart)?,
        catalog: channel(ServiceName::Catalog, &config.catalog)?,
        inventory: channel(ServiceName::Inventory, &config.inventory)?,
        user: channel(ServiceName::User, &config.user)?,
    };
    let provider = Arc::new(SandboxProvider::new(db.clone(), config.sandbox_faults));
    let payments = payments::Payments::new(provider, db.clone(), config.payment_timeout);
    let halt = Halt {
        at: config.halt_at,
        shutdown: shutdown.clone(),
    };
    let saga = Saga::new(db.clone(), upstreams, payments, config.saga, halt);
    let recovery = tokio::spawn(saga.clone().run_recovery(shutdown.clone()));

    let orders = ops::Orders {
        saga,
        watch_poll: config.watch_poll,
    };
    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(OrderServiceServer::new(grpc::OrderGrpc::new(orders)));
    let service = GrpcService {
        name: ServiceName::Order,
        routes,
        policies: policy::policies(),
        long_running: vec![format!("/{}/WatchOrder", policy::SERVICE)],
        readiness: vec![platform::store::database_readiness(db)],
    };
    let served = platform::server::serve(service, context, listener, shutdown.clone()).await;
    shutdown.cancel();
    let _ = recovery.await;
    served
}

/// Applies svc-order's pending migrations to `database_url`.
///
/// # Errors
/// Fails when the database cannot be reached or a migration fails.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    platform::store::open_database::<migration::Migrator>(database_url, true).await?;
    Ok(())
}
