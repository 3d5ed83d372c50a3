//! svc-cart: user and guest carts in Redis, merged on login.
//!
//! One hash per cart under the configured prefix, a TTL refreshed on each write, every
//! mutation one Lua script (limits and quantities change atomically). Carts hold ids and
//! quantities only; prices come from the catalog when a cart is shown and at checkout. Health
//! follows Redis both ways, and start-up does not fail when Redis is late (as in every
//! service: `platform::store::LazyRedis`).
//!
//! # Layout
//! - [`grpc`]: the tonic adapter (`CartGrpc`) and the owner check.
//! - [`ops`]: the logic (`Carts`): who may touch a cart, the catalog check.
//! - [`upstream`]: the catalog, asked whether a book exists.
//! - [`store`]: the Redis layout and the Lua scripts.
//! - [`domain`]: owners, sessions, quantities, limits. [`error`]: `CartError`.
//! - [`policy`]: who may call each RPC. [`settings`]: `Settings`, the `cart.*` knobs.

pub mod domain;
pub mod error;
pub mod grpc;
pub mod ops;
pub mod policy;
pub mod settings;
pub mod store;
pub mod upstream;

use platform::ServiceName;
use platform::server::{GrpcService, ServeContext};
use proto::cart::v1::cart_service_server::CartServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use crate::settings::Settings;

/// Serves svc-cart on `listener` until `shutdown` is cancelled. Redis is connected in the
/// background: until it answers the service is NOT_SERVING and RPCs are UNAVAILABLE.
///
/// # Errors
/// Fails when the catalog endpoints are invalid or the server stops with an error.
pub async fn serve(
    settings: &Settings,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let redis = context.redis();
    let catalog = context.channel(ServiceName::Catalog)?;
    let carts = ops::Carts::new(
        store::CartStore::new(redis.clone(), settings.ttl()),
        upstream::Catalog::new(catalog),
    );
    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(CartServiceServer::new(grpc::CartGrpc::new(carts)));
    GrpcService::new(ServiceName::Cart, routes, policy::policies())
        .readiness(redis.readiness())
        .background(redis.connector())
        .serve(context, listener, shutdown)
        .await
}
