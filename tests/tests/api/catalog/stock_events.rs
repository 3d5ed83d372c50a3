//! The in-stock flag follows inventory's stock events: idempotent, ordered by version, and
//! nothing lost when a consumer dies mid-way.

use std::time::Duration;

use bookstore_tests::with_token;
use platform::ServiceName;
use platform::store::RedisStore;
use proto::catalog::v1 as pb;
use svc_catalog::ops::Catalog;
use svc_catalog::ops::stock_events::{GROUP, StepOutcome, StockEventConsumer};

use super::{book, catalog_mesh, client, create, customer, page, search};

async fn publish(redis: &RedisStore, stream: &str, fields: &[(&str, String)]) {
    let mut command = redis::cmd("XADD");
    command.arg(stream).arg("*");
    for (key, value) in fields {
        command.arg(*key).arg(value);
    }
    command
        .query_async::<String>(&mut redis.connection())
        .await
        .unwrap();
}

fn event(book_id: &str, available: i64, version: i64) -> Vec<(&'static str, String)> {
    vec![
        ("book_id", book_id.to_owned()),
        ("available", available.to_string()),
        ("version", version.to_string()),
    ]
}

async fn in_stock(mesh: &bookstore_tests::TestMesh, id: &str) -> bool {
    let request = pb::GetBookRequest {
        book_id: id.to_owned(),
    };
    client(mesh)
        .get_book(with_token(request, &customer(mesh)))
        .await
        .unwrap()
        .into_inner()
        .book
        .unwrap()
        .in_stock
}

async fn eventually_in_stock(mesh: &bookstore_tests::TestMesh, id: &str, expected: bool) {
    let seen = bookstore_tests::eventually(Duration::from_secs(5), Duration::from_millis(50), || async {
        if in_stock(mesh, id).await == expected {
            Ok(())
        } else {
            Err(())
        }
    })
    .await;
    assert!(seen.is_ok(), "in_stock never became {expected}");
}

#[tokio::test]
async fn the_flag_follows_events_in_version_order_and_feeds_the_filter() {
    let mesh = catalog_mesh().await;
    let redis = RedisStore::connect(&platform::testing::redis_url(), "")
        .await
        .unwrap();
    let stream = format!("{}:{}", mesh.redis_prefix(), platform::store::STOCK_EVENTS);
    let created = create(&mesh, book(300, "Stocked")).await;

    publish(&redis, &stream, &event(&created.id, 3, 1)).await;
    eventually_in_stock(&mesh, &created.id, true).await;
    let filtered = pb::SearchBooksRequest {
        filter: Some(pb::BookFilter {
            in_stock: Some(true),
            ..Default::default()
        }),
        page: page(10, ""),
        ..Default::default()
    };
    assert_eq!(search(&mesh, filtered.clone()).await.books.len(), 1);

    // An old event arriving late (or redelivered) changes nothing; a malformed one is skipped.
    publish(&redis, &stream, &event(&created.id, 0, 1)).await;
    publish(&redis, &stream, &[("book_id", "nonsense".to_owned())]).await;
    publish(&redis, &stream, &event(&created.id, 0, 3)).await;
    eventually_in_stock(&mesh, &created.id, false).await;
    publish(&redis, &stream, &event(&created.id, 5, 2)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!in_stock(&mesh, &created.id).await, "version 2 is older than 3");
    assert!(search(&mesh, filtered).await.books.is_empty());
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn events_read_by_a_consumer_that_died_are_claimed_by_another() {
    let mesh = catalog_mesh().await;
    let created = create(&mesh, book(301, "Claimed")).await;
    let url = mesh.database_url(ServiceName::Catalog).unwrap().to_owned();
    let catalog = Catalog::new(platform::store::connect_database(&url).await.unwrap(), None);
    let redis = RedisStore::connect(&platform::testing::redis_url(), "")
        .await
        .unwrap();
    // A stream of its own, so the mesh's consumer does not race this test.
    let stream = format!("{}:other-stock-events", mesh.redis_prefix());
    let mut survivor =
        StockEventConsumer::new(catalog.clone(), &redis, stream.clone(), "survivor".to_owned())
            .await
            .unwrap()
            .with_claim_idle(Duration::ZERO);

    // "doomed" reads the event and dies before applying or acknowledging it.
    publish(&redis, &stream, &event(&created.id, 7, 1)).await;
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(GROUP)
        .arg("doomed")
        .arg("COUNT")
        .arg(10)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut redis.connection())
        .await
        .unwrap();
    assert!(!in_stock(&mesh, &created.id).await);

    assert_eq!(
        survivor.step().await.unwrap(),
        StepOutcome::Applied(1),
        "claimed from the dead consumer"
    );
    assert!(in_stock(&mesh, &created.id).await);
    assert_eq!(
        survivor.step().await.unwrap(),
        StepOutcome::Idle,
        "acknowledged: nothing pending"
    );
    let pending: redis::Value = redis::cmd("XPENDING")
        .arg(&stream)
        .arg(GROUP)
        .query_async(&mut redis.connection())
        .await
        .unwrap();
    let redis::Value::Array(summary) = pending else {
        panic!("{pending:?}")
    };
    assert_eq!(summary[0], redis::Value::Int(0));
    mesh.shutdown().await.unwrap();
}
