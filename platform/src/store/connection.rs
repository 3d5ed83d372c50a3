//! One Redis connection type for a single node and for Redis Cluster, so callers (Lua
//! scripts, pipelines, plain commands) are written once.
//!
//! A cluster is named by `redis-cluster://[user:password@]host:port,host:port,…` (or
//! `redis-cluster+tls://…` over TLS): any reachable node is enough to learn the slot map,
//! listing several only helps when one is down at start-up. `redis://` and `rediss://` stay
//! a single node.

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, Pipeline, RedisFuture, TlsCertificates, Value};
use tracing::Instrument as _;

use crate::telemetry::db_spans;

/// The URL scheme that names a Redis Cluster by some of its nodes.
pub const CLUSTER_SCHEME: &str = "redis-cluster://";
/// The same over TLS (each node is then reached as `rediss://`).
pub const CLUSTER_TLS_SCHEME: &str = "redis-cluster+tls://";

/// How long one node may take to accept a connection, so a dead node shows as an error (and
/// health as NOT_SERVING) instead of a hang. Answers get `redis_timeout_ms`.
pub(super) const NODE_TIMEOUT: Duration = Duration::from_secs(2);

/// Bounds the whole cluster handshake (a connection to each node plus `CLUSTER SLOTS`),
/// which the client library retries on its own without an overall deadline.
const CLUSTER_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection handle to a single node or to a cluster; clones share the connection.
/// It implements [`redis::aio::ConnectionLike`], so `query_async`, `Script::invoke_async` and
/// pipelines take it as they take a [`ConnectionManager`]. On a cluster every command goes
/// to the node owning its key's slot, so a script or pipeline must keep to one slot.
#[derive(Clone)]
pub enum RedisConnection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            RedisConnection::Single(_) => "RedisConnection::Single",
            RedisConnection::Cluster(_) => "RedisConnection::Cluster",
        })
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let span = db_spans::redis(|| command_name(cmd));
        let sent = match self {
            RedisConnection::Single(connection) => connection.req_packed_command(cmd),
            RedisConnection::Cluster(connection) => connection.req_packed_command(cmd),
        };
        traced(span, sent)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let span = db_spans::redis(|| "PIPELINE".into());
        let sent = match self {
            RedisConnection::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            RedisConnection::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        };
        traced(span, sent)
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConnection::Single(connection) => connection.get_db(),
            RedisConnection::Cluster(connection) => connection.get_db(),
        }
    }
}

/// A command's name as the conventions want it (`GET`, `EVALSHA`).
fn command_name(cmd: &Cmd) -> std::borrow::Cow<'static, str> {
    match cmd.args_iter().next() {
        Some(redis::Arg::Simple(name)) => String::from_utf8_lossy(name).to_ascii_uppercase().into(),
        _ => "COMMAND".into(),
    }
}

