//! A private Redis Cluster of three masters on free ports, for the tests that run carts
//! (`tests/tests/api/cart/cluster.rs`) and the whole stack (`tests/binary/cluster.rs`) on
//! one. Every wait is bounded and each step is logged, so a failure names its step.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// Bounds one `redis-cli` or `redis-server --version` run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

pub fn step(started: Instant, what: &str) {
    eprintln!("[cluster test {:>6.2}s] {what}", started.elapsed().as_secs_f64());
}

/// Runs a command to completion within [`COMMAND_TIMEOUT`] (killed on timeout: the future
/// owns the child) and returns its stdout.
pub async fn run(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let output = tokio::time::timeout(
        COMMAND_TIMEOUT,
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .with_context(|| {
        format!(
            "`{program} {}` did not finish in {COMMAND_TIMEOUT:?}",
            args.join(" ")
        )
    })?
    .with_context(|| format!("cannot run {program} (is it installed?)"))?;
    anyhow::ensure!(
        output.status.success(),
        "`{program} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

pub async fn cli(port: u16, args: &[&str]) -> anyhow::Result<String> {
    let port = port.to_string();
    let mut full = vec!["-p", port.as_str()];
    full.extend_from_slice(args);
    run("redis-cli", &full).await
}

/// Picks `count` distinct free ports below 32768. Cluster nodes also listen on a bus port,
/// and redis-server refuses a data port above 55535 (its default bus port is port + 10000),
/// which an OS-assigned port often is: so each bus port is chosen here too.
fn free_low_ports(count: usize) -> Vec<u16> {
    let seed = uuid::Uuid::new_v4().as_u128();
    let mut ports = Vec::new();
    let mut candidate = 20_000 + u16::try_from(seed % 10_000).unwrap_or(0);
    while ports.len() < count {
        candidate = if candidate >= 32_000 {
            20_000
        } else {
            candidate + 1
        };
        if std::net::TcpListener::bind(("127.0.0.1", candidate)).is_ok() {
            ports.push(candidate);
        }
    }
    ports
}

/// A private Redis Cluster of three masters; dropping it kills the nodes and removes their
/// files, also when the test panics.
#[derive(Debug)]
pub struct PrivateCluster {
    /// The masters' data ports.
    pub ports: Vec<u16>,
    nodes: Vec<Option<Child>>,
    dir: PathBuf,
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        for node in self.nodes.iter_mut().flatten() {
            let _ = node.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl PrivateCluster {
    pub async fn start(started: Instant) -> anyhow::Result<PrivateCluster> {
        run("redis-server", &["--version"]).await?;
        let dir = std::env::temp_dir()
            .join("bookstore-tests")
            .join(format!("cluster-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        let all = free_low_ports(6);
        let mut cluster = PrivateCluster {
            ports: all[..3].to_vec(),
            nodes: Vec::new(),
            dir,
        };
        for (port, bus) in all[..3].iter().zip(&all[3..]) {
            let dir = cluster.dir.display().to_string();
            let node = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--cluster-port", &bus.to_string()])
                .args(["--bind", "127.0.0.1", "--cluster-enabled", "yes"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--save", "", "--appendonly", "no", "--dir", &dir])
                .args(["--logfile", &format!("{dir}/redis-{port}.log")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .context("redis-server on PATH")?;
            cluster.nodes.push(Some(node));
        }
        step(
            started,
            &format!("nodes starting on {:?} (bus {:?})", &all[..3], &all[3..]),
        );
        for port in cluster.ports.clone() {
            cluster
                .wait_until(port, &["ping"], |reply| reply == "PONG")
                .await?;
        }
        let addresses: Vec<String> = cluster
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let mut create = vec!["--cluster", "create"];
        create.extend(addresses.iter().map(String::as_str));
        create.extend(["--cluster-replicas", "0", "--cluster-yes"]);
        run("redis-cli", &create).await?;
        step(
            started,
            "slots assigned, waiting for cluster_state:ok on every node",
        );
        for port in cluster.ports.clone() {
            cluster
                .wait_until(port, &["cluster", "info"], |reply| {
                    reply.contains("cluster_state:ok")
                })
                .await?;
        }
        step(started, "cluster ok");
        Ok(cluster)
    }

    /// Polls `redis-cli -p port args` for up to 20 s until `done` holds, and otherwise fails
    /// with the last reply and the tail of that node's log.
    pub async fn wait_until(
        &self,
        port: u16,
        args: &[&str],
        done: impl Fn(&str) -> bool,
    ) -> anyhow::Result<()> {
        let answered = crate::eventually(Duration::from_secs(20), Duration::from_millis(100), || async {
            match cli(port, args).await {
                Ok(text) if done(&text) => Ok(()),
                reply => Err(reply),
            }
        })
        .await;
        if let Err(reply) = answered {
            let log = std::fs::read_to_string(self.dir.join(format!("redis-{port}.log"))).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(10).collect();
            anyhow::bail!(
                "node {port}: `{}` never ready, last {reply:?}; log tail: {tail:?}",
                args.join(" ")
            );
        }
        Ok(())
    }

    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        format!("redis-cluster://{}", nodes.join(","))
    }

    /// Returns the port of the master holding `key`'s slot: the one node that answers for
    /// it instead of redirecting with MOVED.
    pub async fn owner(&self, key: &str) -> anyhow::Result<u16> {
        for port in &self.ports {
            if !cli(*port, &["exists", key]).await?.starts_with("MOVED") {
                return Ok(*port);
            }
        }
        anyhow::bail!("no node owns {key}")
    }

    pub async fn slot(&self, key: &str) -> anyhow::Result<String> {
        cli(self.ports[0], &["cluster", "keyslot", key]).await
    }

    /// Reads a key through any node, following redirections (`redis-cli -c`).
    pub async fn follow(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut full = vec!["-c"];
        full.extend_from_slice(args);
        cli(self.ports[0], &full).await
    }

    pub async fn kill(&mut self, port: u16) -> anyhow::Result<()> {
        let index = self
            .ports
            .iter()
            .position(|known| *known == port)
            .context("unknown node")?;
        if let Some(mut node) = self.nodes[index].take() {
            node.kill().await?;
        }
        Ok(())
    }
}
