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
//! - [`settings`]: `Settings`, svc-user's knobs (read from `auth.*`).

pub mod domain;
pub mod error;
pub mod grpc;
pub mod metrics;
pub mod migration;
pub mod ops;
pub mod policy;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod throttle;
pub mod tokens;

use std::time::Duration;

use anyhow::Context as _;
use platform::ServiceName;
use platform::auth::{KeySet, SigningKey};
use platform::server::{GrpcService, ServeContext};
use proto::user::v1::user_service_server::UserServiceServer;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::ops::Users;
use crate::secrets::PasswordHasher;
pub use crate::settings::Settings;
use crate::throttle::LoginThrottle;
use crate::tokens::{TokenIssuer, TokenLifetimes};

/// What the process hands svc-user beside its settings: the keys it issues with, the mesh's
/// token rules and the accounts to ensure at start.
#[derive(Debug, Clone)]
pub struct Issuing {
    /// `iss` of every token (`auth.issuer`).
    pub issuer: String,
    /// Signs every new token; only svc-user holds it.
    pub signing_key: SigningKey,
    /// Retired public keys still published so their tokens verify until they expire.
    pub retired_keys: KeySet,
    /// Lifetime of service tokens (`auth.service_token_ttl_secs`).
    pub service_token_lifetime: Duration,
    /// Mesh services registered at start beyond `auth.service_clients` (`up` makes a secret
    /// per service).
    pub mesh_clients: Vec<(ServiceName, SecretString)>,
    /// `(email, password)` of the bootstrap admin.
    pub bootstrap_admin: Option<(String, SecretString)>,
}

/// Builds the logic handle and runs the start-up chores (mesh clients, bootstrap admin);
/// Redis, which only the login throttle needs, connects in the background.
///
/// # Errors
/// Fails when the database cannot be reached, a migration fails, or the bootstrap admin
/// breaks the rules.
pub async fn build(
    settings: &Settings,
    issuing: &Issuing,
    context: &ServeContext,
) -> anyhow::Result<(Users, platform::store::LazyRedis)> {
    let db = context.open_database::<migration::Migrator>().await?;
    let redis = context.redis();
    let hasher = PasswordHasher::new(settings.argon2(), settings.hash_queue())?;
    let lifetimes = TokenLifetimes {
        access: Duration::from_secs(settings.access_token_ttl_secs),
        refresh: Duration::from_secs(settings.refresh_token_ttl_secs),
        service: issuing.service_token_lifetime,
    };
    let tokens = TokenIssuer::new(
        issuing.issuer.clone(),
        issuing.signing_key.clone(),
        &issuing.retired_keys,
        lifetimes,
    )?;
    let throttle = LoginThrottle::new(redis.clone(), settings.throttle());
    let users = Users::new(db, hasher, throttle, tokens);
    for (service, secret) in settings.mesh_clients().iter().chain(&issuing.mesh_clients) {
        users
            .ensure_mesh_client(*service, secret)
            .await
            .with_context(|| format!("failed to register {service} as a service client"))?;
    }
    if let Some((email, password)) = &issuing.bootstrap_admin {
        users
            .ensure_admin(email, password)
            .await
            .context("failed to ensure the bootstrap admin")?;
    }
    Ok((users, redis))
}

/// Serves svc-user on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// Fails when [`build`] fails or the server stops with an error.
pub async fn serve(
    settings: &Settings,
    issuing: &Issuing,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    platform::telemetry::metrics::recorder();
    metrics::describe();
    let (users, redis) = build(settings, issuing, context).await?;
    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(UserServiceServer::new(grpc::UserGrpc::new(users.clone())));
    GrpcService::new(ServiceName::User, routes, policy::policies())
        .readiness(platform::store::database_readiness(users.db.clone()))
        .readiness(redis.readiness())
        .background(redis.connector())
        .serve(context, listener, shutdown)
        .await
}

/// Applies svc-user's pending migrations to `database_url`.
///
/// # Errors
/// Fails when the database cannot be reached or a migration fails.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    platform::store::open_database::<migration::Migrator>(database_url, true).await?;
    Ok(())
}
