//! One Redis connection type for a single node and for Redis Cluster, so callers (Lua
//! scripts, pipelines, plain commands) are written once.
//!
//! A cluster is named by `redis-cluster://[user:password@]host:port,host:port,…`: any
//! reachable node is enough to learn the slot map, listing several only helps when one is
//! down at start-up. `redis://` and `rediss://` stay a single node.

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// The URL scheme that names a Redis Cluster by some of its nodes.
pub const CLUSTER_SCHEME: &str = "redis-cluster://";

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
        match self {
            RedisConnection::Single(connection) => connection.req_packed_command(cmd),
            RedisConnection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConnection::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            RedisConnection::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConnection::Single(connection) => connection.get_db(),
            RedisConnection::Cluster(connection) => connection.get_db(),
        }
    }
}

/// Returns the node URLs of a `redis-cluster://` URL (each `redis://[credentials@]host:port`),
/// or `None` for any other scheme.
///
/// # Errors
/// Fails when the list is empty or a node lacks a host or port.
pub fn cluster_nodes(url: &str) -> Option<anyhow::Result<Vec<String>>> {
    let rest = url.strip_prefix(CLUSTER_SCHEME)?;
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
        nodes.push(format!("redis://{credentials}{node}"));
    }
    Some(Ok(nodes))
}

/// Connects to the cluster whose nodes are `nodes`, with the same per-node timeouts as a
/// single node.
pub(super) async fn connect_cluster(nodes: Vec<String>) -> anyhow::Result<ClusterConnection> {
    let client = ClusterClient::builder(nodes)
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
