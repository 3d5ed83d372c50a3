//! `BookstoreConfig`: every setting the binary reads, composed from the service crates'
//! needs. Defaults < `--config` TOML file < `BOOKSTORE_…` variables (`__` nests).

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use platform::ServiceName;
use platform::client::UpstreamConfig;
use platform::config::{ConfigError, Validate};
use platform::server::GrpcServerConfig;
use platform::telemetry::TelemetryConfig;
use secrecy::SecretString;
use serde::Deserialize;

/// The whole configuration of one `bookstore` process.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BookstoreConfig {
    /// Where embedded SQLite files (and `up`'s generated signing key) live.
    pub data_dir: PathBuf,
    /// `redis://host:port` (or `rediss://`) for one node, `redis-cluster://host:port,host:port`
    /// for a Redis Cluster (svc-cart only: see the README); a service section may override it.
    pub redis_url: String,
    /// Prefix of every Redis key, so several stores can share one Redis.
    pub redis_key_prefix: String,
    pub auth: AuthConfig,
    pub telemetry: TelemetryConfig,
    pub grpc: GrpcServerConfig,
    pub user: ServiceSection,
    pub catalog: ServiceSection,
    pub cart: ServiceSection,
    pub order: ServiceSection,
    pub inventory: ServiceSection,
    pub bff: BffSection,
    /// With `bootstrap_admin_password`: that account is an admin after svc-user starts.
    pub bootstrap_admin_email: Option<String>,
    pub bootstrap_admin_password: Option<SecretString>,
    /// How long a stock reservation holds unless Reserve says otherwise.
    pub inventory_reservation_ttl_secs: u64,
    /// How often inventory's sweeper releases expired reservations.
    pub inventory_sweep_interval_ms: u64,
    /// How long an untouched cart lives (refreshed on every write).
    pub cart_ttl_secs: u64,
    /// Most connections each SQL service's pool opens on PostgreSQL (SQLite uses 8). Size it
    /// so that replicas × services × this stays under the server's `max_connections`.
    pub database_pool_size: u32,
    /// How long a query may wait for a pooled connection before the call is UNAVAILABLE.
    pub database_acquire_timeout_ms: u32,
    /// How long Redis may take to answer one command before the call is UNAVAILABLE.
    pub redis_timeout_ms: u32,
    pub checkout: CheckoutConfig,
}

impl Default for BookstoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            redis_key_prefix: "bookstore".to_owned(),
            auth: AuthConfig::default(),
            telemetry: TelemetryConfig::default(),
            grpc: GrpcServerConfig::default(),
            user: ServiceSection::default(),
            catalog: ServiceSection::default(),
            cart: ServiceSection::default(),
            order: ServiceSection::default(),
            inventory: ServiceSection::default(),
            bff: BffSection::default(),
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
            inventory_reservation_ttl_secs: 15 * 60,
            inventory_sweep_interval_ms: 1_000,
            cart_ttl_secs: 30 * 24 * 60 * 60,
            database_pool_size: 16,
            database_acquire_timeout_ms: 5_000,
            redis_timeout_ms: 2_000,
            checkout: CheckoutConfig::default(),
        }
    }
}

/// Token settings (`auth.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
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
    /// Lifetime of user access tokens.
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens (each is single use; a session lasts while it is refreshed).
    pub refresh_token_ttl_secs: u64,
    /// argon2id cost: memory in KiB, passes, lanes (default about 50 ms a hash).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Failed logins allowed per account, and per client address, within the window.
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_address: u32,
    pub login_failure_window_secs: u64,
    /// svc-user only: the client secret of each mesh service (`auth.service_clients.order = "…"`),
    /// registered at start so those services can obtain service tokens.
    pub service_clients: BTreeMap<String, SecretString>,
    /// This service's own client secret: its outgoing calls carry tokens from svc-user's
    /// `IssueServiceToken` (client id = the service's name).
    pub client_secret: Option<SecretString>,
    /// How often services that fetched svc-user's key set fetch it again.
    pub jwks_refresh_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: "bookstore".to_owned(),
            jwks: None,
            jwks_file: None,
            signing_key_file: None,
            service_token_ttl_secs: 300,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 60 * 60,
            argon2_memory_kib: 19_456,
            argon2_iterations: 6,
            argon2_parallelism: 1,
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 50,
            login_failure_window_secs: 15 * 60,
            service_clients: BTreeMap::new(),
            client_secret: None,
            jwks_refresh_secs: 300,
        }
    }
}

