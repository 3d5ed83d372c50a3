//! Book changes leave through the outbox to `<prefix>:{book-events}`, after their commit:
//! one event per create, update and delete, one per import batch.

use std::time::Duration;

use bookstore_tests::with_token;
use platform::store::RedisStore;
use proto::catalog::v1 as pb;

use super::{admin, book, catalog_mesh, client, create};

/// Every event on the stream: (kind, book_id).
async fn events(redis: &RedisStore, stream: &str) -> Vec<(String, String)> {
    let reply: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(&mut redis.connection())
        .await
        .unwrap();
    reply
        .into_iter()
        .map(|(_, fields)| {
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.clone())
                    .unwrap_or_default()
            };
            (field("kind"), field("book_id"))
        })
        .collect()
}

#[tokio::test]
async fn every_change_and_import_batch_is_published_once_committed() {
    let mesh = catalog_mesh().await;
    let redis = RedisStore::connect(&platform::testing::redis_url(), "")
        .await
        .unwrap();
    let stream = format!("{}:{}", mesh.redis_prefix(), platform::store::BOOK_EVENTS);
    let created = create(&mesh, book(400, "Published")).await;
    let mut catalog = client(&mesh);
    let mut input = book(400, "Published");
    input.price = Some(proto::common::v1::Money {
        amount_minor: 4_321,
        currency: "USD".to_owned(),
    });
    catalog
        .update_book(with_token(
            pb::UpdateBookRequest {
                book_id: created.id.clone(),
                book: Some(input),
            },
            &admin(&mesh),
        ))
        .await
        .unwrap();
    catalog
        .delete_book(with_token(
            pb::DeleteBookRequest {
                book_id: created.id.clone(),
            },
            &admin(&mesh),
        ))
        .await
        .unwrap();
    // A refused write (an unknown book) commits nothing and publishes nothing.
    let refused = catalog
        .update_book(with_token(
            pb::UpdateBookRequest {
                book_id: uuid::Uuid::now_v7().to_string(),
                book: Some(book(401, "Nobody")),
            },
            &admin(&mesh),
        ))
        .await;
    assert!(refused.is_err());
    let rows = vec![
        pb::ImportBooksRequest {
            book: Some(book(402, "Imported one")),
            row: 1,
        },
        pb::ImportBooksRequest {
            book: Some(book(403, "Imported two")),
            row: 2,
        },
    ];
    let report = catalog
        .import_books(with_token(tokio_stream::iter(rows), &admin(&mesh)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.imported, 2);

    let expected = vec![
        ("created".to_owned(), created.id.clone()),
        ("updated".to_owned(), created.id.clone()),
        ("deleted".to_owned(), created.id.clone()),
        ("imported".to_owned(), String::new()),
    ];
    let published =
        bookstore_tests::eventually(Duration::from_secs(5), Duration::from_millis(20), || async {
            let seen = events(&redis, &stream).await;
            if seen == expected { Ok(()) } else { Err(seen) }
        })
        .await;
    assert!(published.is_ok(), "{published:?}");
    // The relay marked them: nothing is published twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(events(&redis, &stream).await.len(), 4);
    mesh.shutdown().await.unwrap();
}
