//! Crashes between saga steps and a dependency down during checkout: the recovery loop
//! ends every order CONFIRMED or FAILED, with stock and payments consistent.

use std::time::Duration;

use bookstore_tests::{TestMesh, eventually};
use platform::{ErrorCode, ServiceName};
use proto::order::v1 as pb;

use super::{
    GOOD_CARD, add_to_cart, assert_order_invariants, card, mesh, on_hand, place, rows, shopper, stocked_book,
};

async fn order_of(mesh: &TestMesh, user: &str) -> Option<String> {
    use sea_orm::ConnectionTrait as _;
    let db = sea_orm::Database::connect(mesh.database_url(ServiceName::Order).unwrap())
        .await
        .unwrap();
    let user = uuid::Uuid::parse_str(user).unwrap();
    let statement = platform::store::statement(
        db.get_database_backend(),
        "SELECT id FROM orders WHERE user_id = ?",
        [user.into()],
    );
    let found = db
        .query_all_raw(statement)
        .await
        .unwrap()
        .first()
        .map(|row| row.try_get::<uuid::Uuid>("", "id").unwrap().to_string());
    db.close().await.unwrap();
    found
}

async fn state(mesh: &TestMesh, order: &str) -> String {
    rows(
        mesh,
        ServiceName::Order,
        "SELECT status || '/' || step FROM orders WHERE id = ?",
        order,
    )
    .await
    .pop()
    .unwrap_or_default()
}

/// Has the halted saga reached `point`?
async fn reached(mesh: &TestMesh, order: &str, point: &str) -> bool {
    if point == "authorize_sent" {
        return super::charge_state(mesh, order).await.as_deref() == Some("authorized");
    }
    state(mesh, order).await == format!("PENDING/{point}")
}

