//! svc-order end to end: real cart (Redis), catalog, inventory, user and order services
//! over gRPC, on SQLite or PostgreSQL, with the sandbox payment provider.

mod checkout;
mod faults;
mod fulfilment;
mod round_trips;

use bookstore::config::BookstoreConfig;
use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::order::v1 as pb;
use proto::order::v1::order_service_client::OrderServiceClient;
use sea_orm::{ConnectionTrait as _, Database};
use tonic::transport::Channel;

/// The services checkout needs, with a short lease and recovery interval so stalled
/// orders are picked up within a test.
pub(crate) async fn mesh_with(change: impl FnOnce(&mut BookstoreConfig) + Send + 'static) -> TestMesh {
    TestMesh::builder()
        .with(ServiceName::User)
        .with(ServiceName::Catalog)
        .with(ServiceName::Cart)
        .with(ServiceName::Inventory)
        .with(ServiceName::Order)
        .configure(|config| {
            config.order.own.lease_ms = 1_500;
            config.order.own.recovery_interval_ms = 200;
            config.order.own.watch_poll_ms = 50;
            config.inventory.own.sweep_interval_ms = 200;
        })
        .configure(change)
        .start()
        .await
        .unwrap()
}

pub(crate) async fn mesh() -> TestMesh {
    mesh_with(|_| {}).await
}

pub(crate) fn client(mesh: &TestMesh) -> OrderServiceClient<Channel> {
    OrderServiceClient::new(mesh.channel(ServiceName::Order))
}

/// A shopper: their id and token.
pub(crate) struct Shopper {
    pub id: String,
    pub token: String,
}

pub(crate) fn shopper(mesh: &TestMesh) -> Shopper {
    let (id, token) = mesh.keys().user_token(Role::Customer);
    Shopper {
        id: id.to_string(),
        token,
    }
}

pub(crate) fn admin(mesh: &TestMesh) -> String {
    mesh.keys().user_token(Role::Admin).1
}

/// Creates a book with `on_hand` copies; returns its id and unit price.
pub(crate) async fn stocked_book(mesh: &TestMesh, on_hand: i64) -> (String, i64) {
    let book = crate::cart::books(mesh, 1).await.remove(0);
    let mut inventory = proto::inventory::v1::inventory_service_client::InventoryServiceClient::new(
        mesh.channel(ServiceName::Inventory),
    );
    let request = proto::inventory::v1::SetStockRequest {
        book_id: book.clone(),
        on_hand,
        reason: "delivery".to_owned(),
    };
    inventory
        .set_stock(with_token(request, &admin(mesh)))
        .await
        .unwrap();
    let mut catalog = proto::catalog::v1::catalog_service_client::CatalogServiceClient::new(
        mesh.channel(ServiceName::Catalog),
    );
    let request = proto::catalog::v1::GetBookRequest {
        book_id: book.clone(),
    };
    let price = catalog
        .get_book(with_token(request, &admin(mesh)))
        .await
        .unwrap()
        .into_inner()
        .book
        .unwrap()
        .price
        .unwrap()
        .amount_minor;
    (book, price)
}

pub(crate) async fn add_to_cart(mesh: &TestMesh, shopper: &Shopper, book: &str, quantity: i32) {
    crate::cart::add(
        mesh,
        &shopper.token,
        crate::cart::user_owner(&shopper.id),
        book,
        quantity,
    )
    .await
    .unwrap();
}

pub(crate) async fn on_hand(mesh: &TestMesh, book: &str) -> (i64, i64) {
    let mut inventory = proto::inventory::v1::inventory_service_client::InventoryServiceClient::new(
        mesh.channel(ServiceName::Inventory),
    );
    let request = proto::inventory::v1::GetStockRequest {
        book_id: book.to_owned(),
    };
    let stock = inventory
        .get_stock(with_token(request, &admin(mesh)))
        .await
        .unwrap()
        .into_inner()
        .stock
        .unwrap();
    (stock.on_hand, stock.reserved)
}

pub(crate) const GOOD_CARD: &str = "4242 4242 4242 4242";

pub(crate) fn card(number: &str) -> Option<pb::PaymentMethod> {
    Some(pb::PaymentMethod {
        method: Some(pb::payment_method::Method::Card(pb::Card {
            number: number.to_owned(),
            exp_month: 12,
            exp_year: 2035,
            cvc: "123".to_owned(),
            holder: "Ada Lovelace".to_owned(),
        })),
    })
}

pub(crate) fn paypal(email: &str) -> Option<pb::PaymentMethod> {
    Some(pb::PaymentMethod {
        method: Some(pb::payment_method::Method::Paypal(pb::Paypal {
            email: email.to_owned(),
        })),
    })
}

