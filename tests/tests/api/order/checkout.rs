//! PlaceOrder: the happy path, out of stock, every sandbox decline, bad input, and
//! idempotency (a retry and concurrent requests with one key make one order).

use platform::{ErrorCode, ServiceName};
use proto::order::v1 as pb;
use tonic::Code;

use super::{
    GOOD_CARD, add_to_cart, assert_order_invariants, card, charge_state, get_order, mesh, on_hand,
    payment_calls, paypal, place, reservation_state, shopper, stocked_book,
};

#[tokio::test]
async fn a_cart_becomes_a_confirmed_order_priced_by_the_catalog() {
    let mesh = mesh().await;
    let buyer = shopper(&mesh);
    let (first, first_price) = stocked_book(&mesh, 5).await;
    let (second, second_price) = stocked_book(&mesh, 5).await;
    add_to_cart(&mesh, &buyer, &first, 2).await;
    add_to_cart(&mesh, &buyer, &second, 1).await;

    let order = place(&mesh, &buyer, "checkout-1", card(GOOD_CARD)).await.unwrap();
    assert_eq!(order.status(), pb::OrderStatus::Confirmed);
    assert_eq!(order.user_id, buyer.id);
    assert_eq!(order.lines.len(), 2);
    assert_eq!(
        order.total.as_ref().unwrap().amount_minor,
        2 * first_price + second_price,
        "priced from the catalog"
    );
    assert!(!order.lines[0].title.is_empty(), "title snapshot");
    let payment = order.payment.clone().unwrap();
    assert_eq!((payment.brand.as_str(), payment.last4.as_str()), ("visa", "4242"));
    assert_eq!(payment.status, "captured");
    assert_eq!(order.shipping_address.as_ref().unwrap().city, "Paris");
    let history: Vec<_> = order.history.iter().map(|event| event.status()).collect();
    assert_eq!(history, [pb::OrderStatus::Pending, pb::OrderStatus::Confirmed]);

    assert_eq!(on_hand(&mesh, &first).await, (3, 0), "sold, nothing left held");
    assert_eq!(on_hand(&mesh, &second).await, (4, 0));
    let cart = crate::cart::get(&mesh, &buyer.token, crate::cart::user_owner(&buyer.id))
        .await
        .unwrap();
    assert!(cart.lines.is_empty(), "cart cleared");
    assert_eq!(
        payment_calls(&mesh, &order.id).await,
        ["authorize:approved", "capture:approved"]
    );
    // No card number anywhere in the order database.
    let stored = super::rows(
        &mesh,
        ServiceName::Order,
        "SELECT shipping_address || payment_brand || payment_last4 FROM orders WHERE id = ?",
        &order.id,
    )
    .await;
    assert!(!stored.concat().contains("42424242"));
    assert_order_invariants(&mesh, &[order.id]).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn out_of_stock_fails_naming_the_short_books_and_holds_nothing() {
    let mesh = mesh().await;
    let buyer = shopper(&mesh);
    let (plenty, _) = stocked_book(&mesh, 10).await;
    let (scarce, _) = stocked_book(&mesh, 1).await;
    add_to_cart(&mesh, &buyer, &plenty, 1).await;
    add_to_cart(&mesh, &buyer, &scarce, 2).await;

    let status = place(&mesh, &buyer, "short", card(GOOD_CARD)).await.unwrap_err();
    assert_eq!(ErrorCode::from_status(&status), ErrorCode::OutOfStock);
    let short = platform::error_code::short_lines(&status);
    assert_eq!(short.len(), 1);
    assert_eq!(short[0].book_id, scarce);

    // The retry with the same key reports the stored FAILED order.
    let failed = place(&mesh, &buyer, "short", card(GOOD_CARD)).await.unwrap();
    assert_eq!(failed.status(), pb::OrderStatus::Failed);
    assert_eq!(failed.failure_reason, "OUT_OF_STOCK");
    assert_eq!(failed.short_book_ids, std::slice::from_ref(&scarce));
    assert_eq!(on_hand(&mesh, &plenty).await, (10, 0));
    assert_eq!(on_hand(&mesh, &scarce).await, (1, 0));
    assert!(
        charge_state(&mesh, &failed.id).await.is_none(),
        "never authorized"
    );
    let cart = crate::cart::get(&mesh, &buyer.token, crate::cart::user_owner(&buyer.id))
        .await
        .unwrap();
    assert_eq!(cart.lines.len(), 2, "a failed checkout keeps the cart");
    assert_order_invariants(&mesh, &[failed.id]).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_sandbox_decline_releases_the_stock_and_captures_nothing() {
    let mesh = mesh().await;
    let (book, _) = stocked_book(&mesh, 10).await;
    let mut orders = Vec::new();
    for (index, payment) in [
        card("4000 0000 0000 0002"),
        card("4000-0000-0000-9995"),
        paypal("declined@example.com"),
    ]
    .into_iter()
    .enumerate()
    {
        let buyer = shopper(&mesh);
        add_to_cart(&mesh, &buyer, &book, 3).await;
        let status = place(&mesh, &buyer, "decline", payment.clone())
            .await
            .unwrap_err();
        assert_eq!(
            ErrorCode::from_status(&status),
            ErrorCode::PaymentDeclined,
            "case {index}"
        );
        // The retry (the same request) reports the stored FAILED order.
        let failed = place(&mesh, &buyer, "decline", payment).await.unwrap();
        assert_eq!(failed.status(), pb::OrderStatus::Failed);
        assert_eq!(failed.failure_reason, "PAYMENT_DECLINED");
        assert_eq!(failed.payment.as_ref().unwrap().status, "declined");
        assert_eq!(
            reservation_state(&mesh, &failed.id).await.as_deref(),
            Some("RELEASED")
        );
        assert_eq!(charge_state(&mesh, &failed.id).await.as_deref(), Some("declined"));
        assert!(
            !payment_calls(&mesh, &failed.id)
                .await
                .iter()
                .any(|call| call.starts_with("capture")),
            "nothing captured"
        );
        orders.push(failed.id);
    }
    assert_eq!(on_hand(&mesh, &book).await, (10, 0), "all stock back");

    // PayPal at example.com is approved.
    let buyer = shopper(&mesh);
    add_to_cart(&mesh, &buyer, &book, 1).await;
    let paid = place(&mesh, &buyer, "paypal", paypal("buyer@example.com"))
        .await
        .unwrap();
    assert_eq!(paid.status(), pb::OrderStatus::Confirmed);
    assert_eq!(
        paid.payment.as_ref().unwrap().method(),
        pb::PaymentMethodKind::Paypal
    );
    orders.push(paid.id);
    assert_order_invariants(&mesh, &orders).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let mesh = mesh().await;
    let buyer = shopper(&mesh);
    let field = |status: tonic::Status| {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        status.message().split(':').next().unwrap().to_owned()
    };
    // An empty cart.
    let status = place(&mesh, &buyer, "empty", card(GOOD_CARD)).await.unwrap_err();
    assert_eq!(field(status), "cart");

    let (book, _) = stocked_book(&mesh, 5).await;
    add_to_cart(&mesh, &buyer, &book, 1).await;
    let cases = [
        (card("4242 4242 4242 4241"), "payment.card.number"),
        (paypal("nobody"), "payment.paypal.email"),
        (None, "payment"),
    ];
    for (payment, expected) in cases {
        let status = place(&mesh, &buyer, "bad", payment).await.unwrap_err();
        assert_eq!(field(status), expected);
    }
    let mut expired = card(GOOD_CARD);
    if let Some(pb::PaymentMethod {
        method: Some(pb::payment_method::Method::Card(card)),
    }) = expired.as_mut()
    {
        card.exp_year = 2020;
    }
    assert_eq!(
        field(place(&mesh, &buyer, "bad", expired).await.unwrap_err()),
        "payment.card.exp_year"
    );
    let mut request = super::place_request("", card(GOOD_CARD));
    let status = super::client(&mesh)
        .place_order(bookstore_tests::with_token(request.clone(), &buyer.token))
        .await
        .unwrap_err();
    assert_eq!(field(status), "idempotency_key");
    request.idempotency_key = "no-address".to_owned();
    request.shipping = None;
    let status = super::client(&mesh)
        .place_order(bookstore_tests::with_token(request.clone(), &buyer.token))
        .await
        .unwrap_err();
    assert_eq!(field(status), "shipping_address");
    request.shipping = Some(pb::place_order_request::Shipping::AddressId(
        uuid::Uuid::now_v7().to_string(),
    ));
    let status = super::client(&mesh)
        .place_order(bookstore_tests::with_token(request, &buyer.token))
        .await
        .unwrap_err();
    assert_eq!(field(status), "address_id", "someone else's or no address");

    let count = super::rows(
        &mesh,
        ServiceName::Order,
        "SELECT CAST(COUNT(*) AS TEXT) FROM orders WHERE user_id = ?",
        &buyer.id,
    )
    .await;
    assert_eq!(count, ["0"], "nothing written for bad input");
    assert_eq!(on_hand(&mesh, &book).await, (5, 0));
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_saved_address_is_copied_into_the_order() {
    let mesh = mesh().await;
    let (tokens, user) = crate::user::register(&mesh, &crate::user::unique_email("orders")).await;
    let buyer = super::Shopper {
        id: user.id.clone(),
        token: tokens.access_token.clone(),
    };
    let request = proto::user::v1::AddAddressRequest {
        user_id: buyer.id.clone(),
        address: Some(proto::common::v1::AddressInput {
            line1: "221B Baker Street".to_owned(),
            line2: String::new(),
            city: "London".to_owned(),
            postal_code: "NW1 6XE".to_owned(),
            country: "GB".to_owned(),
            is_default: true,
        }),
    };
    let address_id = mesh
        .user_client()
        .add_address(bookstore_tests::with_token(request, &buyer.token))
        .await
        .unwrap()
        .into_inner()
        .address_id;
    let (book, _) = stocked_book(&mesh, 5).await;
    add_to_cart(&mesh, &buyer, &book, 1).await;
    let mut request = super::place_request("saved", card(GOOD_CARD));
    request.shipping = Some(pb::place_order_request::Shipping::AddressId(address_id));
    let order = super::client(&mesh)
        .place_order(bookstore_tests::with_token(request, &buyer.token))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(order.shipping_address.unwrap().city, "London");
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_retry_and_concurrent_requests_with_one_key_make_one_order() {
    let mesh = mesh().await;
    let buyer = shopper(&mesh);
    let (book, _) = stocked_book(&mesh, 50).await;
    add_to_cart(&mesh, &buyer, &book, 2).await;

    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut client = super::client(&mesh);
        let request =
            bookstore_tests::with_token(super::place_request("same-key", card(GOOD_CARD)), &buyer.token);
        tasks.push(tokio::spawn(async move { client.place_order(request).await }));
    }
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let order = task.await.unwrap().unwrap().into_inner().order.unwrap();
        ids.insert(order.id);
    }
    assert_eq!(ids.len(), 1, "one order for one key");
    let id = ids.into_iter().next().unwrap();
    let retried = place(&mesh, &buyer, "same-key", card(GOOD_CARD)).await.unwrap();
    assert_eq!(retried.id, id);
    let order = get_order(&mesh, &buyer.token, &id).await.unwrap();
    assert_eq!(order.status(), pb::OrderStatus::Confirmed);
    assert_eq!(
        payment_calls(&mesh, &id).await,
        ["authorize:approved", "capture:approved"],
        "one payment"
    );
    let reservations = super::rows(
        &mesh,
        ServiceName::Inventory,
        "SELECT state FROM reservations WHERE order_id = ?",
        &id,
    )
    .await;
    assert_eq!(reservations, ["COMMITTED"], "one reservation");
    assert_eq!(on_hand(&mesh, &book).await, (48, 0));

    // A new key is a new order (the cart was cleared, so it is empty now).
    let status = place(&mesh, &buyer, "next", card(GOOD_CARD)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_order_invariants(&mesh, &[id]).await;
    mesh.shutdown().await.unwrap();
}
