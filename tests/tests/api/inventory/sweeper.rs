//! Expiry: the sweeper releases HELD reservations past their TTL, once, even with several
//! replicas sweeping at the same moment; a commit after expiry changes nothing.

use std::sync::Arc;
use std::time::Duration;

use platform::testing::TestDatabase;
use svc_inventory::clock::{Clock as _, ManualClock};
use svc_inventory::domain::ReserveLine;
use svc_inventory::ops::Inventory;
use svc_inventory::ops::reserve::Reserve;
use svc_inventory::ops::sweeper::SweepOutcome;

use super::assert_invariants;

async fn replica(url: &str, clock: &ManualClock) -> Inventory {
    let db = platform::store::open_database::<svc_inventory::migration::Migrator>(url, true)
        .await
        .unwrap();
    Inventory::new(db, Arc::new(clock.clone()), Duration::from_secs(60))
}

#[tokio::test]
async fn expired_reservations_are_released_once_by_racing_replicas() {
    platform::testing::init_test_tracing();
    let database = TestDatabase::create("inventory").await.unwrap();
    let clock = ManualClock::new();
    let first = replica(&database.url, &clock).await;
    let second = replica(&database.url, &clock).await;
    let book = proto::types::BookId::generate();
    first.set_stock(book, 10, "", "test").await.unwrap();

    let mut held = Vec::new();
    for _ in 0..5 {
        let reservation = first
            .reserve(Reserve {
                order_id: proto::types::OrderId::generate(),
                lines: vec![ReserveLine {
                    book_id: book,
                    quantity: 2,
                }],
                ttl: Some(Duration::from_secs(30)),
                actor: "order".to_owned(),
            })
            .await
            .unwrap();
        held.push(reservation.id);
    }
    assert_eq!(first.get_stock(book).await.unwrap().available(), 0);
    assert_eq!(
        first.sweep_once().await.unwrap(),
        SweepOutcome::Idle,
        "nothing is due yet"
    );

    clock.advance(31_000);
    let (one, two) = tokio::join!(first.sweep_once(), second.sweep_once());
    let expired = |outcome: SweepOutcome| match outcome {
        SweepOutcome::Expired(count) => count,
        SweepOutcome::Idle => 0,
    };
    assert_eq!(
        expired(one.unwrap()) + expired(two.unwrap()),
        5,
        "each reservation expired exactly once"
    );
    let level = first.get_stock(book).await.unwrap();
    assert_eq!((level.on_hand, level.reserved), (10, 0));

    let status = first.commit(held[0], "order").await.unwrap_err();
    assert!(
        matches!(
            status,
            svc_inventory::error::InventoryError::Refused(
                svc_inventory::error::InventoryRefusal::FailedPrecondition(_)
            )
        ),
        "{status:?}"
    );
    assert_eq!(
        first.get_stock(book).await.unwrap().on_hand,
        10,
        "a commit after expiry sells nothing"
    );
    assert_invariants(&database.url).await;
}

#[tokio::test]
async fn a_commit_past_the_ttl_is_refused_even_before_the_sweeper_runs() {
    let database = TestDatabase::create("inventory").await.unwrap();
    let clock = ManualClock::new();
    let inventory = replica(&database.url, &clock).await;
    let book = proto::types::BookId::generate();
    inventory.set_stock(book, 3, "", "test").await.unwrap();
    let reservation = inventory
        .reserve(Reserve {
            order_id: proto::types::OrderId::generate(),
            lines: vec![ReserveLine {
                book_id: book,
                quantity: 1,
            }],
            ttl: Some(Duration::from_secs(10)),
            actor: "order".to_owned(),
        })
        .await
        .unwrap();
    clock.advance(10_001);
    assert!(inventory.commit(reservation.id, "order").await.is_err());
    assert_eq!(inventory.sweep_once().await.unwrap(), SweepOutcome::Expired(1));
    assert_invariants(&database.url).await;
}

/// The gauges operators alert on: HELD reservations, and those a minute past their expiry
/// that the sweeper has not released (stuck).
#[tokio::test]
async fn held_and_overdue_reservations_are_counted_for_the_gauges() {
    let database = TestDatabase::create("inventory").await.unwrap();
    let clock = ManualClock::new();
    let inventory = replica(&database.url, &clock).await;
    let db = platform::store::open_database::<svc_inventory::migration::Migrator>(&database.url, false)
        .await
        .unwrap();
    let counts = |now_ms: i64| {
        let db = db.clone();
        async move {
            svc_inventory::store::reservation::held_counts(&db, now_ms - 60_000)
                .await
                .unwrap()
        }
    };
    assert_eq!(counts(clock.now_ms()).await, (0, 0), "an empty table");
    let book = proto::types::BookId::generate();
    inventory.set_stock(book, 5, "", "test").await.unwrap();
    for ttl in [30, 30, 600] {
        inventory
            .reserve(Reserve {
                order_id: proto::types::OrderId::generate(),
                lines: vec![ReserveLine {
                    book_id: book,
                    quantity: 1,
                }],
                ttl: Some(Duration::from_secs(ttl)),
                actor: "order".to_owned(),
            })
            .await
            .unwrap();
    }
    assert_eq!(counts(clock.now_ms()).await, (3, 0));
    clock.advance(60_000);
    assert_eq!(
        counts(clock.now_ms()).await,
        (3, 0),
        "30 s past expiry is not stuck yet"
    );
    clock.advance(31_000);
    assert_eq!(
        counts(clock.now_ms()).await,
        (3, 2),
        "91 s in: two are a minute past their expiry"
    );
    assert_eq!(inventory.sweep_once().await.unwrap(), SweepOutcome::Expired(2));
    assert_eq!(counts(clock.now_ms()).await, (1, 0));
    inventory.read_gauges().await.unwrap();
}
