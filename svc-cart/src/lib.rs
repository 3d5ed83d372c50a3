//! svc-cart: user and guest carts in Redis, merged on login.
//!
//! One hash per cart under the configured prefix, a TTL refreshed on each write, every
//! mutation one Lua script (limits and quantities change atomically). Carts hold ids and
//! quantities only; prices come from the catalog when a cart is shown and at checkout. Health
//! follows Redis both ways, and start-up does not fail when Redis is late.
//!
//! # Layout
//! - [`grpc`]: the tonic adapter (`CartGrpc`) and the owner check.
//! - [`ops`]: the logic (`Carts`): who may touch a cart, the catalog check.
//! - [`store`]: the Redis layout and the Lua scripts.
//! - [`domain`]: owners, sessions, quantities, limits. [`error`]: `CartError`.
//! - [`policy`]: who may call each RPC.

pub mod domain;
pub mod error;
pub mod grpc;
mod known_books;
pub mod ops;
pub mod policy;
pub mod store;

use std::time::Duration;

use platform::ServiceName;
use platform::client::{MeshChannel, UpstreamConfig};
use platform::server::{GrpcService, ServeContext};
use platform::store::LazyRedis;
use proto::cart::v1::cart_service_server::CartServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Checked settings of svc-cart.
#[derive(Debug, Clone)]
pub struct Config {
    pub redis_url: String,
    /// Every key of this service starts with it, so tenants and tests never collide.
    pub key_prefix: String,
    /// How long an untouched cart lives.
    pub ttl: Duration,
    /// Where the catalog is, to check books exist.
    pub catalog: UpstreamConfig,
}

/// Serves svc-cart on `listener` until `shutdown` is cancelled. Redis is connected in the
/// background: until it answers the service is NOT_SERVING and RPCs are UNAVAILABLE.
///
/// # Errors
/// Fails when the catalog endpoints are invalid or the server stops with an error.
pub async fn serve(
    config: &Config,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let redis = LazyRedis::connect(
        config.redis_url.clone(),
        config.key_prefix.clone(),
        shutdown.clone(),
    );
    let catalog = MeshChannel::new(ServiceName::Catalog, &config.catalog, context.tokens.clone())?;
    let store = store::CartStore::new(redis.clone(), config.key_prefix.clone(), config.ttl);
    let carts = ops::Carts::new(store, catalog);
    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(CartServiceServer::new(grpc::CartGrpc::new(carts)));
    let service = GrpcService {
        name: ServiceName::Cart,
        routes,
        policies: policy::policies(),
        long_running: Vec::new(),
        readiness: vec![redis.readiness()],
    };
    platform::server::serve(service, context, listener, shutdown).await
}
