//! The BFF's settings: the `bff.*` keys. The BFF is not a gRPC service, so its listener is
//! one of its own keys rather than the wiring the gRPC services share.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use platform::config::{ConfigError, Validate};
use serde::Deserialize;

use crate::graphql::Limits;
use crate::http::client_address::{TrustedProxies, parse_network};
use crate::http::rate_limit::RateLimits;

/// The BFF's knobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `bff.listen`: its HTTP listener (default `127.0.0.1:8080`).
    pub listen: Option<SocketAddr>,
    /// `bff.readiness_timeout_ms`: how long `/readyz?verbose` waits for each upstream (default 1000).
    pub readiness_timeout_ms: u64,
    /// `bff.graphiql`: GraphiQL at `GET /graphql` for browsers (default true).
    pub graphiql: bool,
    /// `bff.introspection`: schema introspection (default true).
    pub introspection: bool,
    /// `bff.max_depth`, `bff.max_complexity`, `bff.max_aliases`: query limits (default 12,
    /// 5000, 30; a storefront page is depth 6 and complexity about 300).
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    /// `bff.max_body_bytes`: the largest request body; 413 beyond (default 65536).
    pub max_body_bytes: usize,
    /// `bff.request_timeout_ms`: the whole budget of one GraphQL request; what is left is
    /// each gRPC call's deadline (default 10000).
    pub request_timeout_ms: u64,
    /// `bff.cors_origins`: browser origins allowed by CORS, credentials allowed (default none).
    pub cors_origins: Vec<String>,
    /// `bff.secure_cookies`: mark session cookies `Secure`, for a BFF reached over TLS
    /// (default false).
    pub secure_cookies: bool,
    /// `bff.persisted_queries`: entries of the automatic persisted-query cache (default 1000).
    pub persisted_queries: usize,
    /// `bff.report_upstream_calls`: diagnostics, each response's `extensions.upstreamCalls`
    /// counts its gRPC calls (default false).
    pub report_upstream_calls: bool,
    /// `bff.rate_per_user`, `bff.rate_per_address`, `bff.rate_burst`: requests a second per
    /// signed-in user and per anonymous address, and the burst above it (default 50, 200,
    /// 200).
    pub rate_per_user: u32,
    pub rate_per_address: u32,
    pub rate_burst: u32,
    /// `bff.max_concurrent_requests`: GraphQL requests run at once; one more is refused at
    /// once with 503 and `Retry-After` (default 16 per CPU).
    pub max_concurrent_requests: usize,
    /// `bff.storefront_dir`: a built shop (a folder with `index.html`) to serve at `/`
    /// instead of the one built into the binary.
    pub storefront_dir: Option<PathBuf>,
    /// `bff.trusted_proxies`: CIDRs (or single addresses) of the proxies in front of the
    /// BFF; from a peer inside them the client address is read from `Forwarded` or
    /// `X-Forwarded-For` (default none: the peer is the client).
    pub trusted_proxies: Vec<String>,
    /// `bff.cache.*`: the catalogue cache (see [`CacheSettings`]).
    pub cache: CacheSettings,
}

/// `bff.cache.*`: books, catalogue pages and availability served from memory, kept fresh
/// by catalog's book events and inventory's stock events (`crate::cache`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    /// `bff.cache.enabled`: serve catalogue reads from the cache (default true).
    pub enabled: bool,
    /// `bff.cache.max_books`: books, and availabilities, kept (default 20000 each; a book
    /// is about 1-2 KiB).
    pub max_books: u64,
    /// `bff.cache.max_pages`: book pages kept, and searches (default 5000 each); whole
    /// answers within `max_pages` x 8 KiB.
    pub max_pages: u64,
    /// `bff.cache.ttl_secs`: the backstop: nothing is served older than this, events or
    /// not (default 300).
    pub ttl_secs: u64,
    /// `bff.cache.search_ttl_ms`: how long a full-text search page is kept (default 5000).
    pub search_ttl_ms: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            max_books: 20_000,
            max_pages: 5_000,
            ttl_secs: 300,
            search_ttl_ms: 5_000,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        let limits = Limits::default();
        let rates = RateLimits::default();
        Self {
            listen: None,
            readiness_timeout_ms: 1_000,
            graphiql: true,
            introspection: limits.introspection,
            max_depth: limits.max_depth,
            max_complexity: limits.max_complexity,
            max_aliases: limits.max_aliases,
            max_body_bytes: 64 * 1024,
            request_timeout_ms: 10_000,
            cors_origins: Vec::new(),
            secure_cookies: false,
            persisted_queries: limits.persisted_queries,
            report_upstream_calls: false,
            rate_per_user: rates.per_user_per_second,
            rate_per_address: rates.per_address_per_second,
            rate_burst: rates.burst,
            max_concurrent_requests: crate::http::shed::default_max_concurrent_requests(),
            storefront_dir: None,
            trusted_proxies: Vec::new(),
            cache: CacheSettings::default(),
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.max_concurrent_requests == 0 {
            return Err(ConfigError::invalid(
                "bff.max_concurrent_requests",
                "must be greater than 0",
            ));
        }
        for (key, value) in [
            ("bff.cache.max_books", self.cache.max_books),
            ("bff.cache.max_pages", self.cache.max_pages),
            ("bff.cache.ttl_secs", self.cache.ttl_secs),
            ("bff.cache.search_ttl_ms", self.cache.search_ttl_ms),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be greater than 0"));
            }
        }
        if self.cache.search_ttl_ms > self.cache.ttl_secs.saturating_mul(1_000) {
            return Err(ConfigError::invalid(
                "bff.cache.search_ttl_ms",
                "must not be longer than bff.cache.ttl_secs",
            ));
        }
        for entry in &self.trusted_proxies {
            parse_network(entry).map_err(|reason| ConfigError::invalid("bff.trusted_proxies", reason))?;
        }
        if let Some(directory) = &self.storefront_dir
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
        Ok(())
    }
}

impl Settings {
    /// The query limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            max_aliases: self.max_aliases,
            introspection: self.introspection,
            persisted_queries: self.persisted_queries,
        }
    }

    /// The proxies whose forwarding headers are believed (entries that do not parse were
    /// refused by `validate`).
    pub fn trusted_proxies(&self) -> TrustedProxies {
        let mut networks = Vec::new();
        for entry in &self.trusted_proxies {
            if let Ok(network) = parse_network(entry) {
                networks.push(network);
            }
        }
        TrustedProxies::new(networks)
    }

    /// The request rates allowed.
    pub fn rate_limits(&self) -> RateLimits {
        RateLimits {
            per_user_per_second: self.rate_per_user,
            per_address_per_second: self.rate_per_address,
            burst: self.rate_burst,
        }
    }

    /// The budget of one GraphQL request.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// How long `/readyz` waits for each upstream.
    pub fn readiness_timeout(&self) -> Duration {
        Duration::from_millis(self.readiness_timeout_ms)
    }
}
