//! Reaching for another user's order, cart and profile, through GraphQL and straight at the
//! services with one's own valid token naming the other user. Every attempt is refused and
//! nothing changes.

use bookstore_tests::stack::Stack;
use bookstore_tests::with_token;
use proto::cart::v1 as cart;
use proto::cart::v1::cart_service_client::CartServiceClient;
use proto::order::v1 as order;
use proto::order::v1::order_service_client::OrderServiceClient;
use proto::user::v1 as user;
use proto::user::v1::user_service_client::UserServiceClient;
use serde_json::json;
use tonic::{Code, Status};

use super::{Counts, Victims, refused, send};
use crate::support::channel;

pub(super) const ORDER: &str = "query($id: ID!) { order(id: $id) { id status } }";
const CANCEL: &str = "mutation($id: ID!) { cancelOrder(id: $id) { id } }";

fn alice_cart(victims: &Victims) -> Option<cart::CartOwner> {
    Some(cart::CartOwner {
        owner: Some(cart::cart_owner::Owner::UserId(victims.alice_id.clone())),
    })
}

/// What Alice sees of her own things, to compare before and after the attacks.
async fn alice_view(stack: &Stack, victims: &Victims) -> serde_json::Value {
    let reply = send(
        stack,
        Some(&victims.alice.token),
        "query($id: ID!) { me { name addresses { id } } cart { totalQuantity } order(id: $id) { status } }",
        json!({ "id": victims.alice_order }),
    )
    .await;
    assert!(reply.is_ok(), "{}", reply.body);
    reply.data().clone()
}

