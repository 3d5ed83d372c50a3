//! Search: every filter, every sort, keyset pages that stay whole while books are added,
//! totals and topics.

use std::collections::HashSet;

use bookstore_tests::{TestMesh, with_token};
use proto::catalog::v1 as pb;
use tonic::Code;

use super::{admin, book, catalog_mesh, client, create, customer, page, search, titles};

struct Shelf {
    title: &'static str,
    authors: &'static [&'static str],
    topics: &'static [&'static str],
    description: &'static str,
    price: i64,
    year: Option<i32>,
    language: &'static str,
}

const SHELF: [Shelf; 6] = [
    Shelf {
        title: "Dune",
        authors: &["Frank Herbert"],
        topics: &["Science Fiction"],
        description: "Desert planet, spice and politics.",
        price: 999,
        year: Some(1965),
        language: "eng",
    },
    Shelf {
        title: "Dune Messiah",
        authors: &["Frank Herbert"],
        topics: &["Science Fiction"],
        description: "Paul's jihad.",
        price: 899,
        year: Some(1969),
        language: "eng",
    },
    Shelf {
        title: "Foundation",
        authors: &["Isaac Asimov"],
        topics: &["Science Fiction", "Classics"],
        description: "Psychohistory against the fall.",
        price: 799,
        year: Some(1951),
        language: "eng",
    },
    Shelf {
        title: "Le Petit Prince",
        authors: &["Antoine de Saint-Exupéry"],
        topics: &["Children", "Classics"],
        description: "A pilot meets a prince in the desert.",
        price: 599,
        year: Some(1943),
        language: "fre",
    },
    Shelf {
        title: "Anonymous Pamphlet",
        authors: &["Unknown"],
        topics: &["History"],
        description: "Dune is mentioned once here.",
        price: 199,
        year: None,
        language: "eng",
    },
    Shelf {
        title: "Good Omens",
        authors: &["Terry Pratchett", "Neil Gaiman"],
        topics: &["Fantasy", "Humor"],
        description: "An angel and a demon.",
        price: 1299,
        year: Some(1990),
        language: "eng",
    },
];

async fn stock_shelf(mesh: &TestMesh) {
    for (index, shelf) in SHELF.iter().enumerate() {
        let mut input = book(100 + index as u64, shelf.title);
        input.authors = shelf.authors.iter().map(|name| (*name).to_owned()).collect();
        input.topics = shelf.topics.iter().map(|topic| (*topic).to_owned()).collect();
        input.description = shelf.description.to_owned();
        input.price.as_mut().unwrap().amount_minor = shelf.price;
        input.published_year = shelf.year;
        input.language = shelf.language.to_owned();
        create(mesh, input).await;
    }
}

fn request(query: &str, filter: pb::BookFilter, sort: pb::BookSort) -> pb::SearchBooksRequest {
    pb::SearchBooksRequest {
        query: query.to_owned(),
        filter: Some(filter),
        sort: sort as i32,
        page: page(50, ""),
    }
}

