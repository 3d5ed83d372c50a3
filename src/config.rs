//! `BookstoreConfig`: what one `bookstore` process reads. Only what is process-wide is
//! declared here (the data dir, the stores, the token keys, telemetry, the gRPC server and
//! every service's wiring); each service's own knobs are its crate's `Settings`, documented
//! there, and this file only composes them. Defaults < `--config` TOML file <
//! `BOOKSTORE_…` variables (`__` nests).

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use platform::ServiceName;
use platform::client::{DiscoveryConfig, UpstreamConfig};
use platform::config::{Common, ConfigError, Section, ServiceWiring, Validate};
use platform::server::GrpcServerConfig;
use platform::telemetry::TelemetryConfig;
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::MapAccess;

/// The whole configuration of one `bookstore` process.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BookstoreConfig {
    /// Where embedded SQLite files (and `up`'s generated signing key) live.
    pub data_dir: PathBuf,
    /// `redis://host:port` (or `rediss://` over TLS) for one node,
    /// `redis-cluster://host:port,host:port` (or `redis-cluster+tls://…`) for a Redis
    /// Cluster; a service section may override it.
    pub redis_url: String,
    /// PEM CA certificates that signed Redis's TLS certificate (a private CA); without it
    /// the system's roots are trusted.
    pub redis_tls_ca_file: Option<PathBuf>,
    /// `redis_url` read from this file (see [`read_secret_files`]).
    pub redis_url_file: Option<PathBuf>,
    /// Prefix of every Redis key, so several deployments can share one Redis.
    pub redis_key_prefix: String,
    /// Most connections each SQL service's pool opens on PostgreSQL. Default: 8 per CPU,
    /// between 16 and 24. Size it so that replicas × services × this stays under the
    /// server's `max_connections` (the chart does, from the replicas).
    pub database_pool_size: u32,
    /// Read-only connections to each SQLite file, for the catalogue's searches and stock
    /// reads: they run on all of them at once (WAL). Default: one per CPU, between 4 and 64.
    /// Writes go through one connection of their own.
    pub database_sqlite_read_connections: u32,
    /// How long a query may wait for a pooled connection before the call is UNAVAILABLE.
    pub database_acquire_timeout_ms: u32,
    /// How long Redis may take to answer one command before the call is UNAVAILABLE.
    pub redis_timeout_ms: u32,
    /// The mesh's token keys (`common`), and svc-user's own settings, which users have always
    /// set under `auth.*` too (`own`).
    pub auth: Section<AuthKeys, svc_user::Settings>,
    pub telemetry: TelemetryConfig,
    pub grpc: GrpcServerConfig,
    /// How upstream names are resolved (`discovery.*`).
    pub discovery: DiscoveryConfig,
    /// svc-user's wiring; its knobs are under `auth`.
    pub user: ServiceWiring,
    pub catalog: Section<ServiceWiring, svc_catalog::Settings>,
    pub cart: Section<ServiceWiring, svc_cart::Settings>,
    pub order: Section<ServiceWiring, svc_order::Settings>,
    pub inventory: Section<ServiceWiring, svc_inventory::Settings>,
    pub bff: bff::Settings,
    /// With `bootstrap_admin_password`: that account is an admin after svc-user starts. Top
    /// level, where the chart and users set it.
    pub bootstrap_admin_email: Option<String>,
    pub bootstrap_admin_password: Option<SecretString>,
    /// `bootstrap_admin_password` read from this file.
    pub bootstrap_admin_password_file: Option<PathBuf>,
}

impl Default for BookstoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            redis_tls_ca_file: None,
            redis_url_file: None,
            redis_key_prefix: "bookstore".to_owned(),
            database_pool_size: platform::store::default_postgres_pool_size(),
            database_sqlite_read_connections: platform::store::default_sqlite_read_connections(),
            database_acquire_timeout_ms: 5_000,
            redis_timeout_ms: 2_000,
            auth: Section::default(),
            telemetry: TelemetryConfig::default(),
            grpc: GrpcServerConfig::default(),
            discovery: DiscoveryConfig::default(),
            user: ServiceWiring::default(),
            catalog: Section::default(),
            cart: Section::default(),
            order: Section::default(),
            inventory: Section::default(),
            bff: bff::Settings::default(),
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
            bootstrap_admin_password_file: None,
        }
    }
}

/// The mesh's token keys (`auth.*`), read by every process.
#[derive(Debug, Clone)]
pub struct AuthKeys {
    /// The `iss` every token carries and every service expects.
    pub issuer: String,
    /// Verification keys as a JWKS JSON document (e.g. from a Kubernetes Secret).
    pub jwks: Option<String>,
    /// The same, read from a file.
    pub jwks_file: Option<PathBuf>,
    /// Ed25519 PKCS#8 PEM private key that signs tokens. `up` generates one under
    /// `data_dir` when unset.
    pub signing_key_file: Option<PathBuf>,
    /// Lifetime of service tokens.
    pub service_token_ttl_secs: u64,
    /// This service's own client secret: its outgoing calls carry tokens from svc-user's
    /// `IssueServiceToken` (client id = the service's name).
    pub client_secret: Option<SecretString>,
    /// `auth.client_secret` read from this file.
    pub client_secret_file: Option<PathBuf>,
    /// How often services that fetched svc-user's key set fetch it again.
    pub jwks_refresh_secs: u64,
}

