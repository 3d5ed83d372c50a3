//! After checkout: cancel with refund and restock, the admin's status moves, who sees
//! which order, listing pages, and WatchOrder.

use bookstore_tests::with_token;
use proto::order::v1 as pb;
use tokio_stream::StreamExt as _;
use tonic::Code;

use super::{
    GOOD_CARD, add_to_cart, admin, assert_order_invariants, card, charge_state, client, get_order, mesh,
    mesh_with, on_hand, payment_calls, place, shopper, stocked_book,
};

async fn update(
    mesh: &bookstore_tests::TestMesh,
    token: &str,
    id: &str,
    status: pb::OrderStatus,
) -> Result<pb::Order, tonic::Status> {
    let request = pb::UpdateOrderStatusRequest {
        order_id: id.to_owned(),
        status: status.into(),
        note: String::new(),
    };
    client(mesh)
        .update_order_status(with_token(request, token))
        .await
        .map(|response| response.into_inner().order.unwrap())
}

async fn cancel(mesh: &bookstore_tests::TestMesh, token: &str, id: &str) -> Result<pb::Order, tonic::Status> {
    let request = pb::CancelOrderRequest {
        order_id: id.to_owned(),
        reason: "changed my mind".to_owned(),
    };
    client(mesh)
        .cancel_order(with_token(request, token))
        .await
        .map(|response| response.into_inner().order.unwrap())
}

