//! A 20-book page with availability through the BFF (HTTP + GraphQL + two gRPC calls),
//! next to the same data fetched by direct gRPC calls (SearchBooks + BatchGetStock) in the
//! same run: the BFF's overhead as a ratio.
//!
//! `cargo run --release -p bookstore-tests --example bff_bench`
//! (`BENCH_SECONDS`, default 10; `BENCH_CONCURRENCY`, default 32).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bookstore_tests::bench::env_number;
use bookstore_tests::{TestMesh, with_token};
use hdrhistogram::Histogram;
use platform::ServiceName;
use platform::auth::Role;
use proto::catalog::v1 as catalog;
use proto::inventory::v1 as inventory;
use tokio::sync::Mutex;

const PAGE: &str = "{ books(first: 20, sort: TITLE) { totalCount edges { cursor node { id isbn title authors \
    price { amount currency formatted } availability { inStock available } } } } }";

/// Runs `call` on `concurrency` tasks for `seconds`; returns latencies and calls a second.
async fn measure<F, Fut>(concurrency: u64, seconds: u64, call: F) -> (Histogram<u64>, f64)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let histogram = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap(),
    ));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (call, histogram) = (Arc::clone(&call), Arc::clone(&histogram));
        tasks.spawn(async move {
            let mut local = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
            while Instant::now() < deadline {
                let began = Instant::now();
                call().await;
                local
                    .record(u64::try_from(began.elapsed().as_micros()).unwrap().max(1))
                    .unwrap();
            }
            histogram.lock().await.add(&local).unwrap();
        });
    }
    while tasks.join_next().await.is_some() {}
    let histogram = histogram.lock().await.clone();
    let rate = histogram.len() as f64 / started.elapsed().as_secs_f64();
    (histogram, rate)
}

fn line(name: &str, histogram: &Histogram<u64>, rate: f64) {
    println!(
        "{name:<34} {rate:>9.0}/s  p50={:>6.1} ms  p99={:>6.1} ms",
        histogram.value_at_quantile(0.5) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
    );
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 10);
    let concurrency = env_number("BENCH_CONCURRENCY", 32);
    let mesh = TestMesh::builder()
        .with(ServiceName::Catalog)
        .with(ServiceName::Inventory)
        .with(ServiceName::Bff)
        .configure(|config| {
            // The bench is one client address; lift the per-address limit for it.
            config.bff.rate_per_address = 1_000_000;
            config.bff.rate_burst = 1_000_000;
        })
        .start()
        .await
        .unwrap();
    let (_, admin) = mesh.keys().user_token(Role::Admin);
    let mut catalog_client =
        catalog::catalog_service_client::CatalogServiceClient::new(mesh.channel(ServiceName::Catalog));
    let mut inventory_client = inventory::inventory_service_client::InventoryServiceClient::new(
        mesh.channel(ServiceName::Inventory),
    );
    for index in 0..200 {
        let request = catalog::CreateBookRequest {
            book: Some(bookstore::seed::generate::book(500_000 + index)),
        };
        let book = catalog_client
            .create_book(with_token(request, &admin))
            .await
            .unwrap()
            .into_inner()
            .book
            .unwrap();
        let request = inventory::SetStockRequest {
            book_id: book.id,
            on_hand: 10,
            reason: "bench".to_owned(),
        };
        inventory_client
            .set_stock(with_token(request, &admin))
            .await
            .unwrap();
    }

    let http = reqwest::Client::new();
    let url = format!("{}/graphql", mesh.bff_url());
    let (bff, bff_rate) = measure(concurrency, seconds, move || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let response = http
                .post(&url)
                .header("content-type", "application/json")
                .body(serde_json::json!({ "query": PAGE }).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(
                body["data"]["books"]["edges"].as_array().map(Vec::len),
                Some(20),
                "{body:?}"
            );
        }
    })
    .await;

    let token = mesh.bff_token(ServiceName::Catalog);
    let stock_token = mesh.bff_token(ServiceName::Inventory);
    let (catalog_channel, inventory_channel) = (
        mesh.channel(ServiceName::Catalog),
        mesh.channel(ServiceName::Inventory),
    );
    let (direct, direct_rate) = measure(concurrency, seconds, move || {
        let mut books = catalog::catalog_service_client::CatalogServiceClient::new(catalog_channel.clone());
        let mut stock =
            inventory::inventory_service_client::InventoryServiceClient::new(inventory_channel.clone());
        let (token, stock_token) = (token.clone(), stock_token.clone());
        async move {
            let request = catalog::SearchBooksRequest {
                sort: catalog::BookSort::Title.into(),
                page: Some(proto::common::v1::PageRequest {
                    page_size: 20,
                    page_token: String::new(),
                }),
                ..catalog::SearchBooksRequest::default()
            };
            let page = books
                .search_books(with_token(request, &token))
                .await
                .unwrap()
                .into_inner();
            let request = inventory::BatchGetStockRequest {
                book_ids: page.books.iter().map(|book| book.id.clone()).collect(),
            };
            let stocks = stock
                .batch_get_stock(with_token(request, &stock_token))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(stocks.stocks.len(), 20);
        }
    })
    .await;

    println!("20-book page with availability, concurrency {concurrency}, {seconds} s each");
    line("BFF (HTTP + GraphQL + 2 gRPC)", &bff, bff_rate);
    line("direct gRPC (SearchBooks+BatchGet)", &direct, direct_rate);
    println!("BFF / direct throughput: {:.3}", bff_rate / direct_rate);
    mesh.shutdown().await.unwrap();
}