impl Default for AuthKeys {
    fn default() -> Self {
        Self {
            issuer: "bookstore".to_owned(),
            jwks: None,
            jwks_file: None,
            signing_key_file: None,
            service_token_ttl_secs: 300,
            client_secret: None,
            client_secret_file: None,
            jwks_refresh_secs: 300,
        }
    }
}

impl Common for AuthKeys {
    fn take<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "issuer" => self.issuer = map.next_value()?,
            "jwks" => self.jwks = map.next_value()?,
            "jwks_file" => self.jwks_file = map.next_value()?,
            "signing_key_file" => self.signing_key_file = map.next_value()?,
            "service_token_ttl_secs" => self.service_token_ttl_secs = map.next_value()?,
            "client_secret" => self.client_secret = map.next_value()?,
            "client_secret_file" => self.client_secret_file = map.next_value()?,
            "jwks_refresh_secs" => self.jwks_refresh_secs = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl BookstoreConfig {
    /// Returns the wiring of a gRPC service.
    ///
    /// # Panics
    /// Never for the five gRPC services; the BFF has no wiring (its listener is a setting).
    pub fn wiring(&self, service: ServiceName) -> &ServiceWiring {
        match service {
            ServiceName::User => &self.user,
            ServiceName::Catalog => &self.catalog.common,
            ServiceName::Cart => &self.cart.common,
            ServiceName::Order => &self.order.common,
            ServiceName::Inventory => &self.inventory.common,
            ServiceName::Bff => unreachable!("the bff has no service wiring"),
        }
    }

    /// Returns the wiring of a gRPC service, to change it (tests, `up`).
    ///
    /// # Panics
    /// As [`Self::wiring`].
    pub fn wiring_mut(&mut self, service: ServiceName) -> &mut ServiceWiring {
        match service {
            ServiceName::User => &mut self.user,
            ServiceName::Catalog => &mut self.catalog.common,
            ServiceName::Cart => &mut self.cart.common,
            ServiceName::Order => &mut self.order.common,
            ServiceName::Inventory => &mut self.inventory.common,
            ServiceName::Bff => unreachable!("the bff has no service wiring"),
        }
    }

    /// Returns where `service` listens.
    pub fn listen_address(&self, service: ServiceName) -> SocketAddr {
        let configured = match service {
            ServiceName::Bff => self.bff.listen,
            grpc => self.wiring(grpc).listen,
        };
        configured.unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, service.default_port())))
    }

    /// Returns how callers reach `service`.
    pub fn upstream(&self, service: ServiceName) -> UpstreamConfig {
        let wiring = self.wiring(service);
        let scheme = if self.grpc.tls_cert_file.is_some() {
            "https"
        } else {
            "http"
        };
        let endpoints = if wiring.endpoints.is_empty() {
            vec![format!("{scheme}://{}", self.listen_address(service))]
        } else {
            wiring.endpoints.clone()
        };
        UpstreamConfig {
            endpoints,
            connect_timeout_ms: wiring.connect_timeout_ms,
            request_timeout_ms: wiring.request_timeout_ms,
            tls_ca_file: self.grpc.tls_ca_file.clone(),
            discovery: self.discovery.clone(),
        }
    }

    /// Returns the Redis URL of `service`: its own when set, else the top-level one.
    pub fn redis_url(&self, service: ServiceName) -> String {
        let own = match service {
            // The BFF's cache follows the streams catalog and inventory share.
            ServiceName::Bff => self.wiring(ServiceName::Catalog).redis_url.as_ref(),
            grpc => self.wiring(grpc).redis_url.as_ref(),
        };
        own.unwrap_or(&self.redis_url).clone()
    }

    /// Returns the database URL of a SQL service.
    pub fn database_url(&self, service: ServiceName) -> String {
        let own = match service {
            ServiceName::Bff => None,
            grpc => self.wiring(grpc).database_url.as_ref(),
        };
        match own {
            Some(url) => url.clone(),
            None => sqlite_url(&self.data_dir, service),
        }
    }

    /// Returns the database URL of a SQL service, refusing the ones without a database.
    ///
    /// # Errors
    /// Fails for cart (Redis) and the BFF (stateless).
    pub fn database_url_checked(&self, service: ServiceName) -> anyhow::Result<String> {
        match service {
            ServiceName::Cart => anyhow::bail!("cart keeps its data in Redis and has no migrations"),
            ServiceName::Bff => anyhow::bail!("the bff is stateless and has no migrations"),
            sql => Ok(self.database_url(sql)),
        }
    }
}

