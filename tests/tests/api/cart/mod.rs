//! svc-cart against the real Redis (and private ones it can stop: a node, a cluster), with a real catalog.

mod carts;
mod cluster;
mod outage;

use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::cart::v1 as pb;
use proto::cart::v1::cart_service_client::CartServiceClient;
use tonic::transport::Channel;

pub(crate) fn client(mesh: &TestMesh) -> CartServiceClient<Channel> {
    CartServiceClient::new(mesh.channel(ServiceName::Cart))
}

pub(crate) fn user_owner(id: &str) -> Option<pb::CartOwner> {
    Some(pb::CartOwner {
        owner: Some(pb::cart_owner::Owner::UserId(id.to_owned())),
    })
}

pub(crate) fn guest_owner(session: &str) -> Option<pb::CartOwner> {
    Some(pb::CartOwner {
        owner: Some(pb::cart_owner::Owner::GuestSessionId(session.to_owned())),
    })
}

/// Creates `count` books in the catalog and returns their ids.
pub(crate) async fn books(mesh: &TestMesh, count: u64) -> Vec<String> {
    let (_, admin) = mesh.keys().user_token(Role::Admin);
    let mut catalog = proto::catalog::v1::catalog_service_client::CatalogServiceClient::new(
        mesh.channel(ServiceName::Catalog),
    );
    let mut ids = Vec::new();
    for _ in 0..count {
        let index = u64::from(uuid::Uuid::new_v4().as_fields().0);
        let request = proto::catalog::v1::CreateBookRequest {
            book: Some(bookstore::seed::generate::book(index)),
        };
        let book = catalog
            .create_book(with_token(request, &admin))
            .await
            .unwrap()
            .into_inner()
            .book
            .unwrap();
        ids.push(book.id);
    }
    ids
}

pub(crate) async fn add(
    mesh: &TestMesh,
    token: &str,
    owner: Option<pb::CartOwner>,
    book: &str,
    quantity: i32,
) -> Result<pb::Cart, tonic::Status> {
    let request = pb::AddItemRequest {
        owner,
        book_id: book.to_owned(),
        quantity,
    };
    client(mesh)
        .add_item(with_token(request, token))
        .await
        .map(|response| response.into_inner().cart.unwrap())
}

pub(crate) async fn get(
    mesh: &TestMesh,
    token: &str,
    owner: Option<pb::CartOwner>,
) -> Result<pb::Cart, tonic::Status> {
    client(mesh)
        .get_cart(with_token(pb::GetCartRequest { owner }, token))
        .await
        .map(|response| response.into_inner().cart.unwrap())
}

pub(crate) fn quantities(cart: &pb::Cart) -> Vec<(String, i32)> {
    cart.lines
        .iter()
        .map(|line| (line.book_id.clone(), line.quantity))
        .collect()
}