#[tokio::test]
async fn each_filter_narrows_and_each_sort_orders() {
    let mesh = catalog_mesh().await;
    stock_shelf(&mesh).await;
    let none = pb::BookFilter::default;
    let cases: Vec<(&str, pb::SearchBooksRequest, Vec<&str>)> = vec![
        (
            "author, any case",
            request(
                "",
                pb::BookFilter {
                    author: "frank HERBERT".to_owned(),
                    ..none()
                },
                pb::BookSort::Title,
            ),
            vec!["Dune", "Dune Messiah"],
        ),
        (
            "second author",
            request(
                "",
                pb::BookFilter {
                    author: "Neil Gaiman".to_owned(),
                    ..none()
                },
                pb::BookSort::Title,
            ),
            vec!["Good Omens"],
        ),
        (
            "topic",
            request(
                "",
                pb::BookFilter {
                    topic: "classics".to_owned(),
                    ..none()
                },
                pb::BookSort::Title,
            ),
            vec!["Foundation", "Le Petit Prince"],
        ),
        (
            "price range",
            request(
                "",
                pb::BookFilter {
                    min_price_minor: Some(600),
                    max_price_minor: Some(999),
                    ..none()
                },
                pb::BookSort::PriceAsc,
            ),
            vec!["Foundation", "Dune Messiah", "Dune"],
        ),
        (
            "year range",
            request(
                "",
                pb::BookFilter {
                    min_year: Some(1950),
                    max_year: Some(1966),
                    ..none()
                },
                pb::BookSort::Newest,
            ),
            vec!["Dune", "Foundation"],
        ),
        (
            "language",
            request(
                "",
                pb::BookFilter {
                    language: "FRE".to_owned(),
                    ..none()
                },
                pb::BookSort::Title,
            ),
            vec!["Le Petit Prince"],
        ),
        (
            "text and filter",
            request(
                "dune",
                pb::BookFilter {
                    max_price_minor: Some(900),
                    ..none()
                },
                pb::BookSort::Relevance,
            ),
            vec!["Dune Messiah", "Anonymous Pamphlet"],
        ),
        (
            "title sort",
            request("", none(), pb::BookSort::Title),
            vec![
                "Anonymous Pamphlet",
                "Dune",
                "Dune Messiah",
                "Foundation",
                "Good Omens",
                "Le Petit Prince",
            ],
        ),
        (
            "price descending",
            request("", none(), pb::BookSort::PriceDesc),
            vec![
                "Good Omens",
                "Dune",
                "Dune Messiah",
                "Foundation",
                "Le Petit Prince",
                "Anonymous Pamphlet",
            ],
        ),
        (
            "newest, unknown year last",
            request("", none(), pb::BookSort::Newest),
            vec![
                "Good Omens",
                "Dune Messiah",
                "Dune",
                "Foundation",
                "Le Petit Prince",
                "Anonymous Pamphlet",
            ],
        ),
        (
            "prefix of the last word",
            request("foundat", none(), pb::BookSort::Relevance),
            vec!["Foundation"],
        ),
        (
            "an author's name",
            request("pratchett", none(), pb::BookSort::Relevance),
            vec!["Good Omens"],
        ),
        (
            "accents as written",
            request("exupéry", none(), pb::BookSort::Relevance),
            vec!["Le Petit Prince"],
        ),
        (
            "punctuation only matches nothing",
            request("?!", none(), pb::BookSort::Relevance),
            vec![],
        ),
        (
            "operators are words",
            request("dune OR foundation", none(), pb::BookSort::Relevance),
            vec![],
        ),
    ];
    for (name, search_request, expected) in cases {
        let response = search(&mesh, search_request).await;
        assert_eq!(titles(&response), expected, "{name}");
        assert_eq!(
            response.page_info.unwrap().total_count,
            expected.len() as i64,
            "{name}: total"
        );
    }

    // Title matches outrank a description match (their order among themselves is bm25's or
    // ts_rank's business).
    let response = search(
        &mesh,
        request("dune", pb::BookFilter::default(), pb::BookSort::Relevance),
    )
    .await;
    let ranked = titles(&response);
    assert_eq!(ranked.len(), 3);
    assert_eq!(ranked[2], "Anonymous Pamphlet", "{ranked:?}");

    let isbn = book(102, "").isbn;
    let response = search(
        &mesh,
        request(&isbn, pb::BookFilter::default(), pb::BookSort::Relevance),
    )
    .await;
    assert_eq!(titles(&response), ["Foundation"], "an ISBN query finds its book");

    let topics = client(&mesh)
        .list_topics(with_token(pb::ListTopicsRequest {}, &customer(&mesh)))
        .await
        .unwrap()
        .into_inner()
        .topics;
    let science_fiction = topics
        .iter()
        .find(|topic| topic.name == "Science Fiction")
        .unwrap();
    assert_eq!(science_fiction.book_count, 3);
    assert_eq!(topics[0].name, "Science Fiction", "most books first");
    mesh.shutdown().await.unwrap();
}

/// Walks every page, adding books between pages; returns every title seen, in order.
async fn walk_with_inserts(mesh: &TestMesh, sort: pb::BookSort, next_index: &mut u64) -> Vec<String> {
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let request = pb::SearchBooksRequest {
            sort: sort as i32,
            page: page(7, &token),
            ..Default::default()
        };
        let response = search(mesh, request).await;
        assert_eq!(response.cursors.len(), response.books.len());
        seen.extend(titles(&response));
        let info = response.page_info.unwrap();
        if !info.has_next_page {
            assert!(info.next_page_token.is_empty());
            return seen;
        }
        token = info.next_page_token;
        // New books land before and after the cursor while the reader pages.
        for title in ["Aardvark Almanac", "Zebra Zoology"] {
            let mut input = book(*next_index, &format!("{title} {next_index}"));
            input.price.as_mut().unwrap().amount_minor = if title.starts_with('A') { 1 } else { 99_999 };
            input.published_year = Some(if title.starts_with('A') { 2100 } else { 1000 });
            *next_index += 1;
            create(mesh, input).await;
        }
    }
}