pub(crate) fn place_request(key: &str, payment: Option<pb::PaymentMethod>) -> pb::PlaceOrderRequest {
    pb::PlaceOrderRequest {
        idempotency_key: key.to_owned(),
        shipping: Some(pb::place_order_request::Shipping::ShippingAddress(
            proto::common::v1::AddressInput {
                line1: "1 Rue de la Paix".to_owned(),
                line2: String::new(),
                city: "Paris".to_owned(),
                postal_code: "75002".to_owned(),
                country: "FR".to_owned(),
                is_default: false,
            },
        )),
        payment,
    }
}

pub(crate) async fn place(
    mesh: &TestMesh,
    shopper: &Shopper,
    key: &str,
    payment: Option<pb::PaymentMethod>,
) -> Result<pb::Order, tonic::Status> {
    client(mesh)
        .place_order(with_token(place_request(key, payment), &shopper.token))
        .await
        .map(|response| response.into_inner().order.unwrap())
}

pub(crate) async fn get_order(mesh: &TestMesh, token: &str, id: &str) -> Result<pb::Order, tonic::Status> {
    let request = pb::GetOrderRequest {
        order_id: id.to_owned(),
    };
    client(mesh)
        .get_order(with_token(request, token))
        .await
        .map(|response| response.into_inner().order.unwrap())
}

/// Runs `sql` (`?` placeholders) with `id` bound as a UUID on a service's database and
/// returns the first column of each row as text.
pub(crate) async fn rows(mesh: &TestMesh, service: ServiceName, sql: &str, id: &str) -> Vec<String> {
    let db = Database::connect(mesh.database_url(service).unwrap())
        .await
        .unwrap();
    let id = uuid::Uuid::parse_str(id).unwrap();
    let statement = platform::store::statement(db.get_database_backend(), sql, [id.into()]);
    let rows = db.query_all_raw(statement).await.unwrap();
    let values = rows
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect();
    db.close().await.unwrap();
    values
}

/// The provider calls recorded for an order: `operation:outcome`.
pub(crate) async fn payment_calls(mesh: &TestMesh, order: &str) -> Vec<String> {
    rows(
        mesh,
        ServiceName::Order,
        "SELECT operation || ':' || outcome FROM payments WHERE order_id = ? ORDER BY id",
        order,
    )
    .await
}

/// The sandbox processor's state of an order's charge, if any.
pub(crate) async fn charge_state(mesh: &TestMesh, order: &str) -> Option<String> {
    let db = Database::connect(mesh.database_url(ServiceName::Order).unwrap())
        .await
        .unwrap();
    let statement = platform::store::statement(
        db.get_database_backend(),
        "SELECT state FROM sandbox_charges WHERE authorize_key = ?",
        [format!("order:{order}:authorize").into()],
    );
    let state = db
        .query_all_raw(statement)
        .await
        .unwrap()
        .first()
        .map(|row| row.try_get_by_index::<String>(0).unwrap());
    db.close().await.unwrap();
    state
}

/// The inventory state of an order's reservation, if any.
pub(crate) async fn reservation_state(mesh: &TestMesh, order: &str) -> Option<String> {
    rows(
        mesh,
        ServiceName::Inventory,
        "SELECT state FROM reservations WHERE order_id = ?",
        order,
    )
    .await
    .pop()
}

/// The invariants (CONTRIBUTING.md) that span order, inventory and payments: a CONFIRMED
/// order has a committed reservation and a captured payment; a FAILED one holds no stock
/// and no money; nothing is PENDING; and the inventory invariants hold.
pub(crate) async fn assert_order_invariants(mesh: &TestMesh, order_ids: &[String]) {
    for order in order_ids {
        let status = rows(
            mesh,
            ServiceName::Order,
            "SELECT status || '/' || step FROM orders WHERE id = ?",
            order,
        )
        .await
        .pop()
        .unwrap();
        let reservation = reservation_state(mesh, order).await;
        let charge = charge_state(mesh, order).await;
        match status.as_str() {
            "CONFIRMED/done" => {
                assert_eq!(reservation.as_deref(), Some("COMMITTED"), "{order}: {status}");
                assert_eq!(charge.as_deref(), Some("captured"), "{order}: {status}");
            }
            "FAILED/done" => {
                assert!(
                    !matches!(reservation.as_deref(), Some("HELD" | "COMMITTED")),
                    "{order}: {status} with reservation {reservation:?}"
                );
                assert!(
                    !matches!(charge.as_deref(), Some("authorized" | "captured")),
                    "{order}: {status} with charge {charge:?}"
                );
            }
            "CANCELLED/done" => {
                assert!(
                    !matches!(reservation.as_deref(), Some("HELD")),
                    "{order}: {status} with reservation {reservation:?}"
                );
                assert!(
                    !matches!(charge.as_deref(), Some("authorized" | "captured")),
                    "{order}: {status} with charge {charge:?}"
                );
            }
            other => panic!("{order} ended {other}"),
        }
    }
    bookstore_tests::invariants::assert_invariants(mesh.database_url(ServiceName::Inventory).unwrap()).await;
}
