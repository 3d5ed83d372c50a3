//! svc-cart on a real Redis Cluster: a private three-master cluster on free ports, every cart
//! RPC through gRPC, keys checked on the nodes with `redis-cli`, then a master killed.
//!
//! Every wait is bounded and each step is logged (`--nocapture` shows it), so a failure names
//! its step instead of hanging the suite. redis-server missing fails the test: CI has it.

use std::time::{Duration, Instant};

use bookstore_tests::redis_cluster::{PrivateCluster, cli, step};
use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::cart::v1 as pb;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

use super::{add, books, client, get, guest_owner, quantities, user_owner};

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
    // Only cart here; the whole stack on a cluster is tests/binary/cluster.rs.
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