/// svc-order's checkout saga and sandbox payments (`checkout.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckoutConfig {
    /// How long inventory holds an order's stock without a Commit.
    pub reservation_ttl_secs: u64,
    /// How long the request that placed an order drives it alone before the recovery loop
    /// may take over; the longest a stalled order stays PENDING is about this plus
    /// `recovery_interval_ms`.
    pub lease_ms: u64,
    pub recovery_interval_ms: u64,
    /// How often WatchOrder re-reads an order.
    pub watch_poll_ms: u64,
    /// Fault injection of the sandbox payment provider: latency added to every call, and
    /// the share of calls (0 to 1) that time out.
    pub sandbox_latency_ms: u64,
    pub sandbox_failure_rate: f64,
    /// The deadline of every payment provider call.
    pub payment_timeout_ms: u64,
    /// Fault injection for tests: freeze checkout at this point as if the process died
    /// (`created`, `reserved`, `authorize_sent`, `authorized`, `committed`, `captured`).
    pub halt_at: Option<String>,
}

impl Default for CheckoutConfig {
    fn default() -> Self {
        Self {
            reservation_ttl_secs: 10 * 60,
            lease_ms: 30_000,
            recovery_interval_ms: 1_000,
            watch_poll_ms: 250,
            sandbox_latency_ms: 0,
            sandbox_failure_rate: 0.0,
            payment_timeout_ms: 5_000,
            halt_at: None,
        }
    }
}

impl CheckoutConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.sandbox_failure_rate) {
            return Err(ConfigError::invalid(
                "checkout.sandbox_failure_rate",
                "must be between 0 and 1",
            ));
        }
        if self.lease_ms == 0
            || self.recovery_interval_ms == 0
            || self.watch_poll_ms == 0
            || self.payment_timeout_ms == 0
        {
            return Err(ConfigError::invalid(
                "checkout.lease_ms",
                "lease, intervals and the payment timeout must be greater than 0",
            ));
        }
        if self.reservation_ttl_secs == 0 || self.reservation_ttl_secs > i32::MAX as u64 {
            return Err(ConfigError::invalid(
                "checkout.reservation_ttl_secs",
                "must be between 1 and 2^31-1",
            ));
        }
        if let Some(point) = &self.halt_at {
            point
                .parse::<svc_order::domain::HaltPoint>()
                .map_err(|reason| ConfigError::invalid("checkout.halt_at", reason))?;
        }
        Ok(())
    }

    /// The settings svc-order runs with (validated at load).
    pub fn saga(&self) -> svc_order::saga::SagaSettings {
        svc_order::saga::SagaSettings {
            reservation_ttl: std::time::Duration::from_secs(self.reservation_ttl_secs),
            lease: std::time::Duration::from_millis(self.lease_ms),
            recovery_interval: std::time::Duration::from_millis(self.recovery_interval_ms),
        }
    }
}

/// One gRPC service's settings (`user.*`, `catalog.*`, …).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceSection {
    /// Where it listens; default `127.0.0.1:<its port>` (user 50051 … inventory 50055).
    pub listen: Option<SocketAddr>,
    /// Where `serve` exposes `/metrics` for Prometheus; off when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// Default: `sqlite://<data_dir>/<service>.db?mode=rwc`. Unused by cart (Redis).
    pub database_url: Option<String>,
    /// This service's Redis instead of the top-level `redis_url`, e.g. carts on a cluster
    /// while catalog's stock-event consumer stays on one node.
    pub redis_url: Option<String>,
    pub migrate_on_start: bool,
    /// How other services reach it; default `http://<listen>`.
    pub endpoints: Vec<String>,
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
}