/// Mallory, a customer, goes for Alice's order, cart and profile through GraphQL and
/// straight at the services with her own token naming Alice.
pub(crate) async fn other_users_data_is_out_of_reach(stack: &Stack, victims: &Victims, counts: &mut Counts) {
    let before = alice_view(stack, victims).await;
    assert_eq!(before["cart"]["totalQuantity"], 1, "{before}");
    let token = victims.mallory.token.as_str();
    let mut wrong = Vec::new();

    // GraphQL: someone else's order reads as absent (null, as for an unknown id) and cannot
    // be cancelled (NOT_FOUND); guessed ids fare the same.
    let mut targets = vec![victims.alice_order.clone()];
    targets.extend((0..3).map(|_| uuid::Uuid::now_v7().to_string()));
    for id in &targets {
        let read = send(stack, Some(token), ORDER, json!({ "id": id })).await;
        let read_ok =
            read.status == 200 && read.data()["order"].is_null() && matches!(read.code(), "" | "NOT_FOUND");
        let cancel = send(stack, Some(token), CANCEL, json!({ "id": id })).await;
        counts.cross_user += 2;
        if !read_ok || cancel.code() != "NOT_FOUND" {
            wrong.push(format!("order {id}: read {}, cancel {}", read.body, cancel.body));
        }
    }
    // Her own lists hold only her own things; there is no argument to name another user.
    let own = send(
        stack,
        Some(token),
        "{ orders { edges { node { id } } } cart { totalQuantity } me { id } }",
        json!({}),
    )
    .await;
    let listed: Vec<&str> = own.data()["orders"]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|edge| edge["node"]["id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(listed, [victims.mallory_order.as_str()], "{}", own.body);
    assert_eq!(own.data()["cart"]["totalQuantity"], 0, "{}", own.body);
    assert_ne!(own.data()["me"]["id"], victims.alice_id.as_str());
    for query in [
        "query($id: ID!) { me(id: $id) { id } }",
        "query($id: ID!) { cart(userId: $id) { totalQuantity } }",
    ] {
        let reply = send(stack, Some(token), query, json!({ "id": victims.alice_id })).await;
        counts.cross_user += 1;
        if reply.code() != "BAD_USER_INPUT" {
            wrong.push(format!("{query}: {}", reply.body));
        }
    }

    // gRPC with Mallory's own valid token naming Alice: the services answer as if Alice's
    // things did not exist (NOT_FOUND), and listing her orders is PERMISSION_DENIED.
    let mut carts = CartServiceClient::new(channel(stack, "cart-1"));
    let mut users = UserServiceClient::new(channel(stack, "user-1"));
    let mut orders = OrderServiceClient::new(channel(stack, "order-1"));
    let alice = victims.alice_id.clone();
    let alice_order = victims.alice_order.clone();
    let line = |book: &str| cart::AddItemRequest {
        owner: alice_cart(victims),
        book_id: book.to_owned(),
        quantity: 5,
    };
    let name = Some("Mallory was here".to_owned());
    let address = Some(proto::common::v1::AddressInput {
        line1: "1 Attacker Road".to_owned(),
        city: "Nowhere".to_owned(),
        postal_code: "00000".to_owned(),
        country: "FR".to_owned(),
        ..Default::default()
    });
    let attempts: Vec<(&str, Status, Code)> = vec![
        (
            "GetCart",
            refused(
                carts
                    .get_cart(with_token(
                        cart::GetCartRequest {
                            owner: alice_cart(victims),
                        },
                        token,
                    ))
                    .await,
            ),
            Code::NotFound,
        ),
        (
            "AddItem",
            refused(carts.add_item(with_token(line(&victims.book), token)).await),
            Code::NotFound,
        ),
        (
            "ClearCart",
            refused(
                carts
                    .clear_cart(with_token(
                        cart::ClearCartRequest {
                            owner: alice_cart(victims),
                        },
                        token,
                    ))
                    .await,
            ),
            Code::NotFound,
        ),
        (
            "MergeCarts",
            refused(
                carts
                    .merge_carts(with_token(
                        cart::MergeCartsRequest {
                            guest_session_id: "a".repeat(32),
                            user_id: alice.clone(),
                        },
                        token,
                    ))
                    .await,
            ),
            Code::NotFound,
        ),
        (
            "GetProfile",
            refused(
                users
                    .get_profile(with_token(
                        user::GetProfileRequest {
                            user_id: alice.clone(),
                        },
                        token,
                    ))
                    .await,
            ),
            Code::NotFound,
        ),
        (
            "UpdateProfile",
            refused(
                users
                    .update_profile(with_token(
                        user::UpdateProfileRequest {
                            user_id: alice.clone(),
                            name,
                        },
                        token,
                    ))
                    .await,
            ),
            Code::NotFound,
        ),
        (
            "ListAddresses",
            refused(
                users
                    .list_addresses(with_token(
                        user::ListAddressesRequest {
                            user_id: alice.clone(),
                        },
                        token,
                    ))
                    .await,
            ),
            Code::NotFound,
        ),
        (
            "AddAddress",
            refused(
                users
                    .add_address(with_token(
                        user::AddAddressRequest {
                            user_id: alice.clone(),
                            address,
                        },
                        token,
                    ))
                    .await,
            ),
            Code::NotFound,
        ),
        (
            "GetOrder",
            refused(
                orders
                    .get_order(with_token(
                        order::GetOrderRequest {
                            order_id: alice_order.clone(),
                        },
                        token,
                    ))
                    .await,
            ),
            Code::NotFound,
        ),
        (
            "WatchOrder",
            refused(
                orders
                    .watch_order(with_token(
                        order::WatchOrderRequest {
                            order_id: alice_order.clone(),
                        },
                        token,
                    ))
                    .await,
            ),
            Code::NotFound,
        ),
        (
            "CancelOrder",
            refused(
                orders
                    .cancel_order(with_token(
                        order::CancelOrderRequest {
                            order_id: alice_order.clone(),
                            reason: String::new(),
                        },
                        token,
                    ))
                    .await,
            ),
            Code::NotFound,
        ),
        (
            "ListOrders",
            refused(
                orders
                    .list_orders(with_token(
                        order::ListOrdersRequest {
                            page: None,
                            user_id: Some(alice.clone()),
                        },
                        token,
                    ))
                    .await,
            ),
            Code::PermissionDenied,
        ),
    ];
    for (rpc, status, expected) in attempts {
        counts.cross_user += 1;
        if status.code() != expected {
            wrong.push(format!(
                "{rpc} on Alice's data: expected {expected:?}, got {status:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "another user's data was reachable:\n{}",
        wrong.join("\n")
    );
    assert_eq!(alice_view(stack, victims).await, before, "Alice's things changed");
}
