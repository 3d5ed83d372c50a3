//! What a service receives from whoever starts it (the binary or a test harness): the
//! server settings, its token verifier and source, its stores and where the others are.

use std::collections::BTreeMap;

use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;

use super::GrpcServerConfig;
use crate::ServiceName;
use crate::auth::{TokenSource, Verifier};
use crate::client::{ClientError, InProcess, MeshChannel, UpstreamConfig};
use crate::store::LazyRedis;

/// Everything process-wide a service is started with; its own knobs come beside it, in its
/// crate's `Settings`.
#[derive(Debug, Clone)]
pub struct ServeContext {
    pub grpc: GrpcServerConfig,
    /// Verifies incoming tokens; its audience is the service's name.
    pub verifier: Verifier,
    /// Service tokens for outgoing calls; `None` when the service calls nobody.
    pub tokens: Option<TokenSource>,
    /// The service's stores.
    pub stores: Stores,
    /// How to reach every gRPC service.
    pub upstreams: BTreeMap<ServiceName, UpstreamConfig>,
    /// This replica's name, unique in the deployment (a consumer group member's name).
    pub replica: String,
    /// The services this process runs (`bookstore up`): they call each other in process,
    /// and this service's server accepts their connections beside its listener. Empty for
    /// a process that runs one service.
    pub in_process: InProcess,
}

/// The stores of one service, resolved (defaults applied).
#[derive(Debug, Clone)]
pub struct Stores {
    /// `sqlite://…?mode=rwc` (embedded) or `postgres://…`; unused by cart and the BFF.
    pub database_url: String,
    /// Apply pending migrations before serving.
    pub migrate_on_start: bool,
    /// `redis://`, `rediss://`, `redis-cluster://` or `redis-cluster+tls://`.
    pub redis_url: String,
    /// PEM CA certificates trusted for Redis TLS instead of the system's roots (the
    /// contents of `redis_tls_ca_file`).
    pub redis_ca_pem: Option<std::sync::Arc<Vec<u8>>>,
    /// Every Redis key of the deployment is `<redis_key_prefix>:<name>`, the name starting
    /// with its service (`cart:{u:…}`, `user:{login}:…`) or naming a shared stream
    /// (`{stock-events}`), so tenants and tests never collide.
    pub redis_key_prefix: String,
}

impl ServeContext {
    /// Opens the service's database, migrating it first when `migrate_on_start` is set.
    ///
    /// # Errors
    /// Fails when the database does not answer or a migration fails.
    pub async fn open_database<M: MigratorTrait>(&self) -> anyhow::Result<DatabaseConnection> {
        crate::store::open_database::<M>(&self.stores.database_url, self.stores.migrate_on_start).await
    }

    /// [`Self::open_database`], plus the connections its hot reads go through.
    ///
    /// # Errors
    /// As [`Self::open_database`].
    pub async fn open_database_with_reads<M: MigratorTrait>(
        &self,
    ) -> anyhow::Result<(DatabaseConnection, Option<crate::store::Reads>)> {
        crate::store::open_database_with_reads::<M>(&self.stores.database_url, self.stores.migrate_on_start)
            .await
    }

    /// Returns the service's Redis, to be connected by its background task.
    pub fn redis(&self) -> LazyRedis {
        LazyRedis::new(
            self.stores.redis_url.clone(),
            self.stores.redis_key_prefix.clone(),
        )
        .with_ca(self.stores.redis_ca_pem.clone())
    }

    /// Returns a channel to `callee` carrying this service's tokens: in process when this
    /// process runs `callee` and the mesh speaks plaintext (TLS between services is a
    /// network matter; `grpc.tls_*` keeps every call on TCP), else over the network.
    ///
    /// # Errors
    /// Fails when `callee` has no endpoints or an invalid one.
    pub fn channel(&self, callee: ServiceName) -> Result<MeshChannel, ClientError> {
        let config = self.upstreams.get(&callee).cloned().unwrap_or_default();
        if !self.grpc.tls_enabled()
            && config.tls_ca_file.is_none()
            && let Some(channel) =
                MeshChannel::in_process(callee, &config, &self.in_process, self.tokens.clone())
        {
            return Ok(channel);
        }
        MeshChannel::new(callee, &config, self.tokens.clone())
    }
}
