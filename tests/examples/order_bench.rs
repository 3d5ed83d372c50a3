//! Checkout through real gRPC (order -> cart, catalog, inventory, sandbox payments), next to
//! the floor it stands on measured in the same run: inventory Reserve + Commit called
//! directly with the same lines and concurrency.
//!
//! `cargo run --release -p bookstore-tests --example order_bench`
//! (`BENCH_ORDERS`, default 300; `BENCH_CONCURRENCY`, default 8;
//! `BOOKSTORE_TEST_DATABASE=postgres` for PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bookstore_tests::bench::env_number;
use bookstore_tests::{TestMesh, with_token};
use hdrhistogram::Histogram;
use platform::ServiceName;
use platform::auth::Role;
use proto::inventory::v1 as inventory;
use proto::order::v1 as pb;
use tokio::sync::{Mutex, Semaphore};

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

fn summary(name: &str, histogram: &Histogram<u64>, wall: Duration) {
    println!(
        "{name:<24} n={:<5} p50={:>7.1} ms  p99={:>7.1} ms  max={:>7.1} ms  {:>7.1}/s",
        histogram.len(),
        histogram.value_at_quantile(0.5) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
        histogram.max() as f64 / 1000.0,
        histogram.len() as f64 / wall.as_secs_f64(),
    );
}

/// Runs `count` calls of `call(index)`, `concurrency` at a time; returns latencies and wall time.
async fn measure<F, Fut>(count: usize, concurrency: usize, call: F) -> (Histogram<u64>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let histogram = Arc::new(Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()));
    let permits = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..count {
        let permit = Arc::clone(&permits).acquire_owned().await.unwrap();
        let (call, histogram) = (Arc::clone(&call), Arc::clone(&histogram));
        tasks.spawn(async move {
            let began = Instant::now();
            call(index).await;
            let micros = u64::try_from(began.elapsed().as_micros()).unwrap();
            histogram.lock().await.record(micros.max(1)).unwrap();
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    let wall = started.elapsed();
    let histogram = histogram.lock().await.clone();
    (histogram, wall)
}

#[tokio::main]
async fn main() {
    let orders = usize::try_from(env_number("BENCH_ORDERS", 300)).unwrap();
    let concurrency = usize::try_from(env_number("BENCH_CONCURRENCY", 8)).unwrap();
    let mesh = TestMesh::builder()
        .with(ServiceName::Catalog)
        .with(ServiceName::Cart)
        .with(ServiceName::Inventory)
        .with(ServiceName::Order)
        .start()
        .await
        .unwrap();
    let (_, admin) = mesh.keys().user_token(Role::Admin);
    let mut catalog = proto::catalog::v1::catalog_service_client::CatalogServiceClient::new(
        mesh.channel(ServiceName::Catalog),
    );
    let mut stock = inventory::inventory_service_client::InventoryServiceClient::new(
        mesh.channel(ServiceName::Inventory),
    );
    let mut books = Vec::new();
    for index in 0..20 {
        let request = proto::catalog::v1::CreateBookRequest {
            book: Some(bookstore::seed::generate::book(900_000 + index)),
        };
        let book = catalog
            .create_book(with_token(request, &admin))
            .await
            .unwrap()
            .into_inner()
            .book
            .unwrap()
            .id;
        let request = inventory::SetStockRequest {
            book_id: book.clone(),
            on_hand: 1_000_000,
            reason: "bench".to_owned(),
        };
        stock.set_stock(with_token(request, &admin)).await.unwrap();
        books.push(book);
    }

    // Every shopper gets a cart of two books before the clock starts.
    let mut shoppers = Vec::new();
    let mut carts =
        proto::cart::v1::cart_service_client::CartServiceClient::new(mesh.channel(ServiceName::Cart));
    for index in 0..orders {
        let (user, token) = mesh.keys().user_token(Role::Customer);
        for book in [&books[index % 20], &books[(index + 7) % 20]] {
            let request = proto::cart::v1::AddItemRequest {
                owner: Some(proto::cart::v1::CartOwner {
                    owner: Some(proto::cart::v1::cart_owner::Owner::UserId(user.to_string())),
                }),
                book_id: book.clone(),
                quantity: 1,
            };
            carts.add_item(with_token(request, &token)).await.unwrap();
        }
        shoppers.push(token);
    }

    let order_channel = mesh.channel(ServiceName::Order);
    let shoppers = Arc::new(shoppers);
    let (checkout, checkout_wall) = measure(orders, concurrency, move |index| {
        let mut client = pb::order_service_client::OrderServiceClient::new(order_channel.clone());
        let token = shoppers[index].clone();
        async move {
            let request = pb::PlaceOrderRequest {
                idempotency_key: format!("bench-{index}"),
                shipping: Some(pb::place_order_request::Shipping::ShippingAddress(
                    proto::common::v1::AddressInput {
                        line1: "1 Bench Way".to_owned(),
                        line2: String::new(),
                        city: "Berlin".to_owned(),
                        postal_code: "10115".to_owned(),
                        country: "DE".to_owned(),
                        is_default: false,
                    },
                )),
                payment: Some(pb::PaymentMethod {
                    method: Some(pb::payment_method::Method::Card(pb::Card {
                        number: "4242424242424242".to_owned(),
                        exp_month: 12,
                        exp_year: 2035,
                        cvc: "123".to_owned(),
                        holder: String::new(),
                    })),
                }),
            };
            let order = client
                .place_order(with_token(request, &token))
                .await
                .unwrap()
                .into_inner()
                .order
                .unwrap();
            assert_eq!(order.status(), pb::OrderStatus::Confirmed);
        }
    })
    .await;

    let inventory_channel = mesh.channel(ServiceName::Inventory);
    let order_token = mesh
        .keys()
        .service_token(ServiceName::Order.as_str(), ServiceName::Inventory.as_str());
    let books = Arc::new(books);
    let (floor, floor_wall) = measure(orders, concurrency, move |index| {
        let mut client =
            inventory::inventory_service_client::InventoryServiceClient::new(inventory_channel.clone());
        let token = order_token.clone();
        let books = Arc::clone(&books);
        async move {
            let request = inventory::ReserveRequest {
                order_id: uuid::Uuid::now_v7().to_string(),
                lines: [&books[index % 20], &books[(index + 7) % 20]]
                    .into_iter()
                    .map(|book| inventory::ReserveLine {
                        book_id: book.clone(),
                        quantity: 1,
                    })
                    .collect(),
                ttl_seconds: 600,
            };
            let reservation = client
                .reserve(with_token(request, &token))
                .await
                .unwrap()
                .into_inner()
                .reservation
                .unwrap();
            let request = inventory::CommitRequest {
                reservation_id: reservation.reservation_id,
            };
            client.commit(with_token(request, &token)).await.unwrap();
        }
    })
    .await;

    println!(
        "{orders} orders of 2 books, concurrency {concurrency}, database {}",
        std::env::var("BOOKSTORE_TEST_DATABASE").unwrap_or_else(|_| "sqlite".to_owned())
    );
    summary("PlaceOrder", &checkout, checkout_wall);
    summary("Reserve+Commit direct", &floor, floor_wall);
    println!(
        "checkout throughput / reserve+commit throughput: {:.3}",
        (checkout.len() as f64 / checkout_wall.as_secs_f64())
            / (floor.len() as f64 / floor_wall.as_secs_f64())
    );
    mesh.shutdown().await.unwrap();
}
