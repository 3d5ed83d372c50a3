//! The stack as operators run it (one `bookstore serve` process per service), measured:
//! start-up of `bookstore up`; a 20-book page with availability through the BFF against the
//! same data fetched by direct gRPC (SearchBooks + BatchGetStock) in the same run; every
//! process's resident memory under that load; full checkouts through GraphQL.
//!
//! `cargo build --release && cargo run --release -p bookstore-tests --example system_bench`
//! (`BENCH_SECONDS`, default 10; `BENCH_CONCURRENCY`, default 32; `BENCH_ORDERS`, default
//! 300; `BOOKSTORE_TEST_DATABASE=postgres`; `BOOKSTORE_BIN` names the binary, default the
//! `bookstore` beside this example's directory). `scripts/bench.sh` runs it with the rest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bookstore_tests::bench::{Row, env_number, record};
use bookstore_tests::stack::{Stack, probe, shop};
use bookstore_tests::with_token;
use bookstore_tests::{bookstore_command, free_port};
use futures::StreamExt as _;
use hdrhistogram::Histogram;
use platform::ServiceName;
use platform::auth::Role;
use platform::testing::{Backend, TestDatabase};
use proto::catalog::v1 as catalog;
use proto::inventory::v1 as inventory;
use serde_json::json;
use tokio::sync::Mutex;

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

const PAGE: &str = "{ books(first: 20, sort: TITLE) { totalCount edges { cursor node { id isbn title authors \
    price { amount currency formatted } availability { inStock available } } } } }";

fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("BOOKSTORE_BIN") {
        return PathBuf::from(path);
    }
    let example = std::env::current_exe().unwrap();
    example.parent().unwrap().parent().unwrap().join("bookstore")
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).unwrap()
}

fn ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

/// Runs `call` on `concurrency` tasks for `seconds`; returns latencies and calls a second.
async fn measure<F, Fut>(concurrency: u64, seconds: u64, call: F) -> (Histogram<u64>, f64)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let total = Arc::new(Mutex::new(histogram()));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (call, total) = (Arc::clone(&call), Arc::clone(&total));
        tasks.spawn(async move {
            let mut local = histogram();
            while Instant::now() < deadline {
                let began = Instant::now();
                call().await;
                local.record(began.elapsed().as_micros() as u64).unwrap();
            }
            total.lock().await.add(&local).unwrap();
        });
    }
    while tasks.join_next().await.is_some() {}
    let histogram = total.lock().await.clone();
    let rate = histogram.len() as f64 / started.elapsed().as_secs_f64();
    (histogram, rate)
}