/// Runs a command in its span, marked failed when Redis refused it or did not answer.
fn traced<'a, T: Send + 'a>(span: tracing::Span, sent: RedisFuture<'a, T>) -> RedisFuture<'a, T> {
    if span.is_none() {
        return sent;
    }
    Box::pin(async move {
        let result = sent.instrument(span.clone()).await;
        db_spans::record(&span, &result, |error: &redis::RedisError| {
            if error.is_timeout() {
                "timeout"
            } else if error.is_io_error() || error.is_connection_dropped() {
                "unavailable"
            } else {
                "refused"
            }
        });
        result
    })
}

/// Returns the node URLs of a `redis-cluster://` URL (each `redis://[credentials@]host:port`)
/// or of a `redis-cluster+tls://` URL (each `rediss://…`), or `None` for any other scheme.
///
/// # Errors
/// Fails when the list is empty or a node lacks a host or port.
pub fn cluster_nodes(url: &str) -> Option<anyhow::Result<Vec<String>>> {
    let (rest, node_scheme) = match url.strip_prefix(CLUSTER_TLS_SCHEME) {
        Some(rest) => (rest, "rediss://"),
        None => (url.strip_prefix(CLUSTER_SCHEME)?, "redis://"),
    };
    let (credentials, hosts) = match rest.rsplit_once('@') {
        Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
        None => (String::new(), rest),
    };
    let hosts = hosts.trim_end_matches('/');
    let mut nodes = Vec::new();
    for node in hosts.split(',') {
        let node = node.trim();
        let valid = matches!(
            node.rsplit_once(':'),
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok()
        );
        if !valid {
            return Some(Err(anyhow::anyhow!(
                "cluster node `{node}` is not host:port (want {CLUSTER_SCHEME}host:port,host:port)"
            )));
        }
        nodes.push(format!("{node_scheme}{credentials}{node}"));
    }
    Some(Ok(nodes))
}

/// Connects to the cluster whose nodes are `nodes`, with the same per-node timeouts as a
/// single node; `certificates` replace the system's roots for `rediss://` nodes.
pub(super) async fn connect_cluster(
    nodes: Vec<String>,
    certificates: Option<TlsCertificates>,
) -> anyhow::Result<ClusterConnection> {
    let mut builder = ClusterClient::builder(nodes);
    if let Some(certificates) = certificates {
        builder = builder.certs(certificates);
    }
    let client = builder
        .connection_timeout(NODE_TIMEOUT)
        .response_timeout(super::redis_timeout())
        // Retries and MOVED/ASK redirections share one budget per command, so a command
        // fails after about two node timeouts rather than after the first hiccup.
        .overall_response_timeout(Some(super::redis_timeout() * 2))
        .retries(2)
        .build()
        .context("invalid redis cluster nodes")?;
    tokio::time::timeout(CLUSTER_CONNECT_TIMEOUT, client.get_async_connection())
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {CLUSTER_CONNECT_TIMEOUT:?}"))?
        .context("cluster handshake failed")
}

/// Answers whether every master of the cluster answers a `PING` sent to its address. The
/// client library's own `PING` fan-out skips a master it has lost its connection to, so a
/// cluster with a dead master (a third of the carts unreachable) would look ready.
pub(super) async fn ping_every_master(connection: &mut ClusterConnection) -> Result<(), String> {
    let slots: Value = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(connection)
        .await
        .map_err(|error| format!("redis cluster: {error}"))?;
    let masters = masters(&slots);
    if masters.is_empty() {
        return Err("redis cluster: no slots assigned".to_owned());
    }
    for (host, port) in masters {
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
            host: host.clone(),
            port,
        });
        connection
            .route_command(redis::cmd("PING"), routing)
            .await
            .map_err(|error| format!("redis cluster master {host}:{port}: {error}"))?;
    }
    Ok(())
}

/// Returns the master serving `key`'s slot, as `(host, port)`: where a blocking command on
/// that key must be sent on a connection of its own.
///
/// # Errors
/// Fails when the cluster does not answer or no master serves the slot.
pub(super) async fn master_of_key(
    connection: &mut ClusterConnection,
    key: &str,
) -> anyhow::Result<(String, u16)> {
    let slot: i64 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(connection)
        .await
        .context("failed to ask the cluster for the key's slot")?;
    let slots: Value = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(connection)
        .await
        .context("failed to read the cluster's slots")?;
    slot_master(&slots, slot).with_context(|| format!("no master serves slot {slot}"))
}

/// The master of the `CLUSTER SLOTS` range holding `slot`.
fn slot_master(slots: &Value, slot: i64) -> Option<(String, u16)> {
    let Value::Array(ranges) = slots else {
        return None;
    };
    for range in ranges {
        let Value::Array(fields) = range else { continue };
        let (Some(Value::Int(start)), Some(Value::Int(end))) = (fields.first(), fields.get(1)) else {
            continue;
        };
        if !(*start..=*end).contains(&slot) {
            continue;
        }
        let Some(Value::Array(master)) = fields.get(2) else {
            return None;
        };
        let (Some(Value::BulkString(host)), Some(Value::Int(port))) = (master.first(), master.get(1)) else {
            return None;
        };
        return Some((String::from_utf8(host.clone()).ok()?, u16::try_from(*port).ok()?));
    }
    None
}

/// The URL of one node of a cluster: `template`'s scheme and credentials (one of the
/// cluster's node URLs) at `host:port`.
pub(super) fn node_url(template: &str, host: &str, port: u16) -> String {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    match template.rsplit_once('@') {
        Some((head, _)) => format!("{head}@{host}:{port}"),
        None => {
            let scheme = match template.split_once("://") {
                Some((scheme, _)) => scheme,
                None => "redis",
            };
            format!("{scheme}://{host}:{port}")
        }
    }
}

