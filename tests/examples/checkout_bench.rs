//! Full checkouts through GraphQL on the stack as operators run it (one `bookstore serve`
//! process per service): `BENCH_SHOPPERS` shoppers (default 10) place orders back to back,
//! each for a cart filled beforehand, spread over 100 books; orders a second, p50 and p99 of
//! `placeOrder`, and every process's peak resident memory under that load.
//!
//! `cargo build --release && cargo run --release -p bookstore-tests --example checkout_bench`
//! (`BENCH_ORDERS`, default 1000; `BOOKSTORE_TEST_DATABASE=postgres`; `BOOKSTORE_BIN` names
//! the binary, default the `bookstore` beside this example's directory). `scripts/bench.sh`
//! runs it with the rest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Instant;

use bookstore_tests::bench::{Row, env_number, peak_memory, record};
use bookstore_tests::stack::{GraphQl, Stack, shop};
use futures::StreamExt as _;
use hdrhistogram::Histogram;
use platform::auth::Role;
use platform::testing::Backend;

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("BOOKSTORE_BIN") {
        return PathBuf::from(path);
    }
    let example = std::env::current_exe().unwrap();
    example.parent().unwrap().parent().unwrap().join("bookstore")
}

/// Places one order per shopper, `concurrency` at a time; returns each `placeOrder`'s
/// latency in microseconds and the orders a second.
async fn checkouts(
    graphql: &GraphQl,
    shoppers: &[shop::Shopper],
    concurrency: usize,
) -> (Histogram<u64>, f64) {
    let started = Instant::now();
    let latencies = futures::stream::iter(shoppers)
        .map(|shopper| {
            let graphql = graphql.clone();
            async move {
                let began = Instant::now();
                let reply = graphql.place_order(shopper, "bench").await.unwrap();
                assert_eq!(
                    reply.data()["placeOrder"]["status"],
                    "CONFIRMED",
                    "{}",
                    reply.body
                );
                began.elapsed()
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let rate = shoppers.len() as f64 / started.elapsed().as_secs_f64();
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).unwrap();
    for latency in latencies {
        histogram.record(latency.as_micros() as u64).unwrap();
    }
    (histogram, rate)
}

#[tokio::main]
async fn main() {
    let orders = env_number("BENCH_ORDERS", 1_000);
    let concurrency = env_number("BENCH_SHOPPERS", 10);
    let backend = Backend::from_env();
    let stack = Stack::builder(binary())
        .backend(backend)
        // One client address and many users: lift the rate limits for the bench.
        .setting("BOOKSTORE_BFF__RATE_PER_ADDRESS", 1_000_000)
        .setting("BOOKSTORE_BFF__RATE_PER_USER", 1_000_000)
        .setting("BOOKSTORE_BFF__RATE_BURST", 1_000_000)
        // Room for every shopper's request: the bench measures checkouts, not shedding.
        .setting("BOOKSTORE_BFF__MAX_CONCURRENT_REQUESTS", 64 + 2 * concurrency)
        .setting("RUST_LOG", "warn")
        .start()
        .await
        .unwrap();
    let (_, admin) = stack.keys().user_token(Role::Admin);
    let graphql = stack.graphql().clone();
    let mut books = Vec::new();
    for index in 0..100 {
        books.push(
            graphql
                .create_book(&admin, &format!("Checkout {index:03}"), 1500, 1_000_000)
                .await
                .unwrap(),
        );
    }
    let shopper = |index: u64| shop::Shopper {
        email: format!("checkout-{index}@shoppers.test"),
        token: stack.keys().user_token(Role::Customer).1,
    };
    // A warm-up round first (connections, prepared statements, the catalog's caches).
    let warm_up: Vec<shop::Shopper> = (0..concurrency * 5)
        .map(|index| shopper(1_000_000 + index))
        .collect();
    let shoppers: Vec<shop::Shopper> = (0..orders).map(shopper).collect();
    for (index, shopper) in warm_up.iter().chain(&shoppers).enumerate() {
        graphql
            .fill_cart(shopper, &books[index % books.len()], 1)
            .await
            .unwrap();
    }
    let concurrency = usize::try_from(concurrency).unwrap();
    checkouts(&graphql, &warm_up, concurrency).await;

    let stop = tokio_util::sync::CancellationToken::new();
    let pids = stack
        .processes()
        .iter()
        .map(|process| (process.name.clone(), process.pid().unwrap()))
        .collect();
    let sampler = tokio::spawn(peak_memory(pids, stop.clone()));
    let (latency, rate) = checkouts(&graphql, &shoppers, concurrency).await;
    stop.cancel();
    let peaks = sampler.await.unwrap();

    let ms = |quantile: f64| latency.value_at_quantile(quantile) as f64 / 1000.0;
    let (p50, p99) = (ms(0.5), ms(0.99));
    println!(
        "checkout via GraphQL, {concurrency} shoppers, {orders} orders: {rate:.1} orders/s, p50 {p50:.1} ms, \
         p99 {p99:.1} ms (p99/p50 {:.2})",
        p99 / p50
    );
    let measure = format!("full checkout via GraphQL, {concurrency} shoppers");
    record(&Row::recorded(&format!("{measure}: orders/s"), rate, "/s"));
    record(&Row::recorded(&format!("{measure}: p50"), p50, "ms"));
    record(&Row::recorded(&format!("{measure}: p99"), p99, "ms"));
    record(&Row::at_most(
        &format!("{measure}: p99 / p50"),
        p99 / p50,
        "x",
        3.0,
    ));
    let mib = |kib: u64| kib as f64 / 1024.0;
    for (name, peak) in &peaks {
        let limit = if name.starts_with("bff") { 50.0 } else { 30.0 };
        println!(
            "peak RSS under checkouts: {name} {:.1} MiB (anonymous {:.1}, file-backed {:.1})",
            mib(peak.total),
            mib(peak.anonymous),
            mib(peak.file)
        );
        record(&Row::at_most(
            &format!("memory: {name} peak RSS under checkouts"),
            mib(peak.total),
            "MiB",
            limit,
        ));
    }
}
