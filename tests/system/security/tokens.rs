//! Tokens the stack must not trust, on GraphQL operations and on every gRPC service.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bookstore_tests::stack::Stack;
use bookstore_tests::stack::shop::place_input;
use bookstore_tests::with_token;
use proto::cart::v1::cart_service_client::CartServiceClient;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use proto::order::v1::order_service_client::OrderServiceClient;
use proto::user::v1::user_service_client::UserServiceClient;
use serde_json::{Value, json};
use tonic::Code;

use super::{Counts, Victims, send};
use crate::support::channel;

/// A real token with its payload changed and its signature kept.
fn forged(token: &str, change: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts");
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    change(&mut claims);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// Every token the stack must refuse, by name.
fn bad_tokens(stack: &Stack, victims: &Victims) -> Vec<(&'static str, String)> {
    let keys = stack.keys();
    let mallory = &victims.mallory.token;
    let alice_id = victims.alice_id.clone();
    vec![
        (
            "forged role",
            forged(mallory, |claims| claims["role"] = json!("admin")),
        ),
        (
            "forged subject",
            forged(mallory, |claims| claims["sub"] = json!(alice_id)),
        ),
        (
            "forged expiry",
            forged(&keys.expired_token(), |claims| {
                claims["exp"] = json!(4_102_444_800_u64)
            }),
        ),
        (
            "forged audience",
            forged(&keys.wrong_audience_token(), |claims| {
                claims["aud"] = json!(["bookstore"])
            }),
        ),
        ("expired", keys.expired_token()),
        ("alg none", keys.alg_none_token()),
        ("unknown key", keys.token_from_unknown_key()),
        ("wrong audience", keys.wrong_audience_token()),
        (
            "signature cut off",
            mallory.rsplit_once('.').unwrap().0.to_owned() + ".",
        ),
    ]
}

/// The operations a bad token is tried on: reads of the caller's own data, a checkout and
/// an admin mutation.
fn operations(victims: &Victims) -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("me", "{ me { id } }", json!({})),
        ("cart", "{ cart { totalQuantity } }", json!({})),
        ("orders", "{ orders { edges { node { id } } } }", json!({})),
        (
            "order",
            "query($id: ID!) { order(id: $id) { id } }",
            json!({ "id": victims.alice_order }),
        ),
        (
            "addToCart",
            "mutation($id: ID!) { addToCart(bookId: $id, quantity: 1) { totalQuantity } }",
            json!({ "id": victims.book }),
        ),
        (
            "placeOrder",
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }",
            place_input("forged-checkout", "4242424242424242"),
        ),
        (
            "setStock",
            "mutation($id: ID!) { setStock(bookId: $id, onHand: 0) { available } }",
            json!({ "id": victims.book }),
        ),
        (
            "updateOrderStatus",
            "mutation($id: ID!) { updateOrderStatus(id: $id, status: SHIPPED) { id } }",
            json!({ "id": victims.alice_order }),
        ),
    ]
}

/// Bad tokens through the BFF (UNAUTHENTICATED, never a guest's answer) and straight at
/// each service (gRPC UNAUTHENTICATED).
pub(crate) async fn bad_tokens_are_unauthenticated(stack: &Stack, victims: &Victims, counts: &mut Counts) {
    let mut tokens = bad_tokens(stack, victims);
    // A service token is good at a service, never as a storefront's user token.
    tokens.push((
        "a service token at the BFF",
        stack.keys().service_token("bff", "catalog"),
    ));
    let mut wrong = Vec::new();
    for (label, token) in &tokens {
        for (operation, query, variables) in operations(victims) {
            let reply = send(stack, Some(token), query, variables).await;
            counts.graphql_tokens += 1;
            if reply.code() != "UNAUTHENTICATED" || !reply.data()[operation].is_null() {
                wrong.push(format!("{label} on {operation}: {} {}", reply.status, reply.body));
            }
        }
    }
    // At the services, a service token is refused when it names no audience of theirs.
    tokens.pop();
    tokens.push((
        "a service token for an audience outside the mesh",
        stack.keys().service_token("bff", "payments"),
    ));
    for (label, token) in &tokens {
        for (service, status) in grpc_calls(stack, victims, token).await {
            counts.grpc_tokens += 1;
            if status.code() != Code::Unauthenticated {
                wrong.push(format!("{label} on {service}: {status:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "bad tokens let through:\n{}", wrong.join("\n"));
    // The stack still trusts what it should.
    let reply = send(stack, Some(&victims.mallory.token), "{ me { id } }", json!({})).await;
    assert!(reply.is_ok(), "{}", reply.body);
}

/// One call per service with `token`; the answers (every call must fail).
async fn grpc_calls(stack: &Stack, victims: &Victims, token: &str) -> Vec<(&'static str, tonic::Status)> {
    let mut answers = Vec::new();
    let book = victims.book.clone();
    let mut catalog = CatalogServiceClient::new(channel(stack, "catalog-1"));
    let request = proto::catalog::v1::GetBookRequest {
        book_id: book.clone(),
    };
    answers.push((
        "catalog GetBook",
        catalog.get_book(with_token(request, token)).await.err(),
    ));
    let mut inventory = InventoryServiceClient::new(channel(stack, "inventory-1"));
    let request = proto::inventory::v1::GetStockRequest { book_id: book };
    answers.push((
        "inventory GetStock",
        inventory.get_stock(with_token(request, token)).await.err(),
    ));
    let mut cart = CartServiceClient::new(channel(stack, "cart-1"));
    let request = proto::cart::v1::GetCartRequest {
        owner: Some(proto::cart::v1::CartOwner {
            owner: Some(proto::cart::v1::cart_owner::Owner::UserId(
                victims.alice_id.clone(),
            )),
        }),
    };
    answers.push((
        "cart GetCart",
        cart.get_cart(with_token(request, token)).await.err(),
    ));
    let mut order = OrderServiceClient::new(channel(stack, "order-1"));
    let request = proto::order::v1::GetOrderRequest {
        order_id: victims.alice_order.clone(),
    };
    answers.push((
        "order GetOrder",
        order.get_order(with_token(request, token)).await.err(),
    ));
    let mut user = UserServiceClient::new(channel(stack, "user-1"));
    let request = proto::user::v1::GetProfileRequest {
        user_id: victims.alice_id.clone(),
    };
    answers.push((
        "user GetProfile",
        user.get_profile(with_token(request, token)).await.err(),
    ));
    answers
        .into_iter()
        .map(|(service, status)| (service, status.unwrap_or_else(|| tonic::Status::ok("answered"))))
        .collect()
}
