//! Reservations per second through real gRPC, on one hot book and spread over 1000 books,
//! next to the raw conditional UPDATE rate of the same database in the same run.
//!
//! `cargo run --release -p bookstore-tests --example inventory_bench`
//! (`BENCH_SECONDS` per measure, default 5; `BENCH_CONCURRENCY`, default 16;
//! `BOOKSTORE_TEST_DATABASE=postgres` for PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use bookstore_tests::bench::{Row, env_number, rate, record};
use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::inventory::v1 as pb;
use proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use sea_orm::{ConnectionTrait as _, DatabaseConnection};

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

async fn raw_update(db: &DatabaseConnection, book: uuid::Uuid) {
    let statement = platform::store::statement(
        db.get_database_backend(),
        "UPDATE stock SET reserved = reserved + 1, version = version + 1 WHERE book_id = ? AND on_hand - reserved >= 1",
        [book.into()],
    );
    db.execute_raw(statement).await.unwrap();
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
    let db = platform::store::connect_database(mesh.database_url(ServiceName::Inventory).unwrap())
        .await
        .unwrap();
    println!(
        "{:?}, concurrency {concurrency}, {seconds} s per measure",
        db.get_database_backend()
    );

    let reserve_commit = |pick: Arc<dyn Fn(u64) -> uuid::Uuid + Send + Sync>, commit: bool| {
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
                if commit {
                    let request = pb::CommitRequest {
                        reservation_id: reservation.reservation_id,
                    };
                    client.commit(with_token(request, &order)).await.unwrap();
                }
            }
        }
    };
    let pick_hot: Arc<dyn Fn(u64) -> uuid::Uuid + Send + Sync> = Arc::new(move |_| hot);
    let spread = Arc::clone(&many);
    let pick_many: Arc<dyn Fn(u64) -> uuid::Uuid + Send + Sync> =
        Arc::new(move |round| spread[usize::try_from(round.wrapping_mul(2_654_435_761) % 1_000).unwrap()]);

    println!(
        "{:<34} {:>12} {:>12} {:>8}",
        "measure", "service/s", "raw SQL/s", "ratio"
    );
    // The baseline updates scratch rows of the same table (no ledger, so they are removed
    // afterwards and the invariants still hold for the real ones).
    let scratch_hot = uuid::Uuid::now_v7();
    let scratch_many: Arc<Vec<uuid::Uuid>> = Arc::new((0..1_000).map(|_| uuid::Uuid::now_v7()).collect());
    for book in std::iter::once(&scratch_hot).chain(scratch_many.iter()) {
        let statement = platform::store::statement(
            db.get_database_backend(),
            "INSERT INTO stock (book_id, on_hand, reserved, version, updated_at) VALUES (?, 1000000000, 0, 0, ?)",
            [(*book).into(), chrono::Utc::now().into()],
        );
        db.execute_raw(statement).await.unwrap();
    }
    let scratch_spread = Arc::clone(&scratch_many);
    let raw_picks: [Arc<dyn Fn(u64) -> uuid::Uuid + Send + Sync>; 2] = [
        Arc::new(move |_| scratch_hot),
        Arc::new(move |round| {
            scratch_spread[usize::try_from(round.wrapping_mul(2_654_435_761) % 1_000).unwrap()]
        }),
    ];
    for ((name, pick), raw_pick) in [("one hot book", pick_hot), ("1000 books", pick_many)]
        .into_iter()
        .zip(raw_picks)
    {
        let raw_db = db.clone();
        let raw = rate(concurrency, seconds, move |round| {
            let db = raw_db.clone();
            let book = raw_pick(round);
            async move { raw_update(&db, book).await }
        })
        .await;
        let reserve = rate(concurrency, seconds, reserve_commit(Arc::clone(&pick), false)).await;
        let both = rate(concurrency, seconds, reserve_commit(Arc::clone(&pick), true)).await;
        println!(
            "{:<34} {:>12.0} {:>12.0} {:>8.2}",
            format!("Reserve, {name}"),
            reserve,
            raw,
            reserve / raw
        );
        println!(
            "{:<34} {:>12.0} {:>12.0} {:>8.2}",
            format!("Reserve+Commit, {name}"),
            both,
            raw,
            both / raw
        );
        record(&Row::ratio(
            &format!("inventory Reserve+Commit, {name} (vs raw conditional UPDATE)"),
            both,
            "/s",
            raw,
            0.5,
        ));
    }
    for book in std::iter::once(&scratch_hot).chain(scratch_many.iter()) {
        let statement = platform::store::statement(
            db.get_database_backend(),
            "DELETE FROM stock WHERE book_id = ?",
            [(*book).into()],
        );
        db.execute_raw(statement).await.unwrap();
    }
    bookstore_tests::invariants::assert_invariants_on(&db).await;
    println!("invariants hold");
    mesh.shutdown().await.unwrap();
}
