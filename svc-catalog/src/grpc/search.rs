//! Searches on the wire: a `SearchBooksRequest` to a checked query, a page of results back.

use proto::catalog::v1 as pb;
use proto::types::InvalidField;

use super::book::book_to_wire;
use crate::domain::search::{SearchRequest, SearchResults};
use crate::domain::{BookSort, Cursor, SearchQuery};

fn sort_from_wire(wire: i32) -> Result<BookSort, InvalidField> {
    match pb::BookSort::try_from(wire) {
        Ok(pb::BookSort::Unspecified | pb::BookSort::Relevance) => Ok(BookSort::Relevance),
        Ok(pb::BookSort::Title) => Ok(BookSort::Title),
        Ok(pb::BookSort::PriceAsc) => Ok(BookSort::PriceAsc),
        Ok(pb::BookSort::PriceDesc) => Ok(BookSort::PriceDesc),
        Ok(pb::BookSort::Newest) => Ok(BookSort::Newest),
        Err(_) => Err(InvalidField::new("sort", "unknown sort")),
    }
}

/// Parses and checks a search request.
///
/// # Errors
/// Returns [`InvalidField`] naming `page.page_size`, `page.page_token`, a price or year
/// bound, `query` or `sort`.
pub fn search_query(request: &pb::SearchBooksRequest) -> Result<SearchQuery, InvalidField> {
    let filter = request.filter.clone().unwrap_or_default();
    let page = request.page.clone().unwrap_or_default();
    SearchQuery::parse(SearchRequest {
        query: &request.query,
        author: &filter.author,
        topic: &filter.topic,
        language: &filter.language,
        min_price_minor: filter.min_price_minor,
        max_price_minor: filter.max_price_minor,
        min_year: filter.min_year,
        max_year: filter.max_year,
        in_stock: filter.in_stock,
        sort: sort_from_wire(request.sort),
        page_size: page.page_size,
        page_token: &page.page_token,
    })
}