#[tokio::test]
async fn pages_have_no_duplicates_and_no_gaps_while_books_are_added() {
    let mesh = catalog_mesh().await;
    let mut originals = HashSet::new();
    for index in 0..25 {
        let input = bookstore::seed::generate::book(1_000 + index);
        let title = format!("{} {index}", input.title);
        originals.insert(title.clone());
        create(&mesh, book(1_000 + index, &title)).await;
    }
    let mut next_index = 5_000;
    for sort in [
        pb::BookSort::Title,
        pb::BookSort::PriceAsc,
        pb::BookSort::PriceDesc,
        pb::BookSort::Newest,
    ] {
        let seen = walk_with_inserts(&mesh, sort, &mut next_index).await;
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort:?}: a book appeared twice");
        for title in &originals {
            assert!(seen.contains(title), "{sort:?}: {title} was skipped");
        }
    }
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn relevance_pages_cover_every_match_once() {
    let mesh = catalog_mesh().await;
    for index in 0..12 {
        let mut input = book(2_000 + index, &format!("River Tales {index}"));
        input.description = "river ".repeat(usize::try_from(index % 4 + 1).unwrap());
        create(&mesh, input).await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let request = pb::SearchBooksRequest {
            query: "river".to_owned(),
            sort: pb::BookSort::Relevance as i32,
            page: page(5, &token),
            ..Default::default()
        };
        let response = search(&mesh, request).await;
        seen.extend(titles(&response));
        let info = response.page_info.unwrap();
        assert_eq!(info.total_count, 12);
        if !info.has_next_page {
            break;
        }
        token = info.next_page_token;
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (12, 12));
    mesh.shutdown().await.unwrap();
}

/// The unfiltered total (the storefront's first page, read from the live-book counter) and
/// the same matches counted row by row (a filter every book passes).
async fn unfiltered_and_counted_totals(mesh: &TestMesh) -> (i64, i64) {
    let total = |filter| async {
        search(mesh, request("", filter, pb::BookSort::Title))
            .await
            .page_info
            .unwrap()
            .total_count
    };
    let counted = pb::BookFilter {
        min_price_minor: Some(0),
        ..Default::default()
    };
    (total(pb::BookFilter::default()).await, total(counted).await)
}

#[tokio::test]
async fn the_unfiltered_total_follows_every_create_import_and_delete() {
    let mesh = catalog_mesh().await;
    let mut catalog = client(&mesh);
    assert_eq!(unfiltered_and_counted_totals(&mesh).await, (0, 0));
    let first = create(&mesh, book(500, "First")).await;
    create(&mesh, book(501, "Second")).await;
    assert_eq!(unfiltered_and_counted_totals(&mesh).await, (2, 2));

    let rows = (502_u64..505)
        .map(|index| pb::ImportBooksRequest {
            book: Some(book(index, "Imported")),
            row: i64::try_from(index).unwrap(),
        })
        .collect::<Vec<_>>();
    catalog
        .import_books(with_token(tokio_stream::iter(rows), &admin(&mesh)))
        .await
        .unwrap();
    assert_eq!(unfiltered_and_counted_totals(&mesh).await, (5, 5));

    // A refused create (a taken ISBN) rolls its count back with it.
    let refused = catalog
        .create_book(with_token(
            pb::CreateBookRequest {
                book: Some(book(500, "Again")),
            },
            &admin(&mesh),
        ))
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::AlreadyExists);
    // A delete counts once, however often it is asked; an update moves nothing.
    for _ in 0..2 {
        catalog
            .delete_book(with_token(
                pb::DeleteBookRequest {
                    book_id: first.id.clone(),
                },
                &admin(&mesh),
            ))
            .await
            .unwrap();
    }
    let second = search(&mesh, request("", pb::BookFilter::default(), pb::BookSort::Title)).await;
    catalog
        .update_book(with_token(
            pb::UpdateBookRequest {
                book_id: second.books[0].id.clone(),
                book: Some(book(599, "Renamed")),
            },
            &admin(&mesh),
        ))
        .await
        .unwrap();
    assert_eq!(unfiltered_and_counted_totals(&mesh).await, (4, 4));
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_pages_are_refused_naming_the_field() {
    let mesh = catalog_mesh().await;
    let cases = [
        (
            pb::SearchBooksRequest {
                page: page(101, ""),
                ..Default::default()
            },
            "page.page_size",
        ),
        (
            pb::SearchBooksRequest {
                page: page(10, "not-a-cursor"),
                ..Default::default()
            },
            "page.page_token",
        ),
        (
            pb::SearchBooksRequest {
                filter: Some(pb::BookFilter {
                    min_price_minor: Some(-5),
                    ..Default::default()
                }),
                ..Default::default()
            },
            "filter.min_price_minor",
        ),
    ];
    for (request, field) in cases {
        let status = client(&mesh)
            .search_books(with_token(request, &customer(&mesh)))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(crate::user::violated_field(&status), field);
    }
    mesh.shutdown().await.unwrap();
}
