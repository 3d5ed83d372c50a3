//! `bookstore up` with every Redis user on a private three-master Redis Cluster: carts, the
//! login throttle (keys under `{login}`), and the stock events catalog follows (a stream
//! under `{stock-events}`, read by blocking on the master that owns it). A shop journey and
//! a small storm through the BFF, then the keys are checked on their nodes.

use std::time::{Duration, Instant};

use bookstore_tests::redis_cluster::{PrivateCluster, cli, step};
use bookstore_tests::stack::GraphQl;
use bookstore_tests::{eventually, free_port};
use platform::ServiceName;
use serde_json::json;

use super::{bookstore, temp_dir, terminate, wait_for_serving};

const ADMIN: &str = "admin@cluster.test";
const ADMIN_PASSWORD: &str = "cluster admin password";
const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn the_whole_stack_runs_on_a_three_master_redis_cluster() {
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(150), on_a_cluster(started))
        .await
        .unwrap_or_else(|_| panic!("the cluster journey did not finish in 150 s (see its last step)"));
}

async fn in_stock(graphql: &GraphQl, book: &str, expected: bool) -> Result<(), String> {
    let seen = eventually(Duration::from_secs(15), Duration::from_millis(100), || async {
        let filter = json!({ "filter": { "inStock": expected, "author": "Storm Writer" }, "first": 100 });
        let reply = graphql
            .send(None, "query($filter: BookFilter, $first: Int) { books(filter: $filter, first: $first) { edges { node { id } } } }", filter)
            .await
            .map_err(|error| error.to_string())?;
        let listed = reply.data()["books"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|edge| edge["node"]["id"] == book);
        if listed { Ok(()) } else { Err(reply.body.to_string()) }
    })
    .await;
    seen.map_err(|last| format!("catalog never listed the book with inStock = {expected}: {last}"))
}

async fn on_a_cluster(started: Instant) {
    let cluster = PrivateCluster::start(started).await.unwrap();
    let data_dir = temp_dir("up-cluster");
    let prefix = platform::testing::redis_prefix();
    let mut command = bookstore();
    command
        .arg("up")
        .arg("--data-dir")
        .arg(&data_dir)
        .env("BOOKSTORE_REDIS_URL", cluster.url())
        .env("BOOKSTORE_REDIS_KEY_PREFIX", &prefix)
        .env("BOOKSTORE_BOOTSTRAP_ADMIN_EMAIL", ADMIN)
        .env("BOOKSTORE_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("BOOKSTORE_AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("BOOKSTORE_AUTH__ARGON2_ITERATIONS", "1");
    let mut bff_port = 0;
    let mut grpc_ports = Vec::new();
    for service in ServiceName::all() {
        let port = free_port();
        let variable = format!("BOOKSTORE_{}__LISTEN", service.as_str().to_uppercase());
        command.env(variable, format!("127.0.0.1:{port}"));
        match service {
            ServiceName::Bff => bff_port = port,
            grpc => grpc_ports.push((grpc, port)),
        }
    }
    let up = command.spawn().unwrap();
    for (service, port) in grpc_ports {
        wait_for_serving(port, service).await.unwrap();
    }
    step(started, "every service SERVING on the cluster");
    let graphql = GraphQl::new(format!("http://127.0.0.1:{bff_port}/graphql"));
    let admin = eventually(Duration::from_secs(20), Duration::from_millis(200), || {
        graphql.login(ADMIN, ADMIN_PASSWORD)
    })
    .await
    .unwrap();

    // Register, and fail to log in: the throttle's script runs on the {login} slot.
    let shoppers = graphql.register_shoppers("cluster", 4, 4).await.unwrap();
    for attempt in 0..6 {
        let reply = graphql
            .send(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
                json!({ "e": shoppers[0].email, "p": format!("guess {attempt}") }),
            )
            .await
            .unwrap();
        let expected = if attempt < 5 {
            "UNAUTHENTICATED"
        } else {
            "UNAVAILABLE"
        };
        assert_eq!(reply.code(), expected, "attempt {attempt}: {}", reply.body);
    }
    assert!(graphql.login(&shoppers[1].email, PASSWORD).await.is_ok());
    step(started, "registered, throttled on the cluster");

    // Two copies, four shoppers: a storm for the last copies; the carts live on the cluster.
    let book = graphql
        .create_book(&admin, "Cluster Book", 1_500, 2)
        .await
        .unwrap();
    in_stock(&graphql, &book, true).await.unwrap();
    for shopper in &shoppers {
        graphql.fill_cart(shopper, &book, 1).await.unwrap();
    }
    let keys: Vec<String> = shoppers
        .iter()
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let orders = futures::future::join_all(
        shoppers
            .iter()
            .zip(&keys)
            .map(|(shopper, key)| graphql.place_order(shopper, key)),
    )
    .await;
    let mut confirmed = 0;
    for reply in orders {
        let reply = reply.unwrap();
        match reply.data()["placeOrder"]["status"].as_str() {
            Some("CONFIRMED") => confirmed += 1,
            _ => assert_eq!(reply.code(), "OUT_OF_STOCK", "{}", reply.body),
        }
    }
    assert_eq!(confirmed, 2, "exactly the two copies were sold");
    let left = graphql.available_within(&book, 0, Duration::from_secs(1)).await;
    assert_eq!(left.unwrap(), 0, "the BFF shows the sale within a second");
    // The BFF's cache follows both event streams on the cluster (it serves nothing until
    // both are joined): once the sale's last events (commits, releases) have arrived, the
    // same read twice is a hit.
    let hit = bookstore_tests::eventually(Duration::from_secs(5), Duration::from_millis(50), || async {
        graphql
            .available(&book)
            .await
            .map_err(|error| error.to_string())?;
        let metrics = reqwest::get(format!("http://127.0.0.1:{bff_port}/metrics"))
            .await
            .map_err(|error| error.to_string())?
            .text()
            .await
            .map_err(|error| error.to_string())?;
        if metrics.contains("bff_cache_requests_total{cache=\"response\",result=\"hit\"}") {
            Ok(())
        } else {
            Err(metrics)
        }
    })
    .await;
    assert!(hit.is_ok(), "{hit:?}");
    in_stock(&graphql, &book, false).await.unwrap();
    step(
        started,
        "checked out; catalog's inStock followed the sale through the stream",
    );

    // Where the keys are: the stream and the throttle each in their tag's slot.
    let stream = format!("{prefix}:{}", platform::store::STOCK_EVENTS);
    let stream_slot = cli(cluster.ports[0], &["cluster", "keyslot", &stream])
        .await
        .unwrap();
    let tag_slot = cli(cluster.ports[0], &["cluster", "keyslot", "{stock-events}"])
        .await
        .unwrap();
    assert_eq!(stream_slot, tag_slot);
    let owner = cluster.owner(&stream).await.unwrap();
    let length = cli(owner, &["xlen", &stream]).await.unwrap();
    assert!(length.parse::<u64>().unwrap() >= 2, "{length}");

    terminate(&up);
    let status = tokio::time::timeout(Duration::from_secs(30), up.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let _ = std::fs::remove_dir_all(data_dir);
}
