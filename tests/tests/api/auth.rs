//! Every RPC is guarded by the platform's auth layer with the service's access policy.
//! The inventory contract is the example: reads for anyone authenticated, `SetStock` for
//! admins, `Reserve` for svc-order.

use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use proto::inventory::v1::{ReserveRequest, SetStockRequest};
use tonic::Code;

fn set_stock() -> SetStockRequest {
    SetStockRequest {
        book_id: uuid::Uuid::new_v4().to_string(),
        on_hand: 5,
        reason: String::new(),
    }
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated_and_wrong_callers_are_denied() {
    let mesh = TestMesh::builder()
        .with(ServiceName::Inventory)
        .start()
        .await
        .unwrap();
    let mut inventory = InventoryServiceClient::new(mesh.channel(ServiceName::Inventory));
    let keys = mesh.keys();
    let (_, customer) = keys.user_token(Role::Customer);

    let refused = [
        ("an unknown key", keys.token_from_unknown_key()),
        ("an expired token", keys.expired_token()),
        ("alg none", keys.alg_none_token()),
        ("another audience", keys.wrong_audience_token()),
        (
            "a service token minted for catalog",
            keys.service_token("order", "catalog"),
        ),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (case, token) in refused {
        let status = inventory
            .set_stock(with_token(set_stock(), &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{case}: {status:?}");
    }

    let status = inventory
        .set_stock(tonic::Request::new(set_stock()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "no token: {status:?}");

    let status = inventory
        .set_stock(with_token(set_stock(), &customer))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "customer on an admin rpc: {status:?}"
    );

    let cart_token = keys.service_token("cart", "inventory");
    let reserve = ReserveRequest {
        order_id: uuid::Uuid::new_v4().to_string(),
        lines: Vec::new(),
        ttl_seconds: 60,
    };
    let status = inventory
        .reserve(with_token(reserve, &cart_token))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "svc-cart may not reserve: {status:?}"
    );

    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn allowed_callers_pass_the_auth_layer() {
    let mesh = TestMesh::builder()
        .with(ServiceName::Inventory)
        .start()
        .await
        .unwrap();
    let mut inventory = InventoryServiceClient::new(mesh.channel(ServiceName::Inventory));
    let keys = mesh.keys();
    let (_, admin) = keys.user_token(Role::Admin);

    let stock = inventory
        .set_stock(with_token(set_stock(), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stock.stock.unwrap().on_hand, 5, "an admin sets stock");

    // svc-order passes the auth layer; the book has no stock, which is the handler's answer.
    let order_token = keys.service_token("order", "inventory");
    let reserve = ReserveRequest {
        order_id: uuid::Uuid::new_v4().to_string(),
        lines: vec![proto::inventory::v1::ReserveLine {
            book_id: uuid::Uuid::new_v4().to_string(),
            quantity: 1,
        }],
        ttl_seconds: 60,
    };
    let status = inventory
        .reserve(with_token(reserve, &order_token))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "svc-order passes: {status:?}"
    );

    mesh.shutdown().await.unwrap();
}