fn is_redis_url(url: &str) -> bool {
    [
        "redis://",
        "rediss://",
        platform::store::CLUSTER_SCHEME,
        platform::store::CLUSTER_TLS_SCHEME,
    ]
    .iter()
    .any(|scheme| url.starts_with(scheme))
}

fn is_tls_redis_url(url: &str) -> bool {
    url.starts_with("rediss://") || url.starts_with(platform::store::CLUSTER_TLS_SCHEME)
}

/// What a bad Redis URL is told.
const REDIS_SCHEMES: &str = "must start with redis://, rediss://, redis-cluster:// or redis-cluster+tls://";

fn is_database_url(url: &str) -> bool {
    url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn sqlite_url(data_dir: &Path, service: ServiceName) -> String {
    format!("sqlite://{}/{service}.db?mode=rwc", data_dir.display())
}

impl Validate for BookstoreConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !is_redis_url(&self.redis_url) {
            return Err(ConfigError::invalid("redis_url", REDIS_SCHEMES));
        }
        if self.redis_key_prefix.is_empty() || self.redis_key_prefix.contains(char::is_whitespace) {
            return Err(ConfigError::invalid(
                "redis_key_prefix",
                "must be non-empty without spaces",
            ));
        }
        if self.auth.common.issuer.is_empty() {
            return Err(ConfigError::invalid("auth.issuer", "must not be empty"));
        }
        if self.auth.common.service_token_ttl_secs < 30 {
            return Err(ConfigError::invalid(
                "auth.service_token_ttl_secs",
                "must be at least 30",
            ));
        }
        if !(1..=1000).contains(&self.database_pool_size) {
            return Err(ConfigError::invalid(
                "database_pool_size",
                "must be between 1 and 1000",
            ));
        }
        if !(1..=256).contains(&self.database_sqlite_read_connections) {
            return Err(ConfigError::invalid(
                "database_sqlite_read_connections",
                "must be between 1 and 256",
            ));
        }
        for (key, value) in [
            ("database_acquire_timeout_ms", self.database_acquire_timeout_ms),
            ("redis_timeout_ms", self.redis_timeout_ms),
        ] {
            if !(10..=600_000).contains(&value) {
                return Err(ConfigError::invalid(key, "must be between 10 and 600000"));
            }
        }
        self.grpc.validate()?;
        self.discovery.validate()?;
        self.auth.own.validate()?;
        self.catalog.own.validate()?;
        self.cart.own.validate()?;
        self.order.own.validate()?;
        self.inventory.own.validate()?;
        self.bff.validate()?;
        self.validate_wiring()
    }
}

impl BookstoreConfig {
    fn validate_wiring(&self) -> Result<(), ConfigError> {
        let mut listeners = HashSet::new();
        for service in ServiceName::all() {
            if !listeners.insert(self.listen_address(service)) {
                return Err(ConfigError::invalid(
                    format!("{service}.listen"),
                    format!(
                        "{} is already used by another service",
                        self.listen_address(service)
                    ),
                ));
            }
        }
        for service in ServiceName::grpc_services() {
            let wiring = self.wiring(service);
            if let Some(url) = &wiring.database_url
                && !is_database_url(url)
            {
                return Err(ConfigError::invalid(
                    format!("{service}.database_url"),
                    "must start with sqlite: or postgres://",
                ));
            }
            if let Some(url) = &wiring.redis_url
                && !is_redis_url(url)
            {
                return Err(ConfigError::invalid(
                    format!("{service}.redis_url"),
                    REDIS_SCHEMES,
                ));
            }
            for endpoint in &wiring.endpoints {
                if endpoint.parse::<http::Uri>().is_err() || !endpoint.contains("://") {
                    return Err(ConfigError::invalid(
                        format!("{service}.endpoints"),
                        format!("`{endpoint}` is not an http(s) URL"),
                    ));
                }
            }
            if wiring.connect_timeout_ms == 0 || wiring.request_timeout_ms == 0 {
                return Err(ConfigError::invalid(
                    format!("{service}.request_timeout_ms"),
                    "timeouts must be greater than 0",
                ));
            }
        }
        if let Some(path) = &self.redis_tls_ca_file {
            platform::store::read_ca_file(path)
                .map_err(|error| ConfigError::invalid("redis_tls_ca_file", format!("{error:#}")))?;
            let mut urls = vec![self.redis_url.clone()];
            for service in ServiceName::grpc_services() {
                urls.push(self.redis_url(service));
            }
            if !urls.iter().any(|url| is_tls_redis_url(url)) {
                return Err(ConfigError::invalid(
                    "redis_tls_ca_file",
                    "is set but no redis url uses TLS (rediss:// or redis-cluster+tls://)",
                ));
            }
        }
        // Inventory publishes stock events to the stream catalog reads: one Redis for both.
        if self.redis_url(ServiceName::Catalog) != self.redis_url(ServiceName::Inventory) {
            return Err(ConfigError::invalid(
                "inventory.redis_url",
                "must be catalog's redis: inventory publishes the stock events catalog reads",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

mod secret_files;
pub use secret_files::read_secret_files;
