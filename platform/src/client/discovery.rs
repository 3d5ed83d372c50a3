//! Traffic follows pods: each upstream host name is resolved again every
//! `discovery.resolve_interval_ms`, and the channel's balancer gains an endpoint for every
//! address that appears and loses the ones that disappear. A headless Kubernetes Service
//! answers with every ready pod, so a scale-out or a rolling update reaches callers within
//! one interval, without waiting for connections to break. Addresses (IP literals) are
//! used as they are.
//!
//! The names are resolved by the system resolver (`getaddrinfo`: `/etc/hosts`, then the
//! cluster DNS), or by `discovery.dns_server` when it is set (hickory-resolver, asking that
//! server only, nothing cached: for tests and special set-ups).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc::Sender;
use tonic::transport::Endpoint;
use tonic::transport::channel::Change;

use crate::ServiceName;

/// How upstream names are resolved (`discovery.*`, process-wide).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// How often each upstream host name is resolved again.
    pub resolve_interval_ms: u64,
    /// A DNS server (`ip:port`) to ask instead of the system resolver.
    pub dns_server: Option<SocketAddr>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            resolve_interval_ms: 5_000,
            dns_server: None,
        }
    }
}

impl crate::config::Validate for DiscoveryConfig {
    fn validate(&self) -> Result<(), crate::config::ConfigError> {
        if self.resolve_interval_ms == 0 {
            return Err(crate::config::ConfigError::invalid(
                "discovery.resolve_interval_ms",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}

/// Builds the endpoint for a URI (`scheme://ip:port`) that stands for `host`: timeouts, and
/// TLS whose certificate is checked against the host name, not the address.
pub(crate) type MakeEndpoint = std::sync::Arc<dyn Fn(&str, &str) -> Result<Endpoint, String> + Send + Sync>;

/// One configured endpoint URL, taken apart.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    pub(crate) scheme: String,
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// Where each resolved address of one endpoint gets its balancer entry.
type Key = (usize, SocketAddr);

/// Asks for the addresses of a name.
#[derive(Clone)]
enum Lookup {
    System,
    Server(Box<hickory_resolver::TokioResolver>),
}

impl Lookup {
    fn new(config: &DiscoveryConfig) -> Result<Self, String> {
        let Some(server) = config.dns_server else {
            return Ok(Lookup::System);
        };
        use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
        let mut udp = ConnectionConfig::udp();
        udp.port = server.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = server.port();
        let name_server = NameServerConfig::new(server.ip(), true, vec![udp, tcp]);
        let mut builder = hickory_resolver::Resolver::builder_with_config(
            ResolverConfig::from_name_servers(vec![name_server]),
            hickory_resolver::net::runtime::TokioRuntimeProvider::default(),
        );
        let options = builder.options_mut();
        // Every interval asks again: a cached answer would hide the change it looks for.
        options.cache_size = 0;
        options.timeout = Duration::from_secs(1);
        options.attempts = 1;
        options.ip_strategy = hickory_resolver::config::LookupIpStrategy::Ipv4thenIpv6;
        let resolver = builder
            .build()
            .map_err(|error| format!("invalid discovery.dns_server: {error}"))?;
        Ok(Lookup::Server(Box::new(resolver)))
    }

    /// The addresses of `host`: the IPv4 ones when there are any (the chart's pods listen on
    /// 0.0.0.0, and `localhost` also names ::1, where nothing may listen), else the IPv6 ones.
    async fn addresses(&self, host: &str, port: u16) -> Result<HashSet<SocketAddr>, String> {
        let all = self.all_addresses(host, port).await?;
        let v4: HashSet<SocketAddr> = all.iter().filter(|address| address.is_ipv4()).copied().collect();
        Ok(if v4.is_empty() { all } else { v4 })
    }

    async fn all_addresses(&self, host: &str, port: u16) -> Result<HashSet<SocketAddr>, String> {
        match self {
            Lookup::System => tokio::net::lookup_host((host, port))
                .await
                .map(Iterator::collect)
                .map_err(|error| error.to_string()),
            Lookup::Server(resolver) => {
                let name = if host.ends_with('.') {
                    host.to_owned()
                } else {
                    format!("{host}.")
                };
                let found = resolver
                    .lookup_ip(name.as_str())
                    .await
                    .map_err(|error| error.to_string())?;
                Ok(found.iter().map(|ip| SocketAddr::new(ip, port)).collect())
            }
        }
    }
}

/// Keeps the balancer's endpoints equal to what the names resolve to, until the channel is
/// dropped (its receiver goes with it, and the next send fails). A name that does not
/// resolve keeps its last addresses: a DNS hiccup must not empty the balancer.
pub(crate) async fn follow(
    callee: ServiceName,
    upstreams: Vec<Upstream>,
    config: DiscoveryConfig,
    make: MakeEndpoint,
    changes: Sender<Change<Key, Endpoint>>,
) {
    let lookup = match Lookup::new(&config) {
        Ok(lookup) => lookup,
        Err(reason) => {
            tracing::error!(%callee, reason, "upstream discovery cannot start");
            return;
        }
    };
    let mut known: HashMap<usize, HashSet<SocketAddr>> = HashMap::new();
    let interval = Duration::from_millis(config.resolve_interval_ms);
    loop {
        for (index, upstream) in upstreams.iter().enumerate() {
            let found = match upstream.host.parse::<IpAddr>() {
                Ok(ip) => Ok(HashSet::from([SocketAddr::new(ip, upstream.port)])),
                Err(_) => lookup.addresses(&upstream.host, upstream.port).await,
            };
            let found = match found {
                Ok(found) if !found.is_empty() => found,
                Ok(_) => {
                    tracing::warn!(%callee, host = upstream.host, "upstream name has no addresses, keeping the last ones");
                    continue;
                }
                Err(reason) => {
                    tracing::warn!(%callee, host = upstream.host, reason, "upstream name did not resolve, keeping the last addresses");
                    continue;
                }
            };
            let before = known.entry(index).or_default();
            for gone in before.difference(&found) {
                tracing::info!(%callee, address = %gone, "upstream address gone");
                if changes.send(Change::Remove((index, *gone))).await.is_err() {
                    return;
                }
            }
            for new in found.difference(before) {
                let uri = format!("{}://{new}", upstream.scheme);
                let endpoint = match make(&uri, &upstream.host) {
                    Ok(endpoint) => endpoint,
                    Err(reason) => {
                        tracing::warn!(%callee, address = %new, reason, "upstream address unusable");
                        continue;
                    }
                };
                tracing::info!(%callee, address = %new, "upstream address added");
                if changes
                    .send(Change::Insert((index, *new), endpoint))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            *before = found;
        }
        tokio::select! {
            () = changes.closed() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
