//! svc-inventory through real gRPC, on the backend `BOOKSTORE_TEST_DATABASE` selects, with
//! the invariants of ARCHITECTURE.md checked against the database after every scenario.

mod concurrency;
mod events;
mod sweeper;
mod tcc;

use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::inventory::v1 as pb;
use proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use sea_orm::{ConnectionTrait as _, Database, Statement};
use tonic::transport::Channel;

pub(crate) async fn inventory_mesh() -> TestMesh {
    TestMesh::builder()
        .with(ServiceName::Inventory)
        .start()
        .await
        .unwrap()
}

pub(crate) fn client(mesh: &TestMesh) -> InventoryServiceClient<Channel> {
    InventoryServiceClient::new(mesh.channel(ServiceName::Inventory))
}

pub(crate) fn order_token(mesh: &TestMesh) -> String {
    mesh.keys().service_token("order", "inventory")
}

pub(crate) fn admin(mesh: &TestMesh) -> String {
    mesh.keys().user_token(Role::Admin).1
}

pub(crate) async fn set_stock(mesh: &TestMesh, book: &str, on_hand: i64) -> pb::Stock {
    let request = pb::SetStockRequest {
        book_id: book.to_owned(),
        on_hand,
        reason: String::new(),
    };
    client(mesh)
        .set_stock(with_token(request, &admin(mesh)))
        .await
        .unwrap()
        .into_inner()
        .stock
        .unwrap()
}

pub(crate) async fn stock(mesh: &TestMesh, book: &str) -> pb::Stock {
    let request = pb::GetStockRequest {
        book_id: book.to_owned(),
    };
    client(mesh)
        .get_stock(with_token(request, &order_token(mesh)))
        .await
        .unwrap()
        .into_inner()
        .stock
        .unwrap()
}

pub(crate) fn reserve_request(order: &str, lines: &[(&str, i32)], ttl_seconds: i32) -> pb::ReserveRequest {
    pb::ReserveRequest {
        order_id: order.to_owned(),
        lines: lines
            .iter()
            .map(|(book, quantity)| pb::ReserveLine {
                book_id: (*book).to_owned(),
                quantity: *quantity,
            })
            .collect(),
        ttl_seconds,
    }
}

pub(crate) async fn reserve(
    mesh: &TestMesh,
    order: &str,
    lines: &[(&str, i32)],
) -> Result<pb::Reservation, tonic::Status> {
    let request = reserve_request(order, lines, 60);
    client(mesh)
        .reserve(with_token(request, &order_token(mesh)))
        .await
        .map(|response| response.into_inner().reservation.unwrap())
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn sum(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<(String, i64)> {
    let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
    let mut sums = Vec::new();
    for row in db.query_all_raw(statement).await.unwrap() {
        let book: uuid::Uuid = row.try_get("", "book_id").unwrap();
        let value: i64 = row.try_get("", "total").unwrap();
        sums.push((book.to_string(), value));
    }
    sums.sort();
    sums
}

/// Checks, for every book: `0 <= reserved <= on_hand`, `reserved` = the sum of HELD lines,
/// and `on_hand` and `reserved` equal the sums of their ledger deltas (the stock can be
/// recomputed from the ledger).
pub(crate) async fn assert_invariants(database_url: &str) {
    let db = Database::connect(database_url).await.unwrap();
    let stock = {
        let statement = Statement::from_string(
            db.get_database_backend(),
            "SELECT book_id, on_hand, reserved FROM stock",
        );
        let mut rows = Vec::new();
        for row in db.query_all_raw(statement).await.unwrap() {
            let book: uuid::Uuid = row.try_get("", "book_id").unwrap();
            let on_hand: i64 = row.try_get("", "on_hand").unwrap();
            let reserved: i64 = row.try_get("", "reserved").unwrap();
            rows.push((book.to_string(), on_hand, reserved));
        }
        rows
    };
    let held = sum(
        &db,
        "SELECT l.book_id AS book_id, CAST(SUM(l.quantity) AS BIGINT) AS total FROM reservation_lines l \
         JOIN reservations r ON r.id = l.reservation_id WHERE r.state = 'HELD' GROUP BY l.book_id",
    )
    .await;
    let ledger_on_hand = sum(
        &db,
        "SELECT book_id, CAST(SUM(delta_on_hand) AS BIGINT) AS total FROM ledger GROUP BY book_id",
    )
    .await;
    let ledger_reserved = sum(
        &db,
        "SELECT book_id, CAST(SUM(delta_reserved) AS BIGINT) AS total FROM ledger GROUP BY book_id",
    )
    .await;
    let lookup = |sums: &[(String, i64)], book: &str| {
        sums.iter()
            .find(|(id, _)| id == book)
            .map(|(_, total)| *total)
            .unwrap_or(0)
    };
    for (book, on_hand, reserved) in &stock {
        assert!(
            *on_hand >= 0 && *reserved >= 0 && reserved <= on_hand,
            "{book}: on_hand {on_hand} reserved {reserved}"
        );
        assert_eq!(*reserved, lookup(&held, book), "{book}: reserved vs HELD lines");
        assert_eq!(
            *on_hand,
            lookup(&ledger_on_hand, book),
            "{book}: on_hand vs ledger"
        );
        assert_eq!(
            *reserved,
            lookup(&ledger_reserved, book),
            "{book}: reserved vs ledger"
        );
    }
    db.close().await.unwrap();
}
