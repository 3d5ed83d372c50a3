//! On PostgreSQL, searches run on read connections of their own, lent without sqlx's ping on
//! return (`platform::store::PostgresReads`): a connection the server dropped while it sat
//! unlent is found and replaced before a read uses it, and one dropped between two reads
//! costs at most that one read, answered UNAVAILABLE so the caller retries.

use std::time::Duration;

use platform::ServiceName;
use proto::catalog::v1 as pb;
use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
use tonic::Code;

use super::{book, catalog_mesh, client, create, customer, page};
use bookstore_tests::with_token;

/// Ends every other session on the catalog's database, as a failover or a restart would.
async fn cut_connections(admin: &sea_orm::DatabaseConnection) -> i64 {
    let statement = Statement::from_string(
        DbBackend::Postgres,
        "SELECT COUNT(pg_terminate_backend(pid)) AS cut FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    let row = admin.query_one_raw(statement).await.unwrap().unwrap();
    row.try_get("", "cut").unwrap()
}

fn first_page() -> pb::SearchBooksRequest {
    pb::SearchBooksRequest {
        page: page(5, ""),
        ..Default::default()
    }
}

#[tokio::test]
async fn read_connections_the_server_dropped_are_replaced() {
    let mesh = catalog_mesh().await;
    let url = mesh.database_url(ServiceName::Catalog).unwrap().to_owned();
    if platform::store_path(&url).is_some() {
        // SQLite: a file has no server to drop a connection.
        return;
    }
    create(&mesh, book(1, "Cut Connections")).await;
    let admin = platform::store::connect_database(&url).await.unwrap();
    let search = async || {
        client(&mesh)
            .search_books(with_token(first_page(), &customer(&mesh)))
            .await
    };
    assert_eq!(search().await.unwrap().into_inner().books.len(), 1);

    // Unlent past the ping threshold (1 s): the ping before the next lend finds it gone.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(cut_connections(&admin).await >= 1, "the read connection was open");
    let answer = search().await;
    assert!(
        answer.is_ok(),
        "a dropped idle connection failed a read: {answer:?}"
    );

    // Dropped right after a read: the next read may find it gone, once.
    let _ = search().await;
    assert!(cut_connections(&admin).await >= 1);
    match search().await {
        Ok(_) => {}
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
    }
    let answer = search().await;
    assert!(answer.is_ok(), "the broken connection was lent again: {answer:?}");
}
