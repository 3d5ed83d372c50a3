//! svc-user: accounts, credentials, sessions, profiles, addresses, roles, and the keys every
//! token in the mesh is signed with. svc-user is the only issuer: user access tokens at
//! register/login/refresh, service tokens through the client-credentials grant.
//!
//! # Layout
//! - [`grpc`]: the tonic adapter (`UserGrpc`), one method per RPC.
//! - [`ops`]: the logic (`Users`), one file per RPC group (`register.rs`, `login.rs`,
//!   `sessions.rs`, `profile.rs`, `addresses.rs`, `service_clients.rs`, `bootstrap.rs`).
//! - [`store`]: sea-orm entities and queries, one file per table.
//! - [`domain`]: parsed values (`Email`, `Password`, `DisplayName`, `NewAddress`, `UserRole`).
//! - [`secrets`]: argon2id hashing off the runtime, random tokens stored as SHA-256.
//! - [`tokens`]: JWT issuing and the published key set.
//! - [`throttle`]: login failure counters in Redis.
//! - [`policy`]: who may call each RPC. [`migration`]: the schema. [`error`]: `UserError`.

pub mod domain;
pub mod error;
pub mod grpc;
pub mod migration;
pub mod ops;
pub mod policy;
pub mod secrets;
pub mod store;
pub mod throttle;
pub mod tokens;

use anyhow::Context as _;
use platform::ServiceName;
use platform::auth::{KeySet, SigningKey};
use platform::server::{GrpcService, ServeContext};
use platform::store::RedisStore;
use proto::user::v1::user_service_server::UserServiceServer;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::ops::Users;
use crate::secrets::{Argon2Settings, PasswordHasher};
use crate::throttle::{LoginThrottle, ThrottleSettings};
use crate::tokens::{TokenIssuer, TokenLifetimes};

/// Checked settings of svc-user.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…?mode=rwc` (embedded) or `postgres://…`.
    pub database_url: String,
    pub migrate_on_start: bool,
    pub redis_url: String,
    /// Prefix of the throttle's Redis keys.
    pub redis_key_prefix: String,
    /// `iss` of every token.
    pub issuer: String,
    /// Signs every new token; only svc-user holds it.
    pub signing_key: SigningKey,
    /// Retired public keys still published so their tokens verify until they expire.
    pub retired_keys: KeySet,
    pub lifetimes: TokenLifetimes,
    pub argon2: Argon2Settings,
    pub throttle: ThrottleSettings,
    /// The mesh's own services as clients, with their secrets.
    pub mesh_clients: Vec<(ServiceName, SecretString)>,
    /// `(email, password)` of the bootstrap admin.
    pub bootstrap_admin: Option<(String, SecretString)>,
}

/// Builds the logic handle and runs the start-up chores (mesh clients, bootstrap admin).
///
/// # Errors
/// Fails when the database or Redis cannot be reached, a migration fails, or the bootstrap
/// admin breaks the rules.
pub async fn build(config: &Config) -> anyhow::Result<Users> {
    let db =
        platform::store::open_database::<migration::Migrator>(&config.database_url, config.migrate_on_start)
            .await?;
    let redis = RedisStore::connect(&config.redis_url, &config.redis_key_prefix).await?;
    let hasher = PasswordHasher::new(config.argon2)?;
    let tokens = TokenIssuer::new(
        config.issuer.clone(),
        config.signing_key.clone(),
        &config.retired_keys,
        config.lifetimes,
    )?;
    let users = Users::new(db, hasher, LoginThrottle::new(redis, config.throttle), tokens);
    for (service, secret) in &config.mesh_clients {
        users
            .ensure_mesh_client(*service, secret)
            .await
            .with_context(|| format!("failed to register {service} as a service client"))?;
    }
    if let Some((email, password)) = &config.bootstrap_admin {
        users
            .ensure_admin(email, password)
            .await
            .context("failed to ensure the bootstrap admin")?;
    }
    Ok(users)
}

/// Serves svc-user on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// Fails when [`build`] fails or the server stops with an error.
pub async fn serve(
    config: &Config,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let users = build(config).await?;
    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(UserServiceServer::new(grpc::UserGrpc::new(users.clone())));
    let service = GrpcService {
        name: ServiceName::User,
        routes,
        policies: policy::policies(),
        long_running: Vec::new(),
        readiness: vec![
            platform::store::database_readiness(users.db.clone()),
            users.throttle.readiness(),
        ],
    };
    platform::server::serve(service, context, listener, shutdown).await
}

/// Applies svc-user's pending migrations to `database_url`.
///
/// # Errors
/// Fails when the database cannot be reached or a migration fails.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    platform::store::open_database::<migration::Migrator>(database_url, true).await?;
    Ok(())
}