/// Returns the wire answer to a search.
pub fn results_to_wire(results: SearchResults) -> pb::SearchBooksResponse {
    let cursors: Vec<String> = results.cursors.iter().map(Cursor::encode).collect();
    let next_page_token = if results.has_next_page {
        cursors.last().cloned().unwrap_or_default()
    } else {
        String::new()
    };
    pb::SearchBooksResponse {
        books: results.books.into_iter().map(book_to_wire).collect(),
        page_info: Some(proto::common::v1::PageInfo {
            next_page_token,
            has_next_page: results.has_next_page,
            total_count: results.total,
        }),
        cursors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::search::CursorKey;

    fn request() -> pb::SearchBooksRequest {
        pb::SearchBooksRequest::default()
    }

    #[test]
    fn defaults_are_a_title_ordered_first_page_of_twenty() {
        let query = search_query(&request()).unwrap();
        assert_eq!(
            (query.sort, query.page_size, query.after.is_none()),
            (BookSort::Title, 20, true)
        );
    }

    #[test]
    fn an_isbn_query_is_an_exact_lookup() {
        let mut wire = request();
        wire.query = "978-0-439-02348-1".to_owned();
        let query = search_query(&wire).unwrap();
        assert_eq!(query.isbn.unwrap().as_ref(), "9780439023481");
        assert!(query.text.is_none());
    }

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let cursor = Cursor {
            sort: BookSort::PriceAsc,
            key: CursorKey::Number(1299),
            id: uuid::Uuid::now_v7(),
        };
        let mut wire = request();
        wire.sort = pb::BookSort::PriceAsc as i32;
        wire.page = Some(proto::common::v1::PageRequest {
            page_size: 5,
            page_token: cursor.encode(),
        });
        assert_eq!(search_query(&wire).unwrap().after, Some(cursor.clone()));

        wire.sort = pb::BookSort::Newest as i32;
        assert_eq!(search_query(&wire).unwrap_err().field, "page.page_token");
        for token in ["garbage!", "e30", "eyJzb3J0IjoxfQ"] {
            wire.page = Some(proto::common::v1::PageRequest {
                page_size: 5,
                page_token: token.to_owned(),
            });
            assert_eq!(
                search_query(&wire).unwrap_err().field,
                "page.page_token",
                "{token}"
            );
        }
    }

    #[test]
    fn bad_bounds_and_sizes_name_their_field() {
        type Spoil = fn(&mut pb::SearchBooksRequest);
        let cases: [(Spoil, &str); 5] = [
            (
                |wire| {
                    wire.page = Some(proto::common::v1::PageRequest {
                        page_size: 101,
                        page_token: String::new(),
                    })
                },
                "page.page_size",
            ),
            (
                |wire| {
                    wire.page = Some(proto::common::v1::PageRequest {
                        page_size: -1,
                        page_token: String::new(),
                    })
                },
                "page.page_size",
            ),
            (
                |wire| {
                    wire.filter = Some(pb::BookFilter {
                        min_price_minor: Some(-1),
                        ..Default::default()
                    })
                },
                "filter.min_price_minor",
            ),
            (
                |wire| {
                    wire.filter = Some(pb::BookFilter {
                        min_year: Some(2000),
                        max_year: Some(1990),
                        ..Default::default()
                    })
                },
                "filter.max_year",
            ),
            (|wire| wire.query = "x".repeat(201), "query"),
        ];
        for (spoil, field) in cases {
            let mut wire = request();
            spoil(&mut wire);
            assert_eq!(search_query(&wire).unwrap_err().field, field);
        }
    }

    #[test]
    fn forged_cursors_whose_key_does_not_fit_the_sort_are_refused() {
        let id = uuid::Uuid::now_v7();
        let cases = [
            (pb::BookSort::Title, BookSort::Title, CursorKey::Number(5)),
            (
                pb::BookSort::PriceAsc,
                BookSort::PriceAsc,
                CursorKey::Text("abc".to_owned()),
            ),
            (pb::BookSort::Newest, BookSort::Newest, CursorKey::Score(1.5)),
            (
                pb::BookSort::Title,
                BookSort::Title,
                CursorKey::Text("a\u{0}".to_owned()),
            ),
        ];
        for (wire_sort, sort, key) in cases {
            let mut wire = request();
            wire.sort = wire_sort as i32;
            let token = Cursor {
                sort,
                key: key.clone(),
                id,
            }
            .encode();
            wire.page = Some(proto::common::v1::PageRequest {
                page_size: 5,
                page_token: token,
            });
            assert_eq!(
                search_query(&wire).unwrap_err().field,
                "page.page_token",
                "{key:?}"
            );
        }
    }

    #[test]
    fn control_characters_in_text_and_filters_name_their_field() {
        let mut wire = request();
        wire.query = "a\u{0}b".to_owned();
        assert_eq!(search_query(&wire).unwrap_err().field, "query");
        for (field, filter) in [
            (
                "filter.author",
                pb::BookFilter {
                    author: "\u{0}".to_owned(),
                    ..Default::default()
                },
            ),
            (
                "filter.topic",
                pb::BookFilter {
                    topic: "x\u{7}".to_owned(),
                    ..Default::default()
                },
            ),
            (
                "filter.language",
                pb::BookFilter {
                    language: "e\u{1b}n".to_owned(),
                    ..Default::default()
                },
            ),
        ] {
            let wire = pb::SearchBooksRequest {
                filter: Some(filter),
                ..request()
            };
            assert_eq!(search_query(&wire).unwrap_err().field, field);
        }
    }

    mod properties {
        use proptest::prelude::*;
        use proto::prost::Message as _;

        use super::pb;
        use crate::domain::search::MAX_PAGE_SIZE;

        fn requests() -> impl Strategy<Value = pb::SearchBooksRequest> {
            let filter = (
                any::<String>(),
                any::<String>(),
                any::<Option<i64>>(),
                any::<Option<i64>>(),
                any::<Option<i32>>(),
                any::<Option<i32>>(),
            )
                .prop_map(
                    |(author, topic, min_price_minor, max_price_minor, min_year, max_year)| pb::BookFilter {
                        author,
                        topic,
                        min_price_minor,
                        max_price_minor,
                        min_year,
                        max_year,
                        ..Default::default()
                    },
                );
            (
                any::<String>(),
                proptest::option::of(filter),
                any::<i32>(),
                any::<i32>(),
                any::<String>(),
            )
                .prop_map(|(query, filter, sort, page_size, page_token)| {
                    pb::SearchBooksRequest {
                        query,
                        filter,
                        sort,
                        page: Some(proto::common::v1::PageRequest {
                            page_size,
                            page_token,
                        }),
                    }
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            #[test]
            fn any_bytes_decode_and_check_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                if let Ok(request) = pb::SearchBooksRequest::decode(bytes.as_slice()) {
                    let _ = super::super::search_query(&request);
                }
            }

            #[test]
            fn any_request_is_checked_within_the_limits(request in requests()) {
                // Through the wire and back, as the server receives it.
                let decoded = pb::SearchBooksRequest::decode(request.encode_to_vec().as_slice()).unwrap();
                if let Ok(query) = super::super::search_query(&decoded) {
                    prop_assert!((1..=MAX_PAGE_SIZE).contains(&query.page_size));
                    prop_assert!(query.min_price_minor.unwrap_or(0) >= 0);
                    prop_assert!(query.text.as_deref().unwrap_or_default().chars().count() <= 200);
                }
            }
        }
    }
}