impl Default for ServiceSection {
    fn default() -> Self {
        let client = UpstreamConfig::default();
        Self {
            listen: None,
            metrics_listen: None,
            database_url: None,
            redis_url: None,
            migrate_on_start: true,
            endpoints: Vec::new(),
            connect_timeout_ms: client.connect_timeout_ms,
            request_timeout_ms: client.request_timeout_ms,
        }
    }
}

/// The BFF's settings (`bff.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BffSection {
    /// Default `127.0.0.1:8080`.
    pub listen: Option<SocketAddr>,
    pub readiness_timeout_ms: u64,
    /// GraphiQL at `GET /graphql` for browsers, and introspection.
    pub graphiql: bool,
    pub introspection: bool,
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_body_bytes: usize,
    /// The whole budget of one GraphQL request; what is left is each gRPC call's deadline.
    pub request_timeout_ms: u64,
    /// Browser origins allowed by CORS.
    pub cors_origins: Vec<String>,
    /// `Secure` cookies (set when the BFF is reached over TLS).
    pub secure_cookies: bool,
    /// Entries of the persisted-query cache.
    pub persisted_queries: usize,
    /// Report each request's upstream calls in `extensions.upstreamCalls` (diagnostics).
    pub report_upstream_calls: bool,
    /// Requests a second per signed-in user, per anonymous address, and the burst above it.
    pub rate_per_user: u32,
    pub rate_per_address: u32,
    pub rate_burst: u32,
    /// A built shop (a folder with `index.html`) to serve at `/` instead of the one built
    /// into the binary.
    pub storefront_dir: Option<PathBuf>,
}

impl Default for BffSection {
    fn default() -> Self {
        let limits = bff::graphql::Limits::default();
        let defaults = bff::Config::default();
        Self {
            listen: None,
            readiness_timeout_ms: 1_000,
            graphiql: defaults.graphiql,
            introspection: limits.introspection,
            max_depth: limits.max_depth,
            max_complexity: limits.max_complexity,
            max_aliases: limits.max_aliases,
            max_body_bytes: defaults.max_body_bytes,
            request_timeout_ms: u64::try_from(defaults.request_timeout.as_millis()).unwrap_or(10_000),
            cors_origins: Vec::new(),
            secure_cookies: false,
            persisted_queries: limits.persisted_queries,
            report_upstream_calls: false,
            rate_per_user: defaults.rate_limits.per_user_per_second,
            rate_per_address: defaults.rate_limits.per_address_per_second,
            rate_burst: defaults.rate_limits.burst,
            storefront_dir: None,
        }
    }
}

impl BffSection {
    /// The settings the BFF runs with.
    pub fn to_config(&self) -> bff::Config {
        bff::Config {
            readiness_timeout: std::time::Duration::from_millis(self.readiness_timeout_ms),
            limits: bff::graphql::Limits {
                max_depth: self.max_depth,
                max_complexity: self.max_complexity,
                max_aliases: self.max_aliases,
                introspection: self.introspection,
                persisted_queries: self.persisted_queries,
            },
            graphiql: self.graphiql,
            max_body_bytes: self.max_body_bytes,
            request_timeout: std::time::Duration::from_millis(self.request_timeout_ms),
            cors_origins: self.cors_origins.clone(),
            secure_cookies: self.secure_cookies,
            report_upstream_calls: self.report_upstream_calls,
            rate_limits: bff::http::rate_limit::RateLimits {
                per_user_per_second: self.rate_per_user,
                per_address_per_second: self.rate_per_address,
                burst: self.rate_burst,
            },
            storefront_dir: self.storefront_dir.clone(),
        }
    }
}

impl BookstoreConfig {
    /// Returns the section of a gRPC service.
    ///
    /// # Panics
    /// Never for the five gRPC services; the BFF has its own section.
    pub fn section(&self, service: ServiceName) -> &ServiceSection {
        match service {
            ServiceName::User => &self.user,
            ServiceName::Catalog => &self.catalog,
            ServiceName::Cart => &self.cart,
            ServiceName::Order => &self.order,
            ServiceName::Inventory => &self.inventory,
            ServiceName::Bff => unreachable!("the bff has no service section"),
        }
    }

