//! A search request, checked: text, filters, sort, page size and cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proto::catalog::v1 as pb;
use proto::types::InvalidField;
use serde::{Deserialize, Serialize};

use super::Isbn13;

/// Books per page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The most books one page may hold.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The order of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BookSort {
    /// Best text match first; without a text query, the same as `Title`.
    Relevance,
    Title,
    PriceAsc,
    PriceDesc,
    /// Most recently published first; books without a year last.
    Newest,
}

impl BookSort {
    fn from_wire(wire: i32) -> Result<BookSort, InvalidField> {
        match pb::BookSort::try_from(wire) {
            Ok(pb::BookSort::Unspecified | pb::BookSort::Relevance) => Ok(BookSort::Relevance),
            Ok(pb::BookSort::Title) => Ok(BookSort::Title),
            Ok(pb::BookSort::PriceAsc) => Ok(BookSort::PriceAsc),
            Ok(pb::BookSort::PriceDesc) => Ok(BookSort::PriceDesc),
            Ok(pb::BookSort::Newest) => Ok(BookSort::Newest),
            Err(_) => Err(InvalidField::new("sort", "unknown sort")),
        }
    }
}

/// Where the previous page ended: the sort key of its last book and that book's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub sort: BookSort,
    pub key: CursorKey,
    pub id: uuid::Uuid,
}

/// The sort key value at the cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CursorKey {
    Text(String),
    Number(i64),
    Score(f64),
}

impl Cursor {
    /// Encodes the cursor as an opaque page token.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(token: &str) -> Result<Cursor, InvalidField> {
        let invalid = || InvalidField::new("page.page_token", "is not a token this service issued");
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }
}

/// A checked search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// Full-text words, when the query is not an ISBN.
    pub text: Option<String>,
    /// Set when the whole query is an ISBN: an exact lookup.
    pub isbn: Option<Isbn13>,
    /// Lower-cased author name, matched exactly against any of the book's authors.
    pub author: Option<String>,
    /// Lower-cased topic.
    pub topic: Option<String>,
    pub min_price_minor: Option<i64>,
    pub max_price_minor: Option<i64>,
    pub min_year: Option<i32>,
    pub max_year: Option<i32>,
    pub language: Option<String>,
    pub in_stock: Option<bool>,
    pub sort: BookSort,
    pub page_size: u64,
    pub after: Option<Cursor>,
}

/// Whether `text` holds a control character other than whitespace: no name or title has
/// one, and PostgreSQL cannot even compare a text holding NUL. (A pasted tab or line break
/// is only a space to a search.)
fn has_control(text: &str) -> bool {
    text.chars()
        .any(|character| character.is_control() && !character.is_whitespace())
}

/// A lower-cased filter value, `None` when blank; control characters are refused.
fn optional_key(field: &str, raw: &str) -> Result<Option<String>, InvalidField> {
    if has_control(raw) {
        return Err(InvalidField::new(field, "must not contain control characters"));
    }
    let key = raw.trim().to_lowercase();
    Ok(if key.is_empty() { None } else { Some(key) })
}

impl Cursor {
    /// Whether the key is of the kind `sort` orders by, and a value a column can hold: a
    /// forged token with a text key for a price sort would otherwise reach the database as
    /// a comparison of text with a number.
    fn fits(&self, sort: BookSort) -> bool {
        match (&self.key, sort) {
            (CursorKey::Score(score), BookSort::Relevance) => score.is_finite(),
            (CursorKey::Text(text), BookSort::Title) => !text.chars().any(char::is_control),
            (CursorKey::Number(_), BookSort::PriceAsc | BookSort::PriceDesc | BookSort::Newest) => true,
            _ => false,
        }
    }
}