/// Starts `bookstore up` on fresh stores and returns how long it took until all five
/// services answer SERVING and the BFF is ready.
async fn start_up_time() -> Duration {
    let backend = Backend::from_env();
    let data_dir = std::env::temp_dir().join(format!("bench-up-{}", uuid::Uuid::new_v4().simple()));
    let mut command = bookstore_command(&binary());
    command
        .args(["up", "--data-dir"])
        .arg(&data_dir)
        .env("BOOKSTORE_REDIS_KEY_PREFIX", platform::testing::redis_prefix())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut ports = Vec::new();
    let mut databases = Vec::new();
    for service in ServiceName::all() {
        let port = free_port();
        let section = service.as_str().to_uppercase();
        command.env(
            format!("BOOKSTORE_{section}__LISTEN"),
            format!("127.0.0.1:{port}"),
        );
        if backend == Backend::Postgres && !matches!(service, ServiceName::Cart | ServiceName::Bff) {
            let database = TestDatabase::create_on(backend, service.as_str()).await.unwrap();
            command.env(format!("BOOKSTORE_{section}__DATABASE_URL"), &database.url);
            databases.push(database);
        }
        ports.push((service, port));
    }
    let started = Instant::now();
    let mut child = command.spawn().unwrap();
    for (service, port) in ports {
        while probe(service, port).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{service} never became ready"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let elapsed = started.elapsed();
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let _ = std::fs::remove_dir_all(data_dir);
    elapsed
}

/// One process's resident memory, from `/proc/<pid>/status`, in KiB.
#[derive(Debug, Clone, Copy, Default)]
struct Resident {
    total: u64,
    /// Heap and stacks: what the service itself holds.
    anonymous: u64,
    /// Mapped pages of the binary and libraries, shared by every process of the same file.
    file: u64,
}

fn resident(pid: u32) -> Resident {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Resident {
        total: field("VmRSS:"),
        anonymous: field("RssAnon:"),
        file: field("RssFile:"),
    }
}

/// Samples every process's RSS until `stop`, returning the largest seen per process (with
/// its split at that moment).
async fn sample_memory(
    pids: Vec<(String, u32)>,
    stop: tokio_util::sync::CancellationToken,
) -> BTreeMap<String, Resident> {
    let mut peaks: BTreeMap<String, Resident> = BTreeMap::new();
    while !stop.is_cancelled() {
        for (name, pid) in &pids {
            let now = resident(*pid);
            let peak = peaks.entry(name.clone()).or_default();
            if now.total > peak.total {
                *peak = now;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    peaks
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 10);
    let concurrency = env_number("BENCH_CONCURRENCY", 32);
    let orders = env_number("BENCH_ORDERS", 300);
    let backend = Backend::from_env();

    let start_up = start_up_time().await;
    println!(
        "start-up: bookstore up to all SERVING in {} ms",
        start_up.as_millis()
    );
    record(&Row::recorded(
        "start-up: `bookstore up` to all SERVING",
        start_up.as_secs_f64() * 1000.0,
        "ms",
    ));

    let stack = Stack::builder(binary())
        .backend(backend)
        // One client address and a handful of users: lift the rate limits for the bench.
        .setting("BOOKSTORE_BFF__RATE_PER_ADDRESS", 1_000_000)
        .setting("BOOKSTORE_BFF__RATE_PER_USER", 1_000_000)
        .setting("BOOKSTORE_BFF__RATE_BURST", 1_000_000)
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
                .create_book(&admin, &format!("Bench {index:03}"), 1500, 1_000_000)
                .await
                .unwrap(),
        );
    }

    // The BFF page, with every process's memory sampled meanwhile.
    let stop = tokio_util::sync::CancellationToken::new();
    let pids = stack
        .processes()
        .iter()
        .map(|process| (process.name.clone(), process.pid().unwrap()))
        .collect();
    let sampler = tokio::spawn(sample_memory(pids, stop.clone()));
    let (http, url) = (graphql.http().clone(), graphql.url().to_owned());
    let (bff, bff_rate) = measure(concurrency, seconds, move || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let response = http
                .post(&url)
                .json(&json!({ "query": PAGE }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(
                body["data"]["books"]["edges"].as_array().map(Vec::len),
                Some(20),
                "{body}"
            );
        }
    })
    .await;
    stop.cancel();
    let peaks = sampler.await.unwrap();

    let connect = |name: &str| {
        tonic::transport::Endpoint::from_shared(stack.grpc_url(name))
            .unwrap()
            .connect_lazy()
    };
    let (catalog_channel, inventory_channel) = (connect("catalog-1"), connect("inventory-1"));
    let catalog_token = stack.keys().service_token("bff", "catalog");
    let inventory_token = stack.keys().service_token("bff", "inventory");
    let (direct, direct_rate) = measure(concurrency, seconds, move || {
        let mut books = catalog::catalog_service_client::CatalogServiceClient::new(catalog_channel.clone());
        let mut stock =
            inventory::inventory_service_client::InventoryServiceClient::new(inventory_channel.clone());
        let (catalog_token, inventory_token) = (catalog_token.clone(), inventory_token.clone());
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
                .search_books(with_token(request, &catalog_token))
                .await
                .unwrap()
                .into_inner();
            let request = inventory::BatchGetStockRequest {
                book_ids: page.books.iter().map(|book| book.id.clone()).collect(),
            };
            let stocks = stock
                .batch_get_stock(with_token(request, &inventory_token))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(stocks.stocks.len(), 20);
        }
    })
    .await;
    println!(
        "20-book page, {concurrency} clients: BFF {bff_rate:.0}/s (p50 {:.1} ms, p99 {:.1} ms), direct gRPC {direct_rate:.0}/s (p50 {:.1} ms, p99 {:.1} ms)",
        ms(&bff, 0.5),
        ms(&bff, 0.99),
        ms(&direct, 0.5),
        ms(&direct, 0.99)
    );
    record(&Row::ratio(
        &format!(
            "BFF 20-book page with availability, {concurrency} clients (vs direct gRPC catalog + inventory)"
        ),
        bff_rate,
        "/s",
        direct_rate,
        0.7,
    ));
    let mib = |kib: u64| kib as f64 / 1024.0;
    for (name, peak) in &peaks {
        let limit = if name.starts_with("bff") { 50.0 } else { 30.0 };
        println!(
            "peak RSS under the BFF load: {name} {:.1} MiB (anonymous {:.1}, file-backed {:.1})",
            mib(peak.total),
            mib(peak.anonymous),
            mib(peak.file)
        );
        record(&Row::at_most(
            &format!("memory: {name} peak RSS under the BFF load"),
            mib(peak.total),
            "MiB",
            limit,
        ));
        record(&Row::recorded(
            &format!("memory: {name} of which anonymous (heap, stacks)"),
            mib(peak.anonymous),
            "MiB",
        ));
    }

    // Full checkouts through GraphQL: cart filled, then placeOrder, 8 shoppers at a time.
    let shoppers: Vec<shop::Shopper> = (0..orders)
        .map(|index| shop::Shopper {
            email: format!("bench-{index}@shoppers.test"),
            token: stack.keys().user_token(Role::Customer).1,
        })
        .collect();
    for (index, shopper) in shoppers.iter().enumerate() {
        graphql
            .fill_cart(shopper, &books[index % books.len()], 1)
            .await
            .unwrap();
    }
    let started = Instant::now();
    let latencies = futures::stream::iter(&shoppers)
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
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let rate = shoppers.len() as f64 / started.elapsed().as_secs_f64();
    let mut checkout = histogram();
    for latency in latencies {
        checkout.record(latency.as_micros() as u64).unwrap();
    }
    println!(
        "checkout via GraphQL, 8 shoppers: {rate:.1} orders/s, p50 {:.1} ms, p99 {:.1} ms",
        ms(&checkout, 0.5),
        ms(&checkout, 0.99)
    );
    record(&Row::recorded(
        "full checkout via GraphQL, 8 shoppers: orders/s",
        rate,
        "/s",
    ));
    record(&Row::recorded(
        "full checkout via GraphQL, 8 shoppers: p99",
        ms(&checkout, 0.99),
        "ms",
    ));
}
