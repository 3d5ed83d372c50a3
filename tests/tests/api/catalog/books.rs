//! Books: ISBN rules, admin-only writes, reads, soft delete.

use bookstore_tests::with_token;
use proto::catalog::v1 as pb;
use tonic::Code;

use super::{admin, book, catalog_mesh, client, create, customer};

#[tokio::test]
async fn an_admin_creates_updates_and_soft_deletes_a_book() {
    let mesh = catalog_mesh().await;
    let mut input = book(1, "The Hobbit");
    input.isbn = "0-261-10221-4".to_owned();
    let created = create(&mesh, input.clone()).await;
    assert_eq!(created.isbn13, "9780261102217", "ISBN-10 stored as ISBN-13");
    assert!(!created.in_stock, "no stock event yet");

    let mut catalog = client(&mesh);
    let read = catalog
        .get_book(with_token(
            pb::GetBookRequest {
                book_id: created.id.clone(),
            },
            &customer(&mesh),
        ))
        .await
        .unwrap()
        .into_inner()
        .book
        .unwrap();
    assert_eq!(read, created);
    let by_isbn = catalog
        .get_book_by_isbn(with_token(
            pb::GetBookByIsbnRequest {
                isbn: "978-0-261-10221-7".to_owned(),
            },
            &customer(&mesh),
        ))
        .await
        .unwrap();
    assert_eq!(by_isbn.into_inner().book.unwrap().id, created.id);

    input.title = "The Hobbit, or There and Back Again".to_owned();
    let request = pb::UpdateBookRequest {
        book_id: created.id.clone(),
        book: Some(input),
    };
    let updated = catalog
        .update_book(with_token(request, &admin(&mesh)))
        .await
        .unwrap()
        .into_inner()
        .book
        .unwrap();
    assert_eq!(updated.title, "The Hobbit, or There and Back Again");

    for _ in 0..2 {
        let request = pb::DeleteBookRequest {
            book_id: created.id.clone(),
        };
        catalog
            .delete_book(with_token(request, &admin(&mesh)))
            .await
            .unwrap();
    }
    let status = catalog
        .get_book(with_token(
            pb::GetBookRequest {
                book_id: created.id.clone(),
            },
            &customer(&mesh),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "a deleted book is gone from reads");
    let batch = catalog
        .batch_get_books(with_token(
            pb::BatchGetBooksRequest {
                book_ids: vec![created.id.clone()],
            },
            &customer(&mesh),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(batch.missing_ids, std::slice::from_ref(&created.id));
    let request = pb::SearchBooksRequest {
        query: "hobbit".to_owned(),
        ..Default::default()
    };
    assert_eq!(
        super::search(&mesh, request).await.page_info.unwrap().total_count,
        0,
        "and from search"
    );
    let request = pb::UpdateBookRequest {
        book_id: created.id,
        book: Some(book(1, "Back from the dead")),
    };
    assert_eq!(
        catalog
            .update_book(with_token(request, &admin(&mesh)))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn writes_are_for_admins_and_bad_input_names_the_field() {
    let mesh = catalog_mesh().await;
    let mut catalog = client(&mesh);
    let request = || pb::CreateBookRequest {
        book: Some(book(2, "Dune")),
    };
    let status = catalog
        .create_book(with_token(request(), &customer(&mesh)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = catalog
        .create_book(tonic::Request::new(request()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    create(&mesh, book(2, "Dune")).await;
    let status = catalog
        .create_book(with_token(request(), &admin(&mesh)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "one book per ISBN");

    let mut bad_isbn = book(3, "Bad");
    bad_isbn.isbn = "978-0-261-10221-8".to_owned();
    let mut no_title = book(4, " ");
    no_title.title = " ".to_owned();
    for (input, field) in [(bad_isbn, "isbn"), (no_title, "title")] {
        let request = pb::CreateBookRequest { book: Some(input) };
        let status = catalog
            .create_book(with_token(request, &admin(&mesh)))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(crate::user::violated_field(&status), field);
    }
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn batch_reads_keep_order_report_missing_ids_and_cap_the_batch() {
    let mesh = catalog_mesh().await;
    let first = create(&mesh, book(5, "First")).await;
    let second = create(&mesh, book(6, "Second")).await;
    let missing = uuid::Uuid::new_v4().to_string();
    let request = pb::BatchGetBooksRequest {
        book_ids: vec![second.id.clone(), missing.clone(), first.id.clone()],
    };
    let response = client(&mesh)
        .batch_get_books(with_token(request, &customer(&mesh)))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = response.books.iter().map(|book| book.id.as_str()).collect();
    assert_eq!(ids, [second.id.as_str(), first.id.as_str()]);
    assert_eq!(response.missing_ids, [missing]);

    let too_many = pb::BatchGetBooksRequest {
        book_ids: (0..501).map(|_| uuid::Uuid::new_v4().to_string()).collect(),
    };
    let status = client(&mesh)
        .batch_get_books(with_token(too_many, &customer(&mesh)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client(&mesh)
        .get_book(with_token(
            pb::GetBookRequest {
                book_id: "42".to_owned(),
            },
            &customer(&mesh),
        ))
        .await
        .unwrap_err();
    assert_eq!(crate::user::violated_field(&status), "book_id");
    mesh.shutdown().await.unwrap();
}