/// Returns the distinct masters of a `CLUSTER SLOTS` reply (each range: start, end, master
/// `[host, port, id, …]`, replicas…).
fn masters(slots: &Value) -> Vec<(String, u16)> {
    let mut masters = Vec::new();
    let Value::Array(ranges) = slots else {
        return masters;
    };
    for range in ranges {
        let Value::Array(fields) = range else { continue };
        let Some(Value::Array(master)) = fields.get(2) else {
            continue;
        };
        let (Some(Value::BulkString(host)), Some(Value::Int(port))) = (master.first(), master.get(1)) else {
            continue;
        };
        let (Ok(host), Ok(port)) = (String::from_utf8(host.clone()), u16::try_from(*port)) else {
            continue;
        };
        if !masters.contains(&(host.clone(), port)) {
            masters.push((host, port));
        }
    }
    masters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_urls_list_their_nodes_and_keep_credentials() {
        let nodes = cluster_nodes("redis-cluster://127.0.0.1:7001,127.0.0.1:7002")
            .and_then(Result::ok)
            .unwrap_or_default();
        assert_eq!(nodes, ["redis://127.0.0.1:7001", "redis://127.0.0.1:7002"]);
        let nodes = cluster_nodes("redis-cluster://app:s3cret@a:1, b:2/")
            .and_then(Result::ok)
            .unwrap_or_default();
        assert_eq!(nodes, ["redis://app:s3cret@a:1", "redis://app:s3cret@b:2"]);
        let nodes = cluster_nodes("redis-cluster+tls://app:s3cret@a:1,b:2")
            .and_then(Result::ok)
            .unwrap_or_default();
        assert_eq!(nodes, ["rediss://app:s3cret@a:1", "rediss://app:s3cret@b:2"]);
        assert!(cluster_nodes("rediss://a:1").is_none());
        assert!(matches!(cluster_nodes("redis-cluster+tls://a"), Some(Err(_))));
    }

    #[test]
    fn a_node_url_keeps_the_clusters_scheme_and_credentials() {
        assert_eq!(
            node_url("rediss://app:pw@a:1", "10.0.0.7", 7002),
            "rediss://app:pw@10.0.0.7:7002"
        );
        assert_eq!(node_url("redis://a:1", "::1", 7002), "redis://[::1]:7002");
    }

    #[test]
    fn masters_are_read_once_each_from_cluster_slots() {
        let node = |port: i64| {
            Value::Array(vec![
                Value::BulkString(b"127.0.0.1".to_vec()),
                Value::Int(port),
                Value::BulkString(b"id".to_vec()),
            ])
        };
        let range = |start: i64, end: i64, master: Value| {
            Value::Array(vec![Value::Int(start), Value::Int(end), master, node(9)])
        };
        let slots = Value::Array(vec![
            range(0, 10, node(7001)),
            range(11, 20, node(7002)),
            range(21, 30, node(7001)),
        ]);
        assert_eq!(
            masters(&slots),
            [("127.0.0.1".to_owned(), 7001), ("127.0.0.1".to_owned(), 7002)]
        );
        assert!(masters(&Value::Nil).is_empty());
    }

    #[test]
    fn the_master_of_a_slot_is_the_one_whose_range_holds_it() {
        let range = |start: i64, end: i64, port: i64| {
            Value::Array(vec![
                Value::Int(start),
                Value::Int(end),
                Value::Array(vec![Value::BulkString(b"127.0.0.1".to_vec()), Value::Int(port)]),
            ])
        };
        let slots = Value::Array(vec![
            range(0, 5460, 7001),
            range(5461, 10922, 7002),
            range(10923, 16383, 7003),
        ]);
        assert_eq!(slot_master(&slots, 5461), Some(("127.0.0.1".to_owned(), 7002)));
        assert_eq!(slot_master(&slots, 16383), Some(("127.0.0.1".to_owned(), 7003)));
        assert_eq!(slot_master(&Value::Array(vec![range(0, 10, 7001)]), 11), None);
    }

    #[test]
    fn single_node_urls_are_not_clusters_and_bad_node_lists_are_refused() {
        assert!(cluster_nodes("redis://127.0.0.1:6379").is_none());
        for bad in [
            "redis-cluster://",
            "redis-cluster://a:1,,b:2",
            "redis-cluster://a",
        ] {
            assert!(matches!(cluster_nodes(bad), Some(Err(_))), "{bad}");
        }
    }
}