impl SearchQuery {
    /// Checks the wire request.
    ///
    /// # Errors
    /// Returns [`InvalidField`] naming `page.page_size`, `page.page_token`, a price or year
    /// bound, `query` or `sort`.
    pub fn parse(request: &pb::SearchBooksRequest) -> Result<SearchQuery, InvalidField> {
        let query = request.query.trim();
        if query.chars().count() > 200 {
            return Err(InvalidField::new("query", "must be at most 200 characters"));
        }
        if has_control(query) {
            return Err(InvalidField::new("query", "must not contain control characters"));
        }
        let isbn = Isbn13::parse("query", query).ok();
        let text = if isbn.is_some() || query.is_empty() {
            None
        } else {
            Some(query.to_owned())
        };
        let filter = request.filter.clone().unwrap_or_default();
        for (field, value) in [
            ("filter.min_price_minor", filter.min_price_minor),
            ("filter.max_price_minor", filter.max_price_minor),
        ] {
            if let Some(price) = value
                && price < 0
            {
                return Err(InvalidField::new(field, "must not be negative"));
            }
        }
        if let (Some(min), Some(max)) = (filter.min_price_minor, filter.max_price_minor)
            && min > max
        {
            return Err(InvalidField::new(
                "filter.max_price_minor",
                "must not be below min_price_minor",
            ));
        }
        if let (Some(min), Some(max)) = (filter.min_year, filter.max_year)
            && min > max
        {
            return Err(InvalidField::new("filter.max_year", "must not be below min_year"));
        }
        let mut sort = BookSort::from_wire(request.sort)?;
        if sort == BookSort::Relevance && text.is_none() {
            sort = BookSort::Title;
        }
        let page = request.page.clone().unwrap_or_default();
        let page_size = match page.page_size {
            0 => DEFAULT_PAGE_SIZE,
            size if size < 0 => return Err(InvalidField::new("page.page_size", "must not be negative")),
            size => u64::try_from(size).unwrap_or(MAX_PAGE_SIZE),
        };
        if page_size > MAX_PAGE_SIZE {
            return Err(InvalidField::new("page.page_size", "must be at most 100"));
        }
        let after = if page.page_token.is_empty() {
            None
        } else {
            let cursor = Cursor::decode(&page.page_token)?;
            if cursor.sort != sort {
                return Err(InvalidField::new(
                    "page.page_token",
                    "belongs to another sort order",
                ));
            }
            if !cursor.fits(sort) {
                return Err(InvalidField::new(
                    "page.page_token",
                    "is not a token this service issued",
                ));
            }
            Some(cursor)
        };
        Ok(SearchQuery {
            text,
            isbn,
            author: optional_key("filter.author", &filter.author)?,
            topic: optional_key("filter.topic", &filter.topic)?,
            min_price_minor: filter.min_price_minor,
            max_price_minor: filter.max_price_minor,
            min_year: filter.min_year,
            max_year: filter.max_year,
            language: optional_key("filter.language", &filter.language)?,
            in_stock: filter.in_stock,
            sort,
            page_size,
            after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> pb::SearchBooksRequest {
        pb::SearchBooksRequest::default()
    }

    #[test]
    fn defaults_are_a_title_ordered_first_page_of_twenty() {
        let query = SearchQuery::parse(&request()).unwrap();
        assert_eq!(
            (query.sort, query.page_size, query.after.is_none()),
            (BookSort::Title, 20, true)
        );
    }

    #[test]
    fn an_isbn_query_is_an_exact_lookup() {
        let mut wire = request();
        wire.query = "978-0-439-02348-1".to_owned();
        let query = SearchQuery::parse(&wire).unwrap();
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
        assert_eq!(SearchQuery::parse(&wire).unwrap().after, Some(cursor.clone()));

        wire.sort = pb::BookSort::Newest as i32;
        assert_eq!(SearchQuery::parse(&wire).unwrap_err().field, "page.page_token");
        for token in ["garbage!", "e30", "eyJzb3J0IjoxfQ"] {
            wire.page = Some(proto::common::v1::PageRequest {
                page_size: 5,
                page_token: token.to_owned(),
            });
            assert_eq!(
                SearchQuery::parse(&wire).unwrap_err().field,
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
            assert_eq!(SearchQuery::parse(&wire).unwrap_err().field, field);
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
                SearchQuery::parse(&wire).unwrap_err().field,
                "page.page_token",
                "{key:?}"
            );
        }
    }

    #[test]
    fn control_characters_in_text_and_filters_name_their_field() {
        let mut wire = request();
        wire.query = "a\u{0}b".to_owned();
        assert_eq!(SearchQuery::parse(&wire).unwrap_err().field, "query");
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
            assert_eq!(SearchQuery::parse(&wire).unwrap_err().field, field);
        }
    }

    mod properties {
        use proptest::prelude::*;
        use proto::prost::Message as _;

        use super::super::{MAX_PAGE_SIZE, SearchQuery};
        use super::pb;

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
                    let _ = SearchQuery::parse(&request);
                }
            }

            #[test]
            fn any_request_is_checked_within_the_limits(request in requests()) {
                // Through the wire and back, as the server receives it.
                let decoded = pb::SearchBooksRequest::decode(request.encode_to_vec().as_slice()).unwrap();
                if let Ok(query) = SearchQuery::parse(&decoded) {
                    prop_assert!((1..=MAX_PAGE_SIZE).contains(&query.page_size));
                    prop_assert!(query.min_price_minor.unwrap_or(0) >= 0);
                    prop_assert!(query.text.as_deref().unwrap_or_default().chars().count() <= 200);
                }
            }
        }
    }
}
