//! What svc-inventory adds to a checkout's two phases: Reserve+Commit through real gRPC next
//! to a tight client issuing the same SQL statements in the same transactions directly
//! (the service's own `store::phases`, on a pool of the same size on the same database), on
//! one hot book and spread over 1000 books, in the same run: the two take turns a second at
//! a time, so neither gets the fresher database or the quieter machine. Each side also
//! reports the CPU this process spent a call (the database's own CPU is not in it).
//!
//! `cargo run --release -p bookstore-tests --example inventory_overhead_bench`
//! (`BENCH_SECONDS` per measure, default 5; `BENCH_CONCURRENCY`, default 16;
//! `BOOKSTORE_TEST_DATABASE=postgres` for PostgreSQL). `scripts/bench.sh` runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use bookstore_tests::bench::{Row, env_number, interleaved_rates, record};
use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::inventory::v1 as pb;
use proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use proto::types::{OrderId, ReservationId};
use sea_orm::{DatabaseConnection, DbBackend};
use svc_inventory::domain::ReserveLine;
use svc_inventory::store::phases;

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

type Pick = Arc<dyn Fn(u64) -> uuid::Uuid + Send + Sync>;

/// Reserve then Commit of one copy, as the service does it: one statement a phase on
/// PostgreSQL, one batch in a transaction on SQLite.
async fn direct(db: &DatabaseConnection, book: uuid::Uuid) {
    let lines = [ReserveLine {
        book_id: book.into(),
        quantity: 1,
    }];
    let id = ReservationId::generate();
    let expires_at_ms = chrono::Utc::now().timestamp_millis() + 600_000;
    let batched = db.get_database_backend() == DbBackend::Sqlite;
    let reserved = if batched {
        let transaction = platform::store::begin(db, "bench").await.unwrap();
        let reserved = phases::reserve(
            &transaction,
            id,
            OrderId::generate(),
            expires_at_ms,
            &lines,
            "order",
        )
        .await
        .unwrap();
        platform::store::commit(transaction, "bench").await.unwrap();
        reserved
    } else {
        phases::reserve(db, id, OrderId::generate(), expires_at_ms, &lines, "order")
            .await
            .unwrap()
    };
    assert_eq!(reserved, phases::Reserved::Held);
    let now = chrono::Utc::now().timestamp_millis();
    let committed = if batched {
        let transaction = platform::store::begin(db, "bench").await.unwrap();
        let committed = phases::commit(&transaction, id, now, "order").await.unwrap();
        platform::store::commit(transaction, "bench").await.unwrap();
        committed
    } else {
        phases::commit(db, id, now, "order").await.unwrap()
    };
    assert!(committed.is_some());
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16);
    let mesh = TestMesh::builder()
        .with(ServiceName::Inventory)
        .start()
        .await
        .unwrap();
    let channel = mesh.channel(ServiceName::Inventory);
    let admin = mesh.keys().user_token(Role::Admin).1;
    let order = mesh.keys().service_token("order", "inventory");
    let hot = uuid::Uuid::now_v7();
    let many: Arc<Vec<uuid::Uuid>> = Arc::new((0..1_000).map(|_| uuid::Uuid::now_v7()).collect());
    let mut client = InventoryServiceClient::new(channel.clone());
    for book in std::iter::once(&hot).chain(many.iter()) {
        let request = pb::SetStockRequest {
            book_id: book.to_string(),
            on_hand: 1_000_000_000,
            reason: String::new(),
        };
        client.set_stock(with_token(request, &admin)).await.unwrap();
    }
    // A pool of its own, of the size the service's has, on the service's database.
    let db = platform::store::connect_database(mesh.database_url(ServiceName::Inventory).unwrap())
        .await
        .unwrap();
    let backend = db.get_database_backend();
    println!("{backend:?}, concurrency {concurrency}, {seconds} s per measure");

    let service = |pick: Pick| {
        let channel = channel.clone();
        let order = order.clone();
        move |round: u64| {
            let mut client = InventoryServiceClient::new(channel.clone());
            let order = order.clone();
            let book = pick(round);
            async move {
                let request = pb::ReserveRequest {
                    order_id: uuid::Uuid::now_v7().to_string(),
                    lines: vec![pb::ReserveLine {
                        book_id: book.to_string(),
                        quantity: 1,
                    }],
                    ttl_seconds: 600,
                };
                let reservation = client
                    .reserve(with_token(request, &order))
                    .await
                    .unwrap()
                    .into_inner()
                    .reservation
                    .unwrap();
                let request = pb::CommitRequest {
                    reservation_id: reservation.reservation_id,
                };
                client.commit(with_token(request, &order)).await.unwrap();
            }
        }
    };
    let pick_hot: Pick = Arc::new(move |_| hot);
    let spread = Arc::clone(&many);
    let pick_many: Pick =
        Arc::new(move |round| spread[usize::try_from(round.wrapping_mul(2_654_435_761) % 1_000).unwrap()]);
    for (name, pick) in [("one hot book", pick_hot), ("1000 books", pick_many)] {
        let direct_db = db.clone();
        let direct_pick = Arc::clone(&pick);
        let tight = move |round| {
            let db = direct_db.clone();
            let book = direct_pick(round);
            async move { direct(&db, book).await }
        };
        let (grpc, tight) = interleaved_rates(concurrency, seconds, service(Arc::clone(&pick)), tight).await;
        println!(
            "Reserve+Commit, {name}: gRPC {:.0}/s, the same SQL directly {:.0}/s, ratio {:.3}",
            grpc.rate,
            tight.rate,
            grpc.rate / tight.rate
        );
        // What the service's own work costs, apart from the database's: the client, the
        // service and its relay share this process; the direct side is the client alone.
        println!(
            "  CPU of this process a Reserve+Commit: gRPC {:.0} µs, direct {:.0} µs",
            grpc.cpu_us_per_call, tight.cpu_us_per_call
        );
        record(&Row::ratio(
            &format!("inventory Reserve+Commit, {name} (vs the same SQL and transactions, direct)"),
            grpc.rate,
            "/s",
            tight.rate,
            0.7,
        ));
        record(&Row {
            baseline: Some(tight.cpu_us_per_call),
            ratio: Some(grpc.cpu_us_per_call / tight.cpu_us_per_call),
            ..Row::recorded(
                &format!(
                    "inventory Reserve+Commit, {name}: this process's CPU a call (client and service vs the direct client)"
                ),
                grpc.cpu_us_per_call,
                "µs",
            )
        });
    }
    bookstore_tests::invariants::assert_invariants_on(&db).await;
    println!("invariants hold");
    mesh.shutdown().await.unwrap();
}