#[tokio::test]
async fn a_crash_between_any_two_steps_is_recovered_consistently() {
    let mut mesh = mesh().await;
    let (book, _) = stocked_book(&mesh, 100).await;
    let cases = [
        ("created", pb::OrderStatus::Failed),
        ("reserved", pb::OrderStatus::Failed),
        ("authorize_sent", pb::OrderStatus::Failed),
        ("authorized", pb::OrderStatus::Confirmed),
        ("committed", pb::OrderStatus::Confirmed),
        ("captured", pb::OrderStatus::Confirmed),
    ];
    let mut orders = Vec::new();
    let mut sold = 0;
    for (point, expected) in cases {
        mesh.restart(ServiceName::Order, |config| {
            config.order.own.halt_at = Some(point.parse().unwrap());
        })
        .await
        .unwrap();
        let buyer = shopper(&mesh);
        add_to_cart(&mesh, &buyer, &book, 2).await;
        let mut client = super::client(&mesh);
        let request = bookstore_tests::with_token(super::place_request(point, card(GOOD_CARD)), &buyer.token);
        let checkout = tokio::spawn(async move { client.place_order(request).await });

        let halted = eventually(Duration::from_secs(15), Duration::from_millis(20), || async {
            match order_of(&mesh, &buyer.id).await {
                Some(order) if reached(&mesh, &order, point).await => Ok(order),
                _ => Err(()),
            }
        })
        .await;
        let order = halted.unwrap_or_else(|()| panic!("{point}: the saga never got there"));
        // The process dies here: restart without the halt; recovery takes the order over.
        mesh.restart(ServiceName::Order, |_| {}).await.unwrap();
        let answer = checkout.await.unwrap();
        assert!(answer.is_err(), "{point}: the caller saw the crash");

        let finished = eventually(Duration::from_secs(20), Duration::from_millis(50), || async {
            let now = state(&mesh, &order).await;
            if now.ends_with("/done") { Ok(now) } else { Err(now) }
        })
        .await;
        let now = finished.unwrap_or_else(|now| panic!("{point}: still {now}"));
        let status = if expected == pb::OrderStatus::Confirmed {
            "CONFIRMED"
        } else {
            "FAILED"
        };
        assert_eq!(now, format!("{status}/done"), "{point}");
        if expected == pb::OrderStatus::Confirmed {
            sold += 2;
        }
        orders.push(order);
        assert_eq!(on_hand(&mesh, &book).await, (100 - sold, 0), "{point}");
    }
    assert_order_invariants(&mesh, &orders).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn inventory_down_during_checkout_fails_cleanly_and_is_tidied_up() {
    let mut mesh = mesh().await;
    let buyer = shopper(&mesh);
    let (book, _) = stocked_book(&mesh, 5).await;
    add_to_cart(&mesh, &buyer, &book, 1).await;
    mesh.stop(ServiceName::Inventory).await.unwrap();

    let started = tokio::time::Instant::now();
    let status = place(&mesh, &buyer, "no-inventory", card(GOOD_CARD))
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_status(&status),
        ErrorCode::Unavailable,
        "{status:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "fails fast: {:?}",
        started.elapsed()
    );
    let order = order_of(&mesh, &buyer.id).await.unwrap();
    assert!(
        state(&mesh, &order).await.starts_with("FAILED/"),
        "no PENDING order left behind"
    );
    assert!(
        super::charge_state(&mesh, &order).await.is_none(),
        "never charged"
    );

    mesh.restart(ServiceName::Inventory, |_| {}).await.unwrap();
    let undone = eventually(Duration::from_secs(20), Duration::from_millis(50), || async {
        if state(&mesh, &order).await == "FAILED/done" {
            Ok(())
        } else {
            Err(())
        }
    })
    .await;
    assert!(undone.is_ok(), "the undo never finished");
    assert_eq!(on_hand(&mesh, &book).await, (5, 0));
    let cart = crate::cart::get(&mesh, &buyer.token, crate::cart::user_owner(&buyer.id))
        .await
        .unwrap();
    assert_eq!(cart.lines.len(), 1, "the cart is kept for another try");
    assert_order_invariants(&mesh, &[order]).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_flaky_slow_payment_provider_never_leaves_money_or_stock_in_limbo() {
    // Three calls in ten time out (half before, half after taking effect), and some exceed
    // the payment deadline.
    let mesh = super::mesh_with(|config| {
        config.order.own.sandbox_failure_rate = 0.3;
        config.order.own.sandbox_latency_ms = 20;
        config.order.own.payment_timeout_ms = 2_000;
    })
    .await;
    let (book, _) = stocked_book(&mesh, 100).await;
    let mut checkouts = Vec::new();
    let mut buyers = Vec::new();
    for index in 0..12 {
        let buyer = shopper(&mesh);
        add_to_cart(&mesh, &buyer, &book, 1).await;
        let mut client = super::client(&mesh);
        let request = bookstore_tests::with_token(
            super::place_request(&format!("flaky-{index}"), card(GOOD_CARD)),
            &buyer.token,
        );
        checkouts.push(tokio::spawn(async move { client.place_order(request).await }));
        buyers.push(buyer);
    }
    for checkout in checkouts {
        // Each either confirms, or fails with UNAVAILABLE: both are honest answers.
        if let Err(status) = checkout.await.unwrap() {
            assert_eq!(
                ErrorCode::from_status(&status),
                ErrorCode::Unavailable,
                "{status:?}"
            );
        }
    }
    let mut orders = Vec::new();
    for buyer in &buyers {
        let order = order_of(&mesh, &buyer.id).await.unwrap();
        let settled = eventually(Duration::from_secs(30), Duration::from_millis(100), || async {
            let now = state(&mesh, &order).await;
            if now == "CONFIRMED/done" || now == "FAILED/done" {
                Ok(())
            } else {
                Err(now)
            }
        })
        .await;
        if let Err(now) = settled {
            panic!("{order}: still {now}");
        }
        orders.push(order);
    }
    let confirmed = {
        let mut count = 0;
        for order in &orders {
            if state(&mesh, order).await == "CONFIRMED/done" {
                count += 1;
            }
        }
        count
    };
    assert_eq!(on_hand(&mesh, &book).await, (100 - confirmed, 0));
    assert_order_invariants(&mesh, &orders).await;
    mesh.shutdown().await.unwrap();
}