    /// Returns where `service` listens.
    pub fn listen_address(&self, service: ServiceName) -> SocketAddr {
        let configured = match service {
            ServiceName::Bff => self.bff.listen,
            grpc => self.section(grpc).listen,
        };
        configured.unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, service.default_port())))
    }

    /// Returns how callers reach `service`.
    pub fn upstream(&self, service: ServiceName) -> UpstreamConfig {
        let section = self.section(service);
        let scheme = if self.grpc.tls_cert_file.is_some() {
            "https"
        } else {
            "http"
        };
        let endpoints = if section.endpoints.is_empty() {
            vec![format!("{scheme}://{}", self.listen_address(service))]
        } else {
            section.endpoints.clone()
        };
        UpstreamConfig {
            endpoints,
            connect_timeout_ms: section.connect_timeout_ms,
            request_timeout_ms: section.request_timeout_ms,
            tls_ca_file: self.grpc.tls_ca_file.clone(),
        }
    }

    /// Returns the Redis URL of `service`: its own when set, else the top-level one.
    pub fn redis_url(&self, service: ServiceName) -> String {
        match &self.section(service).redis_url {
            Some(url) => url.clone(),
            None => self.redis_url.clone(),
        }
    }

    /// Returns the database URL of a SQL service.
    pub fn database_url(&self, service: ServiceName) -> String {
        match &self.section(service).database_url {
            Some(url) => url.clone(),
            None => sqlite_url(&self.data_dir, service),
        }
    }
}

impl BookstoreConfig {
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
    ["redis://", "rediss://", platform::store::CLUSTER_SCHEME]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}

