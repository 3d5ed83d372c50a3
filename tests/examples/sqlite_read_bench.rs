//! The catalogue page's reads on SQLite two ways, same database, same run: sqlx's pool
//! (what sea-orm runs on: each connection a worker thread that a query is handed to and
//! answered from over channels) against rusqlite connections on Tokio's blocking pool
//! (`spawn_blocking`, the statement cached per connection; what the services read through). Each read is the
//! storefront's first page by title: the page query and its count, as svc-catalog runs them.
//! Both get the same number of connections; reported: reads a second and process CPU per read.
//!
//! `cargo run --release -p bookstore-tests --example sqlite_read_bench` (`BENCH_BOOKS`,
//! default 10000; `BENCH_SECONDS`, default 5; `BENCH_CONCURRENCY`, default 16;
//! `BENCH_CONNECTIONS`, default one per CPU, at least 4).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use bookstore_tests::TestMesh;
use bookstore_tests::bench::{Row, env_number, rate, record};
use platform::ServiceName;
use platform::auth::Role;
use proto::catalog::v1 as pb;
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use svc_catalog::grpc::search_query;
use svc_catalog::store::search::{count_statement, page_statement};

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

/// user + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    bookstore_tests::bench::cpu_seconds(std::process::id())
}

/// A statement's bound values as rusqlite parameters (the title page binds only its LIMIT).
fn parameters(statement: &Statement) -> Vec<rusqlite::types::Value> {
    let values = statement
        .values
        .clone()
        .map(|values| values.0)
        .unwrap_or_default();
    values
        .into_iter()
        .map(|value| match value {
            sea_orm::Value::BigInt(Some(number)) => rusqlite::types::Value::Integer(number),
            sea_orm::Value::Int(Some(number)) => rusqlite::types::Value::Integer(i64::from(number)),
            sea_orm::Value::String(Some(text)) => rusqlite::types::Value::Text(text),
            other => panic!("unexpected parameter {other:?}"),
        })
        .collect()
}

/// Runs the page and its count on `connection`, copying every column out as sqlx does;
/// returns the rows and the total.
fn read_with_rusqlite(
    connection: &rusqlite::Connection,
    page: &(String, Vec<rusqlite::types::Value>),
    count: &str,
) -> (usize, i64) {
    let mut statement = connection.prepare_cached(&page.0).unwrap();
    let columns = statement.column_count();
    let mut rows = statement
        .query(rusqlite::params_from_iter(page.1.iter()))
        .unwrap();
    let mut books: Vec<Vec<rusqlite::types::Value>> = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        books.push((0..columns).map(|index| row.get(index).unwrap()).collect());
    }
    let total: i64 = connection
        .prepare_cached(count)
        .unwrap()
        .query_row([], |row| row.get(0))
        .unwrap();
    (books.len(), total)
}