#[tokio::test]
async fn the_owner_cancels_a_confirmed_order_with_refund_and_restock() {
    let mesh = mesh().await;
    let buyer = shopper(&mesh);
    let (book, _) = stocked_book(&mesh, 5).await;
    add_to_cart(&mesh, &buyer, &book, 2).await;
    let order = place(&mesh, &buyer, "to-cancel", card(GOOD_CARD)).await.unwrap();
    assert_eq!(on_hand(&mesh, &book).await, (3, 0));

    let cancelled = cancel(&mesh, &buyer.token, &order.id).await.unwrap();
    assert_eq!(cancelled.status(), pb::OrderStatus::Cancelled);
    assert_eq!(cancelled.payment.as_ref().unwrap().status, "refunded");
    assert_eq!(cancelled.history.last().unwrap().note, "changed my mind");
    assert_eq!(on_hand(&mesh, &book).await, (5, 0), "restocked");
    assert_eq!(charge_state(&mesh, &order.id).await.as_deref(), Some("refunded"));
    // Idempotent: a second cancel changes nothing and restocks nothing.
    let again = cancel(&mesh, &buyer.token, &order.id).await.unwrap();
    assert_eq!(again.status(), pb::OrderStatus::Cancelled);
    assert_eq!(on_hand(&mesh, &book).await, (5, 0));
    assert_eq!(
        payment_calls(&mesh, &order.id).await,
        [
            "authorize:approved",
            "capture:approved",
            "void:approved",
            "refund:approved"
        ]
    );
    assert_order_invariants(&mesh, &[order.id]).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn only_confirmed_to_shipped_to_delivered_is_legal() {
    let mesh = mesh().await;
    let buyer = shopper(&mesh);
    let admin = admin(&mesh);
    let (book, _) = stocked_book(&mesh, 5).await;
    add_to_cart(&mesh, &buyer, &book, 1).await;
    let order = place(&mesh, &buyer, "ship-me", card(GOOD_CARD)).await.unwrap();

    let skip = update(&mesh, &admin, &order.id, pb::OrderStatus::Delivered)
        .await
        .unwrap_err();
    assert_eq!(skip.code(), Code::FailedPrecondition);
    let back = update(&mesh, &admin, &order.id, pb::OrderStatus::Pending)
        .await
        .unwrap_err();
    assert_eq!(back.code(), Code::FailedPrecondition);
    let by_owner = update(&mesh, &buyer.token, &order.id, pb::OrderStatus::Shipped)
        .await
        .unwrap_err();
    assert_eq!(by_owner.code(), Code::PermissionDenied, "admin only");
    let unspecified = update(&mesh, &admin, &order.id, pb::OrderStatus::Unspecified)
        .await
        .unwrap_err();
    assert_eq!(unspecified.code(), Code::InvalidArgument);

    let shipped = update(&mesh, &admin, &order.id, pb::OrderStatus::Shipped)
        .await
        .unwrap();
    assert_eq!(shipped.status(), pb::OrderStatus::Shipped);
    let same = update(&mesh, &admin, &order.id, pb::OrderStatus::Shipped)
        .await
        .unwrap();
    assert_eq!(
        same.history.len(),
        shipped.history.len(),
        "setting the current status is a no-op"
    );
    let late = cancel(&mesh, &buyer.token, &order.id).await.unwrap_err();
    assert_eq!(
        late.code(),
        Code::FailedPrecondition,
        "shipped orders cannot be cancelled"
    );
    let delivered = update(&mesh, &admin, &order.id, pb::OrderStatus::Delivered)
        .await
        .unwrap();
    assert_eq!(delivered.status(), pb::OrderStatus::Delivered);
    let after = update(&mesh, &admin, &order.id, pb::OrderStatus::Shipped)
        .await
        .unwrap_err();
    assert_eq!(after.code(), Code::FailedPrecondition);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn another_users_order_is_invisible_and_lists_page_newest_first() {
    let mesh = mesh().await;
    let buyer = shopper(&mesh);
    let stranger = shopper(&mesh);
    let (book, _) = stocked_book(&mesh, 50).await;
    let mut placed = Vec::new();
    for index in 0..3 {
        add_to_cart(&mesh, &buyer, &book, 1).await;
        placed.push(
            place(&mesh, &buyer, &format!("order-{index}"), card(GOOD_CARD))
                .await
                .unwrap()
                .id,
        );
    }
    let hidden = get_order(&mesh, &stranger.token, &placed[0]).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(
        cancel(&mesh, &stranger.token, &placed[0])
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let admin_view = get_order(&mesh, &admin(&mesh), &placed[0]).await.unwrap();
    assert_eq!(admin_view.id, placed[0]);

    let list = |token: String, user_id: Option<String>, page_token: String| {
        let mut client = client(&mesh);
        async move {
            let request = pb::ListOrdersRequest {
                page: Some(proto::common::v1::PageRequest {
                    page_size: 2,
                    page_token,
                }),
                user_id,
            };
            client
                .list_orders(with_token(request, &token))
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let first = list(buyer.token.clone(), None, String::new()).await.unwrap();
    let page_info = first.page_info.clone().unwrap();
    assert_eq!(page_info.total_count, 3);
    assert!(page_info.has_next_page);
    let second = list(buyer.token.clone(), None, page_info.next_page_token)
        .await
        .unwrap();
    let listed: Vec<String> = first
        .orders
        .iter()
        .chain(&second.orders)
        .map(|order| order.id.clone())
        .collect();
    let mut newest_first = placed.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first);
    assert_eq!(first.cursors.len(), 2);
    assert!(!second.page_info.unwrap().has_next_page);

    assert!(
        list(stranger.token.clone(), None, String::new())
            .await
            .unwrap()
            .orders
            .is_empty()
    );
    let denied = list(stranger.token.clone(), Some(buyer.id.clone()), String::new())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let by_admin = list(admin(&mesh), Some(buyer.id.clone()), String::new())
        .await
        .unwrap();
    assert_eq!(by_admin.page_info.unwrap().total_count, 3);
    let bad_token = list(buyer.token.clone(), None, "garbage".to_owned())
        .await
        .unwrap_err();
    assert_eq!(bad_token.code(), Code::InvalidArgument);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn watch_order_sees_pending_then_confirmed_then_shipped() {
    // A slow payment provider keeps the order PENDING long enough to start watching.
    let mesh = mesh_with(|config| {
        config.order.own.sandbox_latency_ms = 700;
        config.order.own.lease_ms = 10_000;
    })
    .await;
    let buyer = shopper(&mesh);
    let (book, _) = stocked_book(&mesh, 5).await;
    add_to_cart(&mesh, &buyer, &book, 1).await;

    let mut placing = client(&mesh);
    let request = with_token(super::place_request("watched", card(GOOD_CARD)), &buyer.token);
    let checkout = tokio::spawn(async move { placing.place_order(request).await });
    let written = bookstore_tests::eventually(
        std::time::Duration::from_secs(10),
        std::time::Duration::from_millis(20),
        || async {
            let request = pb::ListOrdersRequest {
                page: None,
                user_id: None,
            };
            let orders = client(&mesh)
                .list_orders(with_token(request, &buyer.token))
                .await
                .unwrap()
                .into_inner()
                .orders;
            orders.first().map(|order| order.id.clone()).ok_or(())
        },
    )
    .await;
    let order_id = written.unwrap_or_else(|()| panic!("the order was never written"));
    let request = pb::WatchOrderRequest {
        order_id: order_id.clone(),
    };
    let mut stream = client(&mesh)
        .watch_order(with_token(request, &buyer.token))
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap().order.unwrap();
    assert_eq!(first.status(), pb::OrderStatus::Pending);
    let mut seen = vec![first.status()];
    while seen.last() != Some(&pb::OrderStatus::Confirmed) {
        let next = stream.next().await.unwrap().unwrap().order.unwrap();
        if seen.last() != Some(&next.status()) {
            seen.push(next.status());
        }
    }
    checkout.await.unwrap().unwrap();
    update(&mesh, &admin(&mesh), &order_id, pb::OrderStatus::Shipped)
        .await
        .unwrap();
    let shipped = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .order
        .unwrap();
    seen.push(shipped.status());
    assert_eq!(
        seen,
        [
            pb::OrderStatus::Pending,
            pb::OrderStatus::Confirmed,
            pb::OrderStatus::Shipped
        ]
    );
    // Someone else cannot watch it.
    let request = pb::WatchOrderRequest {
        order_id: order_id.clone(),
    };
    let denied = client(&mesh)
        .watch_order(with_token(request, &shopper(&mesh).token))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::NotFound);
    // Delivered is terminal: the stream ends after sending it.
    update(&mesh, &admin(&mesh), &order_id, pb::OrderStatus::Delivered)
        .await
        .unwrap();
    let mut rest = Vec::new();
    while let Some(message) = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .unwrap()
    {
        rest.push(message.unwrap().order.unwrap().status());
    }
    assert_eq!(rest, [pb::OrderStatus::Delivered]);
    mesh.shutdown().await.unwrap();
}
