//! svc-catalog through real gRPC, on the backend `BOOKSTORE_TEST_DATABASE` selects.

mod book_events;
mod books;
mod goodbooks;
mod read_connections;
mod search;
mod stock_events;

use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::catalog::v1 as pb;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tonic::transport::Channel;

pub(crate) async fn catalog_mesh() -> TestMesh {
    TestMesh::builder()
        .with(ServiceName::Catalog)
        .start()
        .await
        .unwrap()
}

pub(crate) fn client(mesh: &TestMesh) -> CatalogServiceClient<Channel> {
    CatalogServiceClient::new(mesh.channel(ServiceName::Catalog))
}

pub(crate) fn admin(mesh: &TestMesh) -> String {
    mesh.keys().user_token(Role::Admin).1
}

pub(crate) fn customer(mesh: &TestMesh) -> String {
    mesh.keys().user_token(Role::Customer).1
}

/// A valid book input; `index` makes the ISBN unique.
pub(crate) fn book(index: u64, title: &str) -> pb::BookInput {
    let mut input = bookstore::seed::generate::book(index);
    input.title = title.to_owned();
    input
}

pub(crate) async fn create(mesh: &TestMesh, input: pb::BookInput) -> pb::Book {
    let request = pb::CreateBookRequest { book: Some(input) };
    client(mesh)
        .create_book(with_token(request, &admin(mesh)))
        .await
        .unwrap()
        .into_inner()
        .book
        .unwrap()
}

pub(crate) async fn search(mesh: &TestMesh, request: pb::SearchBooksRequest) -> pb::SearchBooksResponse {
    client(mesh)
        .search_books(with_token(request, &customer(mesh)))
        .await
        .unwrap()
        .into_inner()
}

pub(crate) fn page(size: i32, token: &str) -> Option<proto::common::v1::PageRequest> {
    Some(proto::common::v1::PageRequest {
        page_size: size,
        page_token: token.to_owned(),
    })
}

pub(crate) fn titles(response: &pb::SearchBooksResponse) -> Vec<String> {
    response.books.iter().map(|book| book.title.clone()).collect()
}