#[tokio::main]
async fn main() {
    let books = env_number("BENCH_BOOKS", 10_000);
    let seconds = env_number("BENCH_SECONDS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16);
    let connections = env_number(
        "BENCH_CONNECTIONS",
        u64::from(platform::store::default_sqlite_read_connections()),
    ) as u32;
    platform::store::configure(16, connections, 5_000, 2_000);
    let mesh = TestMesh::builder()
        .with(ServiceName::Catalog)
        .start()
        .await
        .unwrap();
    let url = mesh.database_url(ServiceName::Catalog).unwrap().to_owned();
    let path = platform::store_path(&url).expect("a SQLite catalogue (BOOKSTORE_TEST_DATABASE=sqlite)");
    let (_, admin) = mesh.keys().user_token(Role::Admin);
    let import =
        tonic::transport::Endpoint::from_shared(format!("http://{}", mesh.address(ServiceName::Catalog)))
            .unwrap()
            .connect_lazy();
    bookstore::seed::import(import, &admin, bookstore::seed::generate::books(books))
        .await
        .unwrap();

    let request = pb::SearchBooksRequest {
        sort: pb::BookSort::Title as i32,
        page: Some(proto::common::v1::PageRequest {
            page_size: 20,
            page_token: String::new(),
        }),
        ..Default::default()
    };
    let query = search_query(&request).unwrap();
    let page = page_statement(DatabaseBackend::Sqlite, &query).unwrap();
    let count = count_statement(DatabaseBackend::Sqlite, &query).unwrap();

    // sqlx, on a pool of as many connections (the services' own sqlx pool is the one writer).
    let db = platform::store::connect_with_sqlite_connections(&url, connections)
        .await
        .unwrap();
    let (sqlx_page, sqlx_count) = (page.clone(), count.clone());
    let sqlx_read = {
        let db = db.clone();
        move |_| {
            let (db, page, count) = (db.clone(), sqlx_page.clone(), sqlx_count.clone());
            async move {
                let rows = db.query_all_raw(page).await.unwrap();
                let total = db.query_one_raw(count).await.unwrap().unwrap();
                assert_eq!(rows.len(), 21);
                assert!(total.try_get::<i64>("", "total").unwrap() >= 20);
            }
        }
    };
    rate(concurrency, 1, sqlx_read.clone()).await;
    let before = cpu_seconds();
    let sqlx_rate = rate(concurrency, seconds, sqlx_read).await;
    let sqlx_cpu = (cpu_seconds() - before) * 1e6 / (sqlx_rate * seconds as f64);

    // rusqlite on the blocking pool, as many connections.
    let pool: Arc<Mutex<Vec<rusqlite::Connection>>> = Arc::new(Mutex::new(
        (0..connections)
            .map(|_| {
                let connection = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .unwrap();
                connection
                    .busy_timeout(std::time::Duration::from_secs(10))
                    .unwrap();
                connection
            })
            .collect(),
    ));
    let permits = Arc::new(tokio::sync::Semaphore::new(connections as usize));
    let page = Arc::new((page.sql.clone(), parameters(&page)));
    let count = Arc::new(count.sql.clone());
    let blocking_read = move |_| {
        let (pool, permits, page, count) = (
            Arc::clone(&pool),
            Arc::clone(&permits),
            Arc::clone(&page),
            Arc::clone(&count),
        );
        async move {
            let _permit = permits.acquire_owned().await.unwrap();
            let (rows, total) = tokio::task::spawn_blocking(move || {
                let connection = pool.lock().unwrap().pop().unwrap();
                let read = read_with_rusqlite(&connection, &page, &count);
                pool.lock().unwrap().push(connection);
                read
            })
            .await
            .unwrap();
            assert_eq!(rows, 21);
            assert!(total >= 20);
        }
    };
    rate(concurrency, 1, blocking_read.clone()).await;
    let before = cpu_seconds();
    let blocking_rate = rate(concurrency, seconds, blocking_read).await;
    let blocking_cpu = (cpu_seconds() - before) * 1e6 / (blocking_rate * seconds as f64);

    println!(
        "title page + count, {books} books, {connections} connections, {concurrency} at once: \
         sqlx {sqlx_rate:.0}/s, {sqlx_cpu:.0} µs CPU a read; rusqlite on spawn_blocking \
         {blocking_rate:.0}/s, {blocking_cpu:.0} µs CPU a read"
    );
    record(&Row::ratio(
        "catalogue page reads on SQLite: sqlx pool (vs rusqlite on spawn_blocking), reads/s",
        sqlx_rate,
        "/s",
        blocking_rate,
        1.0,
    ));
    record(&Row::recorded(
        "catalogue page reads on SQLite: sqlx, CPU per read",
        sqlx_cpu,
        "µs",
    ));
    record(&Row::recorded(
        "catalogue page reads on SQLite: rusqlite on spawn_blocking, CPU per read",
        blocking_cpu,
        "µs",
    ));
}
