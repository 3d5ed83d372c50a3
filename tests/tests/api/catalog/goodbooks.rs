//! The real goodbooks-10k data: the import keeps good rows, reports bad ones with reasons,
//! and search ranks sensibly.

use bookstore_tests::TestMesh;
use platform::ServiceName;
use proto::catalog::v1 as pb;

use super::{admin, catalog_mesh, page, search, titles};

async fn import_goodbooks(mesh: &TestMesh) -> bookstore::seed::ImportReport {
    let rows = bookstore::seed::goodbooks::read(&bookstore::seed::goodbooks::repository_copy())
        .expect("the repository copy of goodbooks-10k");
    let channel = mesh.long_call_channel(ServiceName::Catalog);
    bookstore::seed::import(channel, &admin(mesh), rows.into_iter())
        .await
        .unwrap()
}

#[tokio::test]
async fn goodbooks_imports_with_reasons_and_harry_potter_finds_harry_potter() {
    let mesh = catalog_mesh().await;
    let report = import_goodbooks(&mesh).await;
    assert!(report.imported > 9_000, "imported {}", report.imported);
    assert_eq!(report.imported + report.rejected.len() as i64, 10_000);
    for rejected in &report.rejected {
        assert!(rejected.row >= 1 && !rejected.reason.is_empty(), "{rejected:?}");
    }

    let request = pb::SearchBooksRequest {
        query: "harry potter".to_owned(),
        sort: pb::BookSort::Relevance as i32,
        page: page(5, ""),
        ..Default::default()
    };
    let response = search(&mesh, request).await;
    for title in titles(&response) {
        assert!(title.contains("Harry Potter"), "{:?}", titles(&response));
    }
    assert!(response.page_info.unwrap().total_count >= 7);

    let by_author = pb::SearchBooksRequest {
        filter: Some(pb::BookFilter {
            author: "J.K. Rowling".to_owned(),
            ..Default::default()
        }),
        sort: pb::BookSort::Newest as i32,
        page: page(3, ""),
        ..Default::default()
    };
    let response = search(&mesh, by_author).await;
    assert_eq!(response.books.len(), 3);
    assert!(
        response
            .books
            .iter()
            .all(|book| book.authors.iter().any(|author| author == "J.K. Rowling"))
    );

    // Importing again changes nothing and says why for every row.
    let again = import_goodbooks(&mesh).await;
    assert_eq!(again.imported, 0);
    assert_eq!(again.rejected.len(), 10_000);
    let already = again
        .rejected
        .iter()
        .filter(|row| row.reason.contains("already exists"))
        .count();
    assert!(
        already as i64 >= report.imported - 100,
        "{already} of {}",
        report.imported
    );
    mesh.shutdown().await.unwrap();
}
