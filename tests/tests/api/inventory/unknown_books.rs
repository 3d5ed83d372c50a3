//! Stock only for books the catalog sells (`inventory.verify_books`): SetStock and Restock
//! of an unknown id are NOT_FOUND through gRPC and GraphQL, and a deleted book's leftover
//! stock is never reserved.

use std::time::Duration;

use bookstore_tests::{eventually, with_token};
use platform::ServiceName;
use proto::catalog::v1 as catalog;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use proto::inventory::v1 as pb;
use serde_json::json;

use super::{admin, client, new_id, order_token, reserve, stock};
use crate::bff::{Auth, books, graphql, mesh};

#[tokio::test]
async fn stock_is_only_set_for_books_the_catalog_sells_and_a_deleted_book_is_never_reserved() {
    let mesh = mesh().await;
    let admin = admin(&mesh);
    let unknown = new_id();

    let set = pb::SetStockRequest {
        book_id: unknown.clone(),
        on_hand: 3,
        reason: String::new(),
    };
    let refused = client(&mesh)
        .set_stock(with_token(set, &admin))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound, "{refused:?}");
    let restock = pb::RestockRequest {
        book_id: unknown.clone(),
        quantity: 3,
        ..Default::default()
    };
    let refused = client(&mesh)
        .restock(with_token(restock, &admin))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound, "{refused:?}");
    for (query, variables) in [
        (
            "mutation($id: ID!) { setStock(bookId: $id, onHand: 3) { available } }",
            json!({ "id": unknown }),
        ),
        (
            "mutation($id: ID!) { restock(bookId: $id, quantity: 3) { available } }",
            json!({ "id": unknown }),
        ),
    ] {
        let reply = graphql(&mesh, &Auth::bearer(&admin), query, variables).await;
        assert_eq!(reply.code(), "NOT_FOUND", "{:?}", reply.body);
    }
    assert_eq!(stock(&mesh, &unknown).await.on_hand, 0, "no stock row was made");

    // A listed book takes stock; once deleted, what is left of it cannot be held.
    // 50 copies: what the two-second window still holds never runs the stock out, so the
    // refusal below (0 available) can only be the deletion.
    let book = books(&mesh, 1, 50).await.remove(0);
    assert!(reserve(&mesh, &new_id(), &[(&book, 1)]).await.is_ok());
    CatalogServiceClient::new(mesh.channel(ServiceName::Catalog))
        .delete_book(with_token(
            catalog::DeleteBookRequest {
                book_id: book.clone(),
            },
            &admin,
        ))
        .await
        .unwrap();
    // Reserve remembers a confirmed book for two seconds: after that the deletion is seen.
    let refused = eventually(Duration::from_secs(5), Duration::from_millis(200), || async {
        match reserve(&mesh, &new_id(), &[(&book, 1)]).await {
            Ok(held) => Err(held),
            Err(status) => Ok(status),
        }
    })
    .await;
    let short = refused.expect("a deleted book is never held once its confirmation expired");
    assert_eq!(
        platform::ErrorCode::from_status(&short),
        platform::ErrorCode::OutOfStock,
        "{short:?}"
    );
    let lines = platform::error_code::short_lines(&short);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(
        (lines[0].book_id.as_str(), lines[0].available),
        (book.as_str(), 0)
    );
    let held = stock(&mesh, &book).await.reserved;
    assert!(held < 50, "{held}");

    // Stock a cancelled order gives back is taken whatever became of the book.
    let given_back = pb::RestockRequest {
        book_id: book.clone(),
        quantity: 1,
        reason: "order_cancelled".to_owned(),
        order_id: Some(new_id()),
    };
    client(&mesh)
        .restock(with_token(given_back, &order_token(&mesh)))
        .await
        .unwrap();
    assert_eq!(stock(&mesh, &book).await.on_hand, 51);
    mesh.shutdown().await.unwrap();
}
