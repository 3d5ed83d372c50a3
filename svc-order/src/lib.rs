//! svc-order: orders, the checkout saga, payments and order tracking.
//!
//! The RPCs of `bookstore.order.v1.OrderService` land with issue #7; until then the
//! server runs the shared bootstrap (health, reflection, auth with this service's access
//! policies, metrics) over its own database, so the mesh can be started and probed.
//!
//! # Layout
//! - [`policy`]: who may call each RPC.
//! - [`migration`]: the schema.

pub mod migration;
pub mod policy;

use platform::ServiceName;
use platform::server::{GrpcService, ServeContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Checked settings of svc-order.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…?mode=rwc` (embedded) or `postgres://…` (one database per service).
    pub database_url: String,
    /// Apply pending migrations before serving (`bookstore migrate` does it otherwise).
    pub migrate_on_start: bool,
}

/// Serves svc-order on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// Fails when the database cannot be opened or migrated, or the server stops with an error.
pub async fn serve(
    config: &Config,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let db =
        platform::store::open_database::<migration::Migrator>(&config.database_url, config.migrate_on_start)
            .await?;
    let service = GrpcService {
        name: ServiceName::Order,
        routes: tonic::service::RoutesBuilder::default(),
        policies: policy::policies(),
        long_running: Vec::new(),
        readiness: vec![platform::store::database_readiness(db)],
    };
    platform::server::serve(service, context, listener, shutdown).await
}

/// Applies svc-order's pending migrations to `database_url`.
///
/// # Errors
/// Fails when the database cannot be reached or a migration fails.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    platform::store::open_database::<migration::Migrator>(database_url, true).await?;
    Ok(())
}
