//! Reaching past one's role: a customer calling every admin mutation, and users (or the
//! BFF) calling inventory's RPCs that only svc-order may. Every attempt is refused and
//! nothing changes.

use bookstore_tests::stack::Stack;
use bookstore_tests::with_token;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use proto::inventory::v1 as inventory;
use proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use proto::order::v1 as order;
use proto::order::v1::order_service_client::OrderServiceClient;
use proto::user::v1 as user;
use proto::user::v1::user_service_client::UserServiceClient;
use serde_json::json;
use tonic::{Code, Status};

use super::access::ORDER;
use super::{Counts, Victims, refused, send};
use crate::support::channel;

/// A customer calls every admin mutation: FORBIDDEN through GraphQL, PERMISSION_DENIED at
/// the services, and the book, its stock and the order are as they were.
pub(crate) async fn customers_cannot_administer(stack: &Stack, victims: &Victims, counts: &mut Counts) {
    let book_view = "query($id: ID!) { book(id: $id) { title price { amount } availability { available } } }";
    let book_before = send(stack, None, book_view, json!({ "id": victims.book })).await;
    assert!(book_before.is_ok(), "{}", book_before.body);
    let token = victims.mallory.token.as_str();
    let input = json!({
        "isbn": bookstore_tests::stack::shop::isbn13(7), "title": "Mallory's Book", "authors": ["M"],
        "topics": ["x"], "price": 1, "currency": "USD"
    });
    let mutations = [
        (
            "createBook",
            "mutation($input: BookInput!) { createBook(input: $input) { id } }",
            json!({ "input": input }),
        ),
        (
            "updateBook",
            "mutation($id: ID!, $input: BookInput!) { updateBook(id: $id, input: $input) { id } }",
            json!({ "id": victims.book, "input": input }),
        ),
        (
            "deleteBook",
            "mutation($id: ID!) { deleteBook(id: $id) }",
            json!({ "id": victims.book }),
        ),
        (
            "setStock",
            "mutation($id: ID!) { setStock(bookId: $id, onHand: 0) { available } }",
            json!({ "id": victims.book }),
        ),
        (
            "restock",
            "mutation($id: ID!) { restock(bookId: $id, quantity: 1000) { available } }",
            json!({ "id": victims.book }),
        ),
        (
            "updateOrderStatus",
            "mutation($id: ID!) { updateOrderStatus(id: $id, status: SHIPPED) { id } }",
            json!({ "id": victims.mallory_order }),
        ),
    ];
    let mut wrong = Vec::new();
    for (name, query, variables) in mutations {
        let reply = send(stack, Some(token), query, variables).await;
        counts.admin_refused += 1;
        if reply.code() != "FORBIDDEN" || !reply.data()[name].is_null() {
            wrong.push(format!("{name}: {}", reply.body));
        }
    }

    let mut catalog = CatalogServiceClient::new(channel(stack, "catalog-1"));
    let mut stock = InventoryServiceClient::new(channel(stack, "inventory-1"));
    let mut orders = OrderServiceClient::new(channel(stack, "order-1"));
    let mut users = UserServiceClient::new(channel(stack, "user-1"));
    let book_input = Some(proto::catalog::v1::BookInput {
        isbn: bookstore_tests::stack::shop::isbn13(8),
        title: "Mallory's Book".to_owned(),
        authors: vec!["M".to_owned()],
        price: Some(proto::common::v1::Money {
            amount_minor: 1,
            currency: "USD".to_owned(),
        }),
        ..Default::default()
    });
    let book = victims.book.clone();
    let me = victims.mallory_order.clone();
    let attempts: Vec<(&str, Status)> = vec![
        (
            "CreateBook",
            refused(
                catalog
                    .create_book(with_token(
                        proto::catalog::v1::CreateBookRequest {
                            book: book_input.clone(),
                        },
                        token,
                    ))
                    .await,
            ),
        ),
        (
            "UpdateBook",
            refused(
                catalog
                    .update_book(with_token(
                        proto::catalog::v1::UpdateBookRequest {
                            book_id: book.clone(),
                            book: book_input,
                        },
                        token,
                    ))
                    .await,
            ),
        ),
        (
            "DeleteBook",
            refused(
                catalog
                    .delete_book(with_token(
                        proto::catalog::v1::DeleteBookRequest {
                            book_id: book.clone(),
                        },
                        token,
                    ))
                    .await,
            ),
        ),
        (
            "SetStock",
            refused(
                stock
                    .set_stock(with_token(
                        inventory::SetStockRequest {
                            book_id: book.clone(),
                            on_hand: 0,
                            reason: String::new(),
                        },
                        token,
                    ))
                    .await,
            ),
        ),
        (
            "Restock",
            refused(
                stock
                    .restock(with_token(
                        inventory::RestockRequest {
                            book_id: book.clone(),
                            quantity: 1000,
                            reason: String::new(),
                            order_id: None,
                        },
                        token,
                    ))
                    .await,
            ),
        ),
        (
            "UpdateOrderStatus",
            refused(
                orders
                    .update_order_status(with_token(
                        order::UpdateOrderStatusRequest {
                            order_id: me,
                            status: order::OrderStatus::Shipped.into(),
                            note: String::new(),
                        },
                        token,
                    ))
                    .await,
            ),
        ),
        (
            "SetRole",
            refused(
                users
                    .set_role(with_token(
                        user::SetRoleRequest {
                            user_id: String::new(),
                            role: user::Role::Admin.into(),
                        },
                        token,
                    ))
                    .await,
            ),
        ),
        (
            "CreateServiceClient",
            refused(
                users
                    .create_service_client(with_token(
                        user::CreateServiceClientRequest {
                            client_id: "mallory".to_owned(),
                            audiences: vec!["inventory".to_owned()],
                        },
                        token,
                    ))
                    .await,
            ),
        ),
        (
            "ListServiceClients",
            refused(
                users
                    .list_service_clients(with_token(user::ListServiceClientsRequest {}, token))
                    .await,
            ),
        ),
    ];
    for (rpc, status) in attempts {
        counts.admin_refused += 1;
        if status.code() != Code::PermissionDenied {
            wrong.push(format!("{rpc} by a customer: {status:?}"));
        }
    }
    assert!(wrong.is_empty(), "a customer administered:\n{}", wrong.join("\n"));

    let book_after = send(stack, None, book_view, json!({ "id": victims.book })).await;
    assert_eq!(book_after.body, book_before.body, "the book or its stock changed");
    let created = send(
        stack,
        None,
        "{ books(filter: {query: \"Mallory\"}) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(created.data()["books"]["totalCount"], 0, "{}", created.body);
    let order = send(stack, Some(token), ORDER, json!({ "id": victims.mallory_order })).await;
    assert_eq!(order.data()["order"]["status"], "CONFIRMED", "{}", order.body);
    let me = send(stack, Some(token), "{ me { role } }", json!({})).await;
    assert_eq!(me.data()["me"]["role"], "CUSTOMER", "{}", me.body);
}

/// Reserve, Commit, Release and SetStock with a user's token on an inventory replica, and
/// with the BFF's service token (only svc-order may move reservations).
pub(crate) async fn service_only_rpcs_refuse_users(stack: &Stack, victims: &Victims, counts: &mut Counts) {
    let bff = stack.keys().service_token("bff", "inventory");
    let mut wrong = Vec::new();
    for replica in stack.replicas(platform::ServiceName::Inventory) {
        let mut client = InventoryServiceClient::new(channel(stack, &replica.name));
        for (caller, token) in [
            ("customer", victims.mallory.token.as_str()),
            ("bff", bff.as_str()),
        ] {
            let reserve = inventory::ReserveRequest {
                order_id: victims.mallory_order.clone(),
                lines: vec![inventory::ReserveLine {
                    book_id: victims.book.clone(),
                    quantity: 20,
                }],
                ttl_seconds: 3_600,
            };
            let release = inventory::ReleaseRequest {
                target: Some(inventory::release_request::Target::OrderId(
                    victims.alice_order.clone(),
                )),
                reason: "mallory".to_owned(),
            };
            let attempts = [
                (
                    "Reserve",
                    refused(client.reserve(with_token(reserve, token)).await),
                ),
                (
                    "Commit",
                    refused(
                        client
                            .commit(with_token(
                                inventory::CommitRequest {
                                    reservation_id: uuid::Uuid::now_v7().to_string(),
                                },
                                token,
                            ))
                            .await,
                    ),
                ),
                (
                    "Release",
                    refused(client.release(with_token(release, token)).await),
                ),
                (
                    "SetStock",
                    refused(
                        client
                            .set_stock(with_token(
                                inventory::SetStockRequest {
                                    book_id: victims.book.clone(),
                                    on_hand: 0,
                                    reason: String::new(),
                                },
                                token,
                            ))
                            .await,
                    ),
                ),
            ];
            for (rpc, status) in attempts {
                counts.service_only_refused += 1;
                if status.code() != Code::PermissionDenied {
                    wrong.push(format!("{rpc} by {caller} on {}: {status:?}", replica.name));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "service-only rpcs let users in:\n{}",
        wrong.join("\n")
    );
}
