//! Cart AddItem and GetCart through real gRPC, next to `redis-benchmark` HINCRBY / HGETALL on
//! the same Redis with the same concurrency (no pipelining) in the same run.
//!
//! `cargo run --release -p bookstore-tests --example cart_bench`
//! (`BENCH_SECONDS`, default 5; `BENCH_CONCURRENCY`, default 16).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bookstore_tests::bench::{Row, env_number, rate, record};
use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::cart::v1 as pb;
use proto::cart::v1::cart_service_client::CartServiceClient;

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

fn guest(index: u64) -> Option<pb::CartOwner> {
    Some(pb::CartOwner {
        owner: Some(pb::cart_owner::Owner::GuestSessionId(format!(
            "bench-guest-session-{index:012}"
        ))),
    })
}

/// Runs `redis-benchmark` for one command; returns requests per second.
fn redis_benchmark(concurrency: u64, requests: u64, command: &[&str]) -> f64 {
    let output = std::process::Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", "6379", "-q", "-P", "1"])
        .args(["-c", &concurrency.to_string(), "-n", &requests.to_string()])
        .args(command)
        .output()
        .expect("redis-benchmark on PATH");
    let text = String::from_utf8_lossy(&output.stdout);
    // "...: 51234.57 requests per second, p50=..."
    let line = text
        .lines()
        .last()
        .unwrap_or_default()
        .rsplit('\r')
        .next()
        .unwrap_or_default()
        .to_owned();
    line.split_whitespace()
        .zip(line.split_whitespace().skip(1))
        .find(|(_, next)| *next == "requests")
        .and_then(|(number, _)| number.parse().ok())
        .unwrap_or_else(|| panic!("unexpected redis-benchmark output: {text}"))
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16);
    let mesh = TestMesh::builder()
        .with(ServiceName::Cart)
        .with(ServiceName::Catalog)
        .start()
        .await
        .unwrap();
    let (_, admin) = mesh.keys().user_token(Role::Admin);
    let request = proto::catalog::v1::CreateBookRequest {
        book: Some(bookstore::seed::generate::book(777_777)),
    };
    let book = proto::catalog::v1::catalog_service_client::CatalogServiceClient::new(
        mesh.channel(ServiceName::Catalog),
    )
    .create_book(with_token(request, &admin))
    .await
    .unwrap()
    .into_inner()
    .book
    .unwrap()
    .id;
    let channel = mesh.channel(ServiceName::Cart);
    let bff = mesh.bff_token(ServiceName::Cart);

    let (add_channel, add_token, add_book) = (channel.clone(), bff.clone(), book.clone());
    let add = rate(concurrency, seconds, move |round| {
        let mut client = CartServiceClient::new(add_channel.clone());
        let request = pb::AddItemRequest {
            owner: guest(round % 5_000),
            book_id: add_book.clone(),
            quantity: 1,
        };
        let token = add_token.clone();
        async move {
            // Past 99 copies a cart refuses more; that is still a full round trip.
            let _ = client.add_item(with_token(request, &token)).await;
        }
    })
    .await;
    let (get_channel, get_token) = (channel.clone(), bff.clone());
    let get = rate(concurrency, seconds, move |round| {
        let mut client = CartServiceClient::new(get_channel.clone());
        let request = pb::GetCartRequest {
            owner: guest(round % 5_000),
        };
        let token = get_token.clone();
        async move {
            client.get_cart(with_token(request, &token)).await.unwrap();
        }
    })
    .await;
    let requests = 200_000;
    let key = format!("{}:bench", mesh.redis_prefix());
    let hincrby = redis_benchmark(concurrency, requests, &["HINCRBY", &key, "book", "1"]);
    let hgetall = redis_benchmark(concurrency, requests, &["HGETALL", &key]);
    println!("concurrency {concurrency}, {seconds} s per gRPC measure");
    println!(
        "{:<28} {:>12} {:>14} {:>8}",
        "measure", "service/s", "redis-bench/s", "ratio"
    );
    println!(
        "{:<28} {:>12.0} {:>14.0} {:>8.3}",
        "AddItem vs HINCRBY",
        add,
        hincrby,
        add / hincrby
    );
    println!(
        "{:<28} {:>12.0} {:>14.0} {:>8.3}",
        "GetCart vs HGETALL",
        get,
        hgetall,
        get / hgetall
    );
    record(&Row::ratio(
        &format!("cart AddItem via gRPC, {concurrency} clients (vs redis-benchmark HINCRBY)"),
        add,
        "/s",
        hincrby,
        0.4,
    ));
    mesh.shutdown().await.unwrap();
}
