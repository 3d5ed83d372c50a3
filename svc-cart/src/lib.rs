//! svc-cart: user and guest carts in Redis, merged on login.
//!
//! The RPCs of `bookstore.cart.v1.CartService` land with issue #6; until then the server
//! runs the shared bootstrap (health, reflection, auth with this service's access policies,
//! metrics) and reports SERVING only while Redis answers a real `PING`.
//!
//! # Layout
//! - [`policy`]: who may call each RPC.

pub mod policy;

use platform::ServiceName;
use platform::server::{GrpcService, ServeContext};
use platform::store::RedisStore;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Checked settings of svc-cart.
#[derive(Debug, Clone)]
pub struct Config {
    pub redis_url: String,
    /// Every key of this service starts with it, so tenants and tests never collide.
    pub key_prefix: String,
}

/// Serves svc-cart on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// Fails when Redis does not answer at start or the server stops with an error.
pub async fn serve(
    config: &Config,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let redis = RedisStore::connect(&config.redis_url, &config.key_prefix).await?;
    let service = GrpcService {
        name: ServiceName::Cart,
        routes: tonic::service::RoutesBuilder::default(),
        policies: policy::policies(),
        long_running: Vec::new(),
        readiness: vec![redis.readiness()],
    };
    platform::server::serve(service, context, listener, shutdown).await
}
