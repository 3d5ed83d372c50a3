//! Many buyers, few copies: exactly the stock is reserved, never more, with no deadlock when
//! orders name the same books in opposite orders.

use platform::ServiceName;
use tonic::Code;

use super::{assert_invariants, inventory_mesh, new_id, reserve, set_stock, stock};

async fn storm(
    mesh: &bookstore_tests::TestMesh,
    buyers: usize,
    lines: impl Fn(usize) -> Vec<(String, i32)>,
) -> (usize, usize) {
    let attempts = (0..buyers).map(|index| {
        let order = new_id();
        let lines = lines(index);
        async move {
            let borrowed: Vec<(&str, i32)> = lines
                .iter()
                .map(|(book, quantity)| (book.as_str(), *quantity))
                .collect();
            reserve(mesh, &order, &borrowed).await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let mut reserved = 0;
    let mut short = 0;
    for result in results {
        match result {
            Ok(_) => reserved += 1,
            Err(status) if status.code() == Code::FailedPrecondition => short += 1,
            Err(status) => panic!("neither reserved nor out of stock: {status:?}"),
        }
    }
    (reserved, short)
}

#[tokio::test]
async fn two_hundred_buyers_for_twenty_five_copies_reserve_exactly_twenty_five() {
    // All 200 at once must be decided by the database, not shed by the server's limit
    // (`grpc.max_concurrent_requests`, 64 per CPU), which its own tests cover.
    let mesh = bookstore_tests::TestMesh::builder()
        .with(ServiceName::Inventory)
        .configure(|config| config.grpc.max_concurrent_requests = 1_000)
        .start()
        .await
        .unwrap();
    let book = new_id();
    set_stock(&mesh, &book, 25).await;

    let (reserved, short) = storm(&mesh, 200, |_| vec![(book.clone(), 1)]).await;

    assert_eq!((reserved, short), (25, 175));
    let level = stock(&mesh, &book).await;
    assert_eq!(
        (level.on_hand, level.reserved, level.available),
        (25, 25, 0),
        "on_hand unchanged until commits"
    );
    assert_invariants(mesh.database_url(ServiceName::Inventory).unwrap()).await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn orders_naming_two_books_in_opposite_orders_neither_deadlock_nor_oversell() {
    let mesh = inventory_mesh().await;
    let (first, second) = (new_id(), new_id());
    set_stock(&mesh, &first, 10).await;
    set_stock(&mesh, &second, 10).await;

    let (reserved, short) = storm(&mesh, 80, |index| {
        if index % 2 == 0 {
            vec![(first.clone(), 1), (second.clone(), 1)]
        } else {
            vec![(second.clone(), 1), (first.clone(), 1)]
        }
    })
    .await;

    assert_eq!((reserved, short), (10, 70));
    for book in [&first, &second] {
        assert_eq!(stock(&mesh, book).await.available, 0);
    }
    assert_invariants(mesh.database_url(ServiceName::Inventory).unwrap()).await;
    mesh.shutdown().await.unwrap();
}
