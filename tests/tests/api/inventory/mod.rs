//! svc-inventory through real gRPC, on the backend `BOOKSTORE_TEST_DATABASE` selects, with
//! the invariants of CONTRIBUTING.md checked against the database after every scenario.

mod concurrency;
mod events;
mod random_interleavings;
mod reserve_commit_release;
mod sweeper;
mod unknown_books;

use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::inventory::v1 as pb;
use proto::inventory::v1::inventory_service_client::InventoryServiceClient;
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

pub(crate) use bookstore_tests::invariants::assert_invariants;
