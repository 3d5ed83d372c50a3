//! Stock events reach catalog: inventory's outbox relay publishes, catalog's consumer flips
//! `in_stock`.

use std::time::Duration;

use bookstore_tests::{TestMesh, eventually, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::catalog::v1 as catalog;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;

use super::{new_id, reserve, set_stock};

async fn in_stock_eventually(mesh: &TestMesh, book: &str, expected: bool) {
    let (_, customer) = mesh.keys().user_token(Role::Customer);
    let client = CatalogServiceClient::new(mesh.channel(ServiceName::Catalog));
    let seen = eventually(Duration::from_secs(5), Duration::from_millis(50), || {
        let (mut client, customer) = (client.clone(), customer.clone());
        async move {
            let request = catalog::GetBookRequest {
                book_id: book.to_owned(),
            };
            let found = client
                .get_book(with_token(request, &customer))
                .await
                .unwrap()
                .into_inner()
                .book
                .unwrap();
            if found.in_stock == expected {
                Ok(())
            } else {
                Err(())
            }
        }
    })
    .await;
    assert!(seen.is_ok(), "catalog never saw in_stock = {expected}");
}

#[tokio::test]
async fn catalog_follows_inventory_through_the_outbox_and_the_stream() {
    let mesh = TestMesh::builder()
        .with(ServiceName::Catalog)
        .with(ServiceName::Inventory)
        .start()
        .await
        .unwrap();
    let (_, admin) = mesh.keys().user_token(Role::Admin);
    let request = catalog::CreateBookRequest {
        book: Some(bookstore::seed::generate::book(424_242)),
    };
    let created = CatalogServiceClient::new(mesh.channel(ServiceName::Catalog))
        .create_book(with_token(request, &admin))
        .await
        .unwrap()
        .into_inner()
        .book
        .unwrap();
    assert!(!created.in_stock);

    set_stock(&mesh, &created.id, 2).await;
    in_stock_eventually(&mesh, &created.id, true).await;
    reserve(&mesh, &new_id(), &[(&created.id, 2)]).await.unwrap();
    in_stock_eventually(&mesh, &created.id, false).await;
    mesh.shutdown().await.unwrap();
}
