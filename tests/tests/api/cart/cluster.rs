//! svc-cart on a real Redis Cluster: a private three-master cluster on free ports, every cart
//! RPC through gRPC, keys checked on the nodes with `redis-cli`, then a master killed.
//!
//! Every wait is bounded and each step is logged (`--nocapture` shows it), so a failure names
//! its step instead of hanging the suite. redis-server missing fails the test: CI has it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::cart::v1 as pb;
use tokio::process::{Child, Command};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

use super::{add, books, client, get, guest_owner, quantities, user_owner};

/// Bounds one `redis-cli` or `redis-server --version` run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

fn step(started: Instant, what: &str) {
    eprintln!("[cluster test {:>6.2}s] {what}", started.elapsed().as_secs_f64());
}

/// Runs a command to completion within [`COMMAND_TIMEOUT`] (killed on timeout: the future
/// owns the child) and returns its stdout.
async fn run(program: &str, args: &[&str]) -> anyhow::Result<String> {
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

async fn cli(port: u16, args: &[&str]) -> anyhow::Result<String> {
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
    let mut candidate = 20_000 + u16::try_from(seed % 10_000).unwrap();
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
struct PrivateCluster {
    ports: Vec<u16>,
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
    async fn start(started: Instant) -> anyhow::Result<PrivateCluster> {
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
    async fn wait_until(&self, port: u16, args: &[&str], done: impl Fn(&str) -> bool) -> anyhow::Result<()> {
        let answered =
            bookstore_tests::eventually(Duration::from_secs(20), Duration::from_millis(100), || async {
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

    fn url(&self) -> String {
        let nodes: Vec<String> = self
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        format!("redis-cluster://{}", nodes.join(","))
    }

    /// Returns the port of the master holding `key`'s slot: the one node that answers for
    /// it instead of redirecting with MOVED.
    async fn owner(&self, key: &str) -> anyhow::Result<u16> {
        for port in &self.ports {
            if !cli(*port, &["exists", key]).await?.starts_with("MOVED") {
                return Ok(*port);
            }
        }
        anyhow::bail!("no node owns {key}")
    }

    async fn slot(&self, key: &str) -> anyhow::Result<String> {
        cli(self.ports[0], &["cluster", "keyslot", key]).await
    }

    /// Reads a key through any node, following redirections (`redis-cli -c`).
    async fn follow(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut full = vec!["-c"];
        full.extend_from_slice(args);
        cli(self.ports[0], &full).await
    }

    async fn kill(&mut self, port: u16) -> anyhow::Result<()> {
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

async fn set_quantity(mesh: &TestMesh, token: &str, user: &str, book: &str, quantity: i32) -> pb::Cart {
    let request = pb::SetQuantityRequest {
        owner: user_owner(user),
        book_id: book.to_owned(),
        quantity,
    };
    client(mesh)
        .set_quantity(with_token(request, token))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap()
}

#[tokio::test]
async fn carts_work_on_a_three_master_redis_cluster_with_one_slot_per_cart() {
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(120), on_a_cluster(started))
        .await
        .unwrap_or_else(|_| panic!("the cluster test did not finish in 120 s (see its last step above)"));
}

async fn on_a_cluster(started: Instant) {
    let mut cluster = PrivateCluster::start(started).await.unwrap();
    let url = cluster.url();
    // Only cart on the cluster: catalog's stock-event consumer needs a single node.
    let mesh = tokio::time::timeout(
        Duration::from_secs(40),
        TestMesh::builder()
            .with(ServiceName::Cart)
            .with(ServiceName::Catalog)
            .configure(move |config| config.cart.common.redis_url = Some(url))
            .start(),
    )
    .await
    .expect("mesh started in time")
    .unwrap();
    step(started, "mesh serving (cart connected to the cluster)");
    let ids = books(&mesh, 3).await;
    let (user, token) = mesh.keys().user_token(Role::Customer);
    let user = user.to_string();
    let user_key = format!("{}:cart:{{u:{user}}}", mesh.redis_prefix());

    // First script call on fresh nodes: EVALSHA answers NOSCRIPT, the script is loaded on
    // the masters, and EVALSHA runs on the key's node.
    add(&mesh, &token, user_owner(&user), &ids[0], 2).await.unwrap();
    let cart = add(&mesh, &token, user_owner(&user), &ids[0], 3).await.unwrap();
    assert_eq!(quantities(&cart), [(ids[0].clone(), 5)]);
    set_quantity(&mesh, &token, &user, &ids[1], 7).await;
    let cart = get(&mesh, &token, user_owner(&user)).await.unwrap();
    assert_eq!(cart.lines.len(), 2);
    let cart = set_quantity(&mesh, &token, &user, &ids[1], 0).await;
    assert_eq!(quantities(&cart), [(ids[0].clone(), 5)], "0 removes the line");
    step(started, "add, set, get on the cluster");

    // The key lives where its hash tag says: same slot as the bare tag, on one master.
    assert_eq!(
        cluster.slot(&user_key).await.unwrap(),
        cluster.slot(&format!("u:{user}")).await.unwrap(),
        "the slot comes from the hash tag"
    );
    let user_node = cluster.owner(&user_key).await.unwrap();
    assert_eq!(cli(user_node, &["exists", &user_key]).await.unwrap(), "1");
    assert_eq!(cluster.follow(&["hget", &user_key, &ids[0]]).await.unwrap(), "5");

    // Scripts flushed everywhere (as after a failover to a fresh replica): loaded again.
    for port in cluster.ports.clone() {
        cli(port, &["script", "flush"]).await.unwrap();
    }
    let cart = add(&mesh, &token, user_owner(&user), &ids[0], 1).await.unwrap();
    assert_eq!(
        quantities(&cart),
        [(ids[0].clone(), 6)],
        "reloaded after SCRIPT FLUSH"
    );
    step(started, "hash tag checked, scripts reloaded after a flush");

    // A guest cart on another master than the user's, merged in.
    let bff = mesh.bff_token(ServiceName::Cart);
    let mut session = String::new();
    for _ in 0..100 {
        let candidate = format!("guest-{}", uuid::Uuid::new_v4().simple());
        let key = format!("{}:cart:{{g:{candidate}}}", mesh.redis_prefix());
        if cluster.owner(&key).await.unwrap() != user_node {
            session = candidate;
            break;
        }
    }
    assert!(!session.is_empty(), "a guest key on another node");
    let guest_key = format!("{}:cart:{{g:{session}}}", mesh.redis_prefix());
    add(&mesh, &bff, guest_owner(&session), &ids[0], 60)
        .await
        .unwrap();
    add(&mesh, &bff, guest_owner(&session), &ids[2], 2).await.unwrap();
    let guest_node = cluster.owner(&guest_key).await.unwrap();
    assert_ne!(guest_node, user_node);
    assert_eq!(cli(guest_node, &["exists", &guest_key]).await.unwrap(), "1");
    let merge = pb::MergeCartsRequest {
        guest_session_id: session.clone(),
        user_id: user.clone(),
    };
    let merged = client(&mesh)
        .merge_carts(with_token(merge.clone(), &bff))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    let mut expected = vec![(ids[0].clone(), 66), (ids[2].clone(), 2)];
    expected.sort();
    assert_eq!(
        quantities(&merged),
        expected,
        "6 + 60, and the guest's other book"
    );
    assert_eq!(
        cluster.follow(&["exists", &guest_key]).await.unwrap(),
        "0",
        "guest cart gone"
    );
    let again = client(&mesh)
        .merge_carts(with_token(merge, &bff))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    assert_eq!(quantities(&again), expected, "a retried merge changes nothing");
    step(
        started,
        &format!("merged guest (node {guest_node}) into user (node {user_node})"),
    );

    client(&mesh)
        .clear_cart(with_token(
            pb::ClearCartRequest {
                owner: user_owner(&user),
            },
            &token,
        ))
        .await
        .unwrap();
    assert!(
        get(&mesh, &token, user_owner(&user))
            .await
            .unwrap()
            .lines
            .is_empty()
    );
    assert_eq!(cli(user_node, &["exists", &user_key]).await.unwrap(), "0");
    step(started, "cleared");

    // A dead master: its carts fail fast with UNAVAILABLE and health says NOT_SERVING.
    add(&mesh, &token, user_owner(&user), &ids[1], 1).await.unwrap();
    cluster.kill(user_node).await.unwrap();
    let asked = Instant::now();
    let status = get(&mesh, &token, user_owner(&user)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        asked.elapsed() < Duration::from_secs(8),
        "answered in {:?}",
        asked.elapsed()
    );
    mesh.wait_for_status(
        ServiceName::Cart,
        ServingStatus::NotServing,
        Duration::from_secs(15),
    )
    .await
    .unwrap();
    step(
        started,
        &format!("dead master answered UNAVAILABLE in {:?}", asked.elapsed()),
    );

    tokio::time::timeout(Duration::from_secs(20), mesh.shutdown())
        .await
        .expect("mesh stopped in time")
        .unwrap();
    drop(cluster);
    step(started, "done");
}
