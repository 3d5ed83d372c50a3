//! Every cart RPC: limits, guest merge, TTL, concurrent adds, and who may touch which cart.

use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::cart::v1 as pb;
use tonic::Code;

use super::{add, books, client, get, guest_owner, quantities, user_owner};

async fn mesh() -> TestMesh {
    TestMesh::builder()
        .with(ServiceName::Cart)
        .with(ServiceName::Catalog)
        .start()
        .await
        .unwrap()
}

async fn pttl(mesh: &TestMesh, key: &str) -> i64 {
    let redis = platform::store::RedisStore::connect(&platform::testing::redis_url(), "")
        .await
        .unwrap();
    redis::cmd("PTTL")
        .arg(format!("{}:cart:{key}", mesh.redis_prefix()))
        .query_async(&mut redis.connection())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_user_adds_sets_removes_and_clears_with_the_ttl_refreshed_on_each_write() {
    let mesh = mesh().await;
    let ids = books(&mesh, 2).await;
    let (user, token) = mesh.keys().user_token(Role::Customer);
    let owner = || user_owner(&user.to_string());

    assert!(
        get(&mesh, &token, owner()).await.unwrap().lines.is_empty(),
        "an absent cart reads as empty"
    );
    add(&mesh, &token, owner(), &ids[0], 2).await.unwrap();
    let cart = add(&mesh, &token, owner(), &ids[0], 3).await.unwrap();
    assert_eq!(quantities(&cart), [(ids[0].clone(), 5)], "adds add up");
    let ttl = pttl(&mesh, &format!("{{u:{user}}}")).await;
    assert!(ttl > 29 * 24 * 3_600_000, "30-day TTL set: {ttl}");
    // Age the cart, then write: the TTL starts over.
    let redis = platform::store::RedisStore::connect(&platform::testing::redis_url(), "")
        .await
        .unwrap();
    let key = format!("{}:cart:{{u:{user}}}", mesh.redis_prefix());
    redis::cmd("PEXPIRE")
        .arg(&key)
        .arg(60_000)
        .query_async::<()>(&mut redis.connection())
        .await
        .unwrap();
    add(&mesh, &token, owner(), &ids[0], 1).await.unwrap();
    let refreshed = pttl(&mesh, &format!("{{u:{user}}}")).await;
    assert!(
        refreshed > 29 * 24 * 3_600_000,
        "TTL refreshed on write: {refreshed}"
    );

    let request = pb::SetQuantityRequest {
        owner: owner(),
        book_id: ids[1].clone(),
        quantity: 7,
    };
    let cart = client(&mesh)
        .set_quantity(with_token(request, &token))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    assert_eq!(cart.lines.len(), 2);
    let request = pb::SetQuantityRequest {
        owner: owner(),
        book_id: ids[1].clone(),
        quantity: 0,
    };
    let cart = client(&mesh)
        .set_quantity(with_token(request, &token))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    assert_eq!(quantities(&cart), [(ids[0].clone(), 6)], "0 removes the line");
    let request = pb::RemoveItemRequest {
        owner: owner(),
        book_id: ids[0].clone(),
    };
    let cart = client(&mesh)
        .remove_item(with_token(request, &token))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    assert!(cart.lines.is_empty());
    assert_eq!(
        pttl(&mesh, &format!("{{u:{user}}}")).await,
        -2,
        "an empty cart is deleted"
    );

    add(&mesh, &token, owner(), &ids[1], 1).await.unwrap();
    client(&mesh)
        .clear_cart(with_token(pb::ClearCartRequest { owner: owner() }, &token))
        .await
        .unwrap();
    assert!(get(&mesh, &token, owner()).await.unwrap().lines.is_empty());
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn limits_and_unknown_books_are_refused_naming_the_limit() {
    let mesh = mesh().await;
    let ids = books(&mesh, 1).await;
    let (user, token) = mesh.keys().user_token(Role::Customer);
    let owner = || user_owner(&user.to_string());

    add(&mesh, &token, owner(), &ids[0], 99).await.unwrap();
    let status = add(&mesh, &token, owner(), &ids[0], 1).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(crate::user::violated_field(&status), "quantity");
    for quantity in [0, 100, -1] {
        let status = add(&mesh, &token, owner(), &ids[0], quantity).await.unwrap_err();
        assert_eq!(crate::user::violated_field(&status), "quantity", "{quantity}");
    }
    let status = add(&mesh, &token, owner(), &uuid::Uuid::new_v4().to_string(), 1)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "a book the catalog does not have");

    // 100 distinct books at most: fill the cart directly, then the 101st is refused.
    let redis = platform::store::RedisStore::connect(&platform::testing::redis_url(), "")
        .await
        .unwrap();
    let key = format!("{}:cart:{{u:{user}}}", mesh.redis_prefix());
    for _ in 0..99 {
        redis::cmd("HSET")
            .arg(&key)
            .arg(uuid::Uuid::new_v4().to_string())
            .arg(1)
            .query_async::<()>(&mut redis.connection())
            .await
            .unwrap();
    }
    let more = books(&mesh, 1).await;
    let status = add(&mesh, &token, owner(), &more[0], 1).await.unwrap_err();
    assert_eq!(crate::user::violated_field(&status), "lines");
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn fifty_concurrent_adds_of_one_book_all_count() {
    let mesh = mesh().await;
    let ids = books(&mesh, 1).await;
    let (user, token) = mesh.keys().user_token(Role::Customer);
    let adds = (0..50).map(|_| add(&mesh, &token, user_owner(&user.to_string()), &ids[0], 1));
    for result in futures::future::join_all(adds).await {
        result.unwrap();
    }
    let cart = get(&mesh, &token, user_owner(&user.to_string())).await.unwrap();
    assert_eq!(quantities(&cart), [(ids[0].clone(), 50)]);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn users_reach_only_their_own_cart_and_guests_only_through_the_bff() {
    let mesh = mesh().await;
    let ids = books(&mesh, 1).await;
    let (ada, ada_token) = mesh.keys().user_token(Role::Customer);
    let (_, bob_token) = mesh.keys().user_token(Role::Customer);
    add(&mesh, &ada_token, user_owner(&ada.to_string()), &ids[0], 1)
        .await
        .unwrap();

    let status = get(&mesh, &bob_token, user_owner(&ada.to_string()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "bob cannot see ada's cart");
    let status = add(&mesh, &bob_token, user_owner(&ada.to_string()), &ids[0], 1)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = get(&mesh, &bob_token, guest_owner("guest-session-of-someone"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "users cannot name guest carts");

    let order = mesh.keys().service_token("order", "cart");
    assert_eq!(
        get(&mesh, &order, user_owner(&ada.to_string()))
            .await
            .unwrap()
            .lines
            .len(),
        1,
        "svc-order reads the cart"
    );
    let catalog = mesh.keys().service_token("catalog", "cart");
    let status = get(&mesh, &catalog, user_owner(&ada.to_string()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "no other service");
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_guest_cart_merges_into_the_user_cart_once_with_quantities_capped() {
    let mesh = mesh().await;
    let ids = books(&mesh, 3).await;
    let bff = mesh.bff_token(ServiceName::Cart);
    let (user, token) = mesh.keys().user_token(Role::Customer);
    let session = format!("guest-{}", uuid::Uuid::new_v4().simple());
    add(&mesh, &bff, guest_owner(&session), &ids[0], 60)
        .await
        .unwrap();
    add(&mesh, &bff, guest_owner(&session), &ids[1], 2).await.unwrap();
    add(&mesh, &token, user_owner(&user.to_string()), &ids[0], 50)
        .await
        .unwrap();
    add(&mesh, &token, user_owner(&user.to_string()), &ids[2], 1)
        .await
        .unwrap();

    let merge = || pb::MergeCartsRequest {
        guest_session_id: session.clone(),
        user_id: user.to_string(),
    };
    let merged = client(&mesh)
        .merge_carts(with_token(merge(), &bff))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    let mut expected = vec![(ids[0].clone(), 99), (ids[1].clone(), 2), (ids[2].clone(), 1)];
    expected.sort();
    assert_eq!(quantities(&merged), expected, "60 + 50 capped at 99");
    assert!(
        get(&mesh, &bff, guest_owner(&session))
            .await
            .unwrap()
            .lines
            .is_empty(),
        "the guest cart is gone"
    );

    let again = client(&mesh)
        .merge_carts(with_token(merge(), &token))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    assert_eq!(quantities(&again), expected, "a retry changes nothing");
    let (_, stranger) = mesh.keys().user_token(Role::Customer);
    let status = client(&mesh)
        .merge_carts(with_token(merge(), &stranger))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "only the user themself or the bff");
    mesh.shutdown().await.unwrap();
}
