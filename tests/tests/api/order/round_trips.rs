//! The database round trips of one checkout (order, inventory and the sandbox's charge), on
//! the backend under test: counted by `platform::store::round_trips`, printed, and held under
//! a ceiling so they cannot silently grow back. Background loops are not counted.

use platform::ServiceName;
use platform::store::round_trips::{self, RoundTrips};
use platform::testing::Backend;
use proto::order::v1 as pb;

use super::{GOOD_CARD, add_to_cart, card, mesh, place, shopper, stocked_book};

/// The most round trips (statements plus BEGIN and COMMIT) one checkout may cost, per
/// database: (order with the sandbox's charge, inventory), whatever its number of lines.
/// Before #23 a one-line checkout cost 37 and 13 on both backends, a three-line one 39 and
/// 25 (the README, "Statements per checkout"). PostgreSQL runs each write as one statement;
/// SQLite runs the order's insert and its status change, and each inventory phase, as one
/// batch in a transaction (BEGIN, batch, COMMIT).
fn ceiling(backend: Backend) -> (u64, u64) {
    match backend {
        Backend::Postgres => (13, 2),
        Backend::Sqlite => (17, 6),
    }
}

async fn checkout(mesh: &bookstore_tests::TestMesh, key: &str, books: usize) -> (RoundTrips, RoundTrips) {
    let buyer = shopper(mesh);
    for _ in 0..books {
        let (book, _) = stocked_book(mesh, 5).await;
        add_to_cart(mesh, &buyer, &book, 2).await;
    }
    let order_db = mesh.database_url(ServiceName::Order).unwrap().to_owned();
    let inventory_db = mesh.database_url(ServiceName::Inventory).unwrap().to_owned();
    let before = (round_trips::of_url(&order_db), round_trips::of_url(&inventory_db));
    let order = place(mesh, &buyer, key, card(GOOD_CARD)).await.unwrap();
    assert_eq!(order.status(), pb::OrderStatus::Confirmed);
    (
        round_trips::of_url(&order_db).since(before.0),
        round_trips::of_url(&inventory_db).since(before.1),
    )
}

#[tokio::test]
async fn a_checkout_stays_within_its_round_trips() {
    round_trips::enable();
    let mesh = mesh().await;
    // The first checkout warms the services (catalog lookups, key sets).
    checkout(&mesh, "warm-up", 1).await;
    let backend = Backend::from_env();
    for books in [1_u64, 3] {
        let (order, inventory) = checkout(&mesh, &format!("counted-{books}"), books as usize).await;
        println!(
            "{backend:?} checkout of {books} line(s): order {} statements + {} transactions = {} round trips; \
             inventory {} + {} = {}; together {}",
            order.statements,
            order.transactions,
            order.total(),
            inventory.statements,
            inventory.transactions,
            inventory.total(),
            order.total() + inventory.total()
        );
        assert!(order.total() > 0 && inventory.total() > 0, "nothing counted");
        let (order_most, inventory_most) = ceiling(backend);
        assert!(
            order.total() <= order_most,
            "order: {} round trips for {books} line(s), at most {order_most}",
            order.total()
        );
        assert!(
            inventory.total() <= inventory_most,
            "inventory: {} round trips for {books} line(s), at most {inventory_most}",
            inventory.total()
        );
    }
    mesh.shutdown().await.unwrap();
}
