//! Catalog search at scale: three query shapes through real gRPC, next to the very same SQL
//! (page + count) run directly on the same database in the same run, plus the query plans.
//!
//! `cargo run --release -p bookstore-tests --example catalog_bench`
//! (`BENCH_BOOKS`, default 100000; `BENCH_ROUNDS`, default 200;
//! `BOOKSTORE_TEST_DATABASE=postgres` for PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use bookstore_tests::bench::{Row, env_number, record};
use bookstore_tests::{TestMesh, with_token};
use hdrhistogram::Histogram;
use platform::ServiceName;
use platform::auth::Role;
use proto::catalog::v1 as pb;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use svc_catalog::grpc::search_query;
use svc_catalog::store::search::{count_statement, page_statement};

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

fn shapes() -> Vec<(&'static str, pb::SearchBooksRequest)> {
    let page = Some(proto::common::v1::PageRequest {
        page_size: 20,
        page_token: String::new(),
    });
    vec![
        (
            "text, by relevance",
            pb::SearchBooksRequest {
                query: "silent garden".to_owned(),
                sort: pb::BookSort::Relevance as i32,
                page: page.clone(),
                ..Default::default()
            },
        ),
        (
            "topic + price, by price",
            pb::SearchBooksRequest {
                filter: Some(pb::BookFilter {
                    topic: "Mystery".to_owned(),
                    min_price_minor: Some(1_000),
                    max_price_minor: Some(3_000),
                    ..Default::default()
                }),
                sort: pb::BookSort::PriceAsc as i32,
                page: page.clone(),
                ..Default::default()
            },
        ),
        (
            "author, newest first",
            pb::SearchBooksRequest {
                filter: Some(pb::BookFilter {
                    author: "Ada Abara".to_owned(),
                    ..Default::default()
                }),
                sort: pb::BookSort::Newest as i32,
                page,
                ..Default::default()
            },
        ),
    ]
}

fn explain(backend: DatabaseBackend, statement: &Statement) -> Statement {
    let prefix = if backend == DatabaseBackend::Sqlite {
        "EXPLAIN QUERY PLAN "
    } else {
        "EXPLAIN "
    };
    Statement::from_sql_and_values(
        backend,
        format!("{prefix}{}", statement.sql),
        statement
            .values
            .clone()
            .map(|values| values.0)
            .unwrap_or_default(),
    )
}

#[tokio::main]
async fn main() {
    let books = env_number("BENCH_BOOKS", 100_000);
    let rounds = env_number("BENCH_ROUNDS", 200);
    let mesh = TestMesh::builder()
        .with(ServiceName::Catalog)
        .start()
        .await
        .unwrap();
    let (_, admin) = mesh.keys().user_token(Role::Admin);
    let started = Instant::now();
    // No client deadline: importing 100k books takes longer than any read.
    let import_channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", mesh.address(ServiceName::Catalog)))
            .unwrap()
            .connect_lazy();
    let report = bookstore::seed::import(import_channel, &admin, bookstore::seed::generate::books(books))
        .await
        .unwrap();
    let import_seconds = started.elapsed().as_secs_f64();
    let db = platform::store::connect_database(mesh.database_url(ServiceName::Catalog).unwrap())
        .await
        .unwrap();
    let backend = db.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    println!(
        "{:?}: imported {} books in {import_seconds:.1} s ({:.0}/s); {rounds} rounds per shape",
        backend,
        report.imported,
        report.imported as f64 / import_seconds
    );

    let mut client = CatalogServiceClient::new(mesh.channel(ServiceName::Catalog));
    let (_, customer) = mesh.keys().user_token(Role::Customer);
    println!(
        "{:<24} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8}",
        "shape", "svc p50", "svc p99", "sql p50", "sql p99", "p50 x", "total"
    );
    for (name, request) in shapes() {
        let query = search_query(&request).unwrap();
        let page = page_statement(backend, &query).unwrap();
        let count = count_statement(backend, &query).unwrap();
        // Warm both paths once.
        let total = client
            .search_books(with_token(request.clone(), &customer))
            .await
            .unwrap()
            .into_inner()
            .page_info
            .unwrap()
            .total_count;
        db.query_all_raw(page.clone()).await.unwrap();

        let mut service = histogram();
        let mut sql = histogram();
        for _ in 0..rounds {
            let begun = Instant::now();
            client
                .search_books(with_token(request.clone(), &customer))
                .await
                .unwrap();
            service.record(begun.elapsed().as_micros() as u64).unwrap();
            let begun = Instant::now();
            db.query_all_raw(page.clone()).await.unwrap();
            db.query_one_raw(count.clone()).await.unwrap();
            sql.record(begun.elapsed().as_micros() as u64).unwrap();
        }
        let ms =
            |histogram: &Histogram<u64>, quantile: f64| histogram.value_at_quantile(quantile) as f64 / 1000.0;
        println!(
            "{name:<24} {:>8.2}ms {:>8.2}ms {:>8.2}ms {:>8.2}ms {:>8.2} {:>8}",
            ms(&service, 0.5),
            ms(&service, 0.99),
            ms(&sql, 0.5),
            ms(&sql, 0.99),
            ms(&service, 0.5) / ms(&sql, 0.5),
            total
        );
        let mut row = Row::ratio(
            &format!("catalog search p50, {name}, {books} books (vs the same SQL)"),
            ms(&service, 0.5),
            "ms",
            ms(&sql, 0.5),
            0.0,
        );
        row.target = "<= 1.20x baseline".to_owned();
        row.pass = row.ratio.map(|ratio| ratio <= 1.2);
        record(&row);
        for row in db.query_all_raw(explain(backend, &page)).await.unwrap() {
            let line: String = match backend {
                DatabaseBackend::Sqlite => row.try_get("", "detail").unwrap_or_default(),
                _ => row.try_get("", "QUERY PLAN").unwrap_or_default(),
            };
            println!("    plan: {line}");
        }
    }
    mesh.shutdown().await.unwrap();
}