fn is_database_url(url: &str) -> bool {
    url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn sqlite_url(data_dir: &Path, service: ServiceName) -> String {
    format!("sqlite://{}/{service}.db?mode=rwc", data_dir.display())
}

impl Validate for BookstoreConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !is_redis_url(&self.redis_url) {
            return Err(ConfigError::invalid(
                "redis_url",
                "must start with redis://, rediss:// or redis-cluster://",
            ));
        }
        if self.redis_key_prefix.is_empty() || self.redis_key_prefix.contains(char::is_whitespace) {
            return Err(ConfigError::invalid(
                "redis_key_prefix",
                "must be non-empty without spaces",
            ));
        }
        if self.auth.issuer.is_empty() {
            return Err(ConfigError::invalid("auth.issuer", "must not be empty"));
        }
        if self.auth.service_token_ttl_secs < 30 {
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
        for (key, value) in [
            ("database_acquire_timeout_ms", self.database_acquire_timeout_ms),
            ("redis_timeout_ms", self.redis_timeout_ms),
        ] {
            if !(10..=600_000).contains(&value) {
                return Err(ConfigError::invalid(key, "must be between 10 and 600000"));
            }
        }
        self.grpc.validate()?;
        self.checkout.validate()?;
        if let Some(directory) = &self.bff.storefront_dir
            && !directory.join("index.html").is_file()
        {
            return Err(ConfigError::invalid(
                "bff.storefront_dir",
                format!(
                    "{} has no index.html (a built shop is expected)",
                    directory.display()
                ),
            ));
        }
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
            let section = self.section(service);
            if let Some(url) = &section.database_url
                && !is_database_url(url)
            {
                return Err(ConfigError::invalid(
                    format!("{service}.database_url"),
                    "must start with sqlite: or postgres://",
                ));
            }
            if let Some(url) = &section.redis_url
                && !is_redis_url(url)
            {
                return Err(ConfigError::invalid(
                    format!("{service}.redis_url"),
                    "must start with redis://, rediss:// or redis-cluster://",
                ));
            }
            for endpoint in &section.endpoints {
                if endpoint.parse::<http::Uri>().is_err() || !endpoint.contains("://") {
                    return Err(ConfigError::invalid(
                        format!("{service}.endpoints"),
                        format!("`{endpoint}` is not an http(s) URL"),
                    ));
                }
            }
            if section.connect_timeout_ms == 0 || section.request_timeout_ms == 0 {
                return Err(ConfigError::invalid(
                    format!("{service}.request_timeout_ms"),
                    "timeouts must be greater than 0",
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
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<BookstoreConfig, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        platform::config::load(None, &env)
    }

    #[test]
    fn defaults_give_the_documented_ports_and_embedded_sqlite() {
        let config = load(&[]).unwrap();
        assert_eq!(config.listen_address(ServiceName::Inventory).port(), 50055);
        assert_eq!(config.listen_address(ServiceName::Bff).port(), 8080);
        assert_eq!(
            config.database_url(ServiceName::User),
            "sqlite://data/user.db?mode=rwc"
        );
        assert_eq!(
            config.upstream(ServiceName::Cart).endpoints,
            vec!["http://127.0.0.1:50053"]
        );
    }

    #[test]
    fn environment_variables_reach_nested_sections() {
        let config = load(&[
            ("BOOKSTORE_REDIS_URL", "redis://cache:6379"),
            ("BOOKSTORE_ORDER__LISTEN", "0.0.0.0:6000"),
            (
                "BOOKSTORE_INVENTORY__DATABASE_URL",
                "postgres://postgres@db/inventory",
            ),
            (
                "BOOKSTORE_INVENTORY__ENDPOINTS",
                "[\"http://inv-0:50055\", \"http://inv-1:50055\"]",
            ),
        ])
        .unwrap();
        assert_eq!(config.redis_url, "redis://cache:6379");
        assert_eq!(config.listen_address(ServiceName::Order).port(), 6000);
        assert_eq!(
            config.database_url(ServiceName::Inventory),
            "postgres://postgres@db/inventory"
        );
        assert_eq!(config.upstream(ServiceName::Inventory).endpoints.len(), 2);
    }

    #[test]
    fn cart_alone_can_use_a_redis_cluster() {
        let config = load(&[(
            "BOOKSTORE_CART__REDIS_URL",
            "redis-cluster://10.0.0.1:7001,10.0.0.2:7001",
        )])
        .unwrap();
        assert_eq!(
            config.redis_url(ServiceName::Cart),
            "redis-cluster://10.0.0.1:7001,10.0.0.2:7001"
        );
        assert_eq!(config.redis_url(ServiceName::Catalog), "redis://127.0.0.1:6379");
    }

    #[test]
    fn each_bad_value_is_refused_naming_its_key() {
        let cases = [
            ("BOOKSTORE_USER__LISTEN", "localhost", "user.listen"),
            ("BOOKSTORE_REDIS_URL", "http://redis", "redis_url"),
            ("BOOKSTORE_CART__REDIS_URL", "cluster://a:1", "cart.redis_url"),
            (
                "BOOKSTORE_INVENTORY__REDIS_URL",
                "redis://elsewhere:6379",
                "inventory.redis_url",
            ),
            (
                "BOOKSTORE_CATALOG__DATABASE_URL",
                "mysql://x",
                "catalog.database_url",
            ),
            (
                "BOOKSTORE_GRPC__REQUEST_TIMEOUT_MS",
                "-5",
                "grpc.request_timeout_ms",
            ),
            ("BOOKSTORE_CART__LISTEN", "127.0.0.1:50051", "cart.listen"),
            (
                "BOOKSTORE_AUTH__SERVICE_TOKEN_TTL_SECS",
                "1",
                "auth.service_token_ttl_secs",
            ),
            (
                "BOOKSTORE_BFF__STOREFRONT_DIR",
                "/nonexistent/shop",
                "bff.storefront_dir",
            ),
        ];
        for (variable, value, key) in cases {
            let error = load(&[(variable, value)]).unwrap_err();
            assert_eq!(error.key, key, "{variable}={value}: {error}");
        }
    }
}
