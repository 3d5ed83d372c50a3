//! Books on the wire: a submitted `BookInput` to a checked draft, a book to the wire `Book`.

use proto::catalog::v1 as pb;
use proto::types::InvalidField;

use crate::domain::BookDraft;
use crate::domain::book::{Book, BookInput};

/// Parses and checks a submitted book; errors name the field as the contract spells it.
///
/// # Errors
/// Returns [`InvalidField`] for a missing book or the first field that breaks a rule.
pub fn book_draft(input: Option<&pb::BookInput>) -> Result<BookDraft, InvalidField> {
    BookDraft::parse(input.map(|input| {
        BookInput {
            isbn: &input.isbn,
            title: &input.title,
            authors: &input.authors,
            topics: &input.topics,
            description: &input.description,
            published_year: input.published_year,
            language: &input.language,
            price: input
                .price
                .as_ref()
                .map(|price| (price.amount_minor, price.currency.as_str())),
            cover_url: &input.cover_url,
        }
    }))
}

/// Returns the wire message of a book.
pub fn book_to_wire(book: Book) -> pb::Book {
    pb::Book {
        id: book.id.to_string(),
        isbn13: book.isbn13,
        title: book.title,
        authors: book.authors,
        topics: book.topics,
        description: book.description,
        published_year: book.published_year,
        language: book.language,
        price: Some(book.price.to_wire()),
        cover_url: book.cover_url,
        in_stock: book.in_stock,
        created_at: Some(proto::types::timestamp(book.created_at)),
        updated_at: Some(proto::types::timestamp(book.updated_at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn input() -> pb::BookInput {
        pb::BookInput {
            isbn: "978-0-439-02348-1".to_owned(),
            title: " The Hunger Games ".to_owned(),
            authors: vec!["Suzanne Collins".to_owned()],
            topics: vec!["Fiction".to_owned(), "fiction".to_owned(), "Dystopia".to_owned()],
            description: String::new(),
            published_year: Some(2008),
            language: "ENG".to_owned(),
            price: Some(proto::common::v1::Money {
                amount_minor: 1299,
                currency: "USD".to_owned(),
            }),
            cover_url: String::new(),
        }
    }

    #[test]
    fn a_good_book_is_normalised() {
        let draft = book_draft(Some(&input())).unwrap();
        assert_eq!(draft.title, "The Hunger Games");
        assert_eq!(
            draft.topics,
            ["Fiction", "Dystopia"],
            "case-insensitive duplicates dropped"
        );
        assert_eq!(draft.language, "eng");
        assert_eq!(draft.isbn.as_ref(), "9780439023481");
    }

    #[test]
    fn each_bad_field_is_named() {
        type Spoil = fn(&mut pb::BookInput);
        let cases: [(Spoil, &str); 8] = [
            (|book| book.isbn = "123".to_owned(), "isbn"),
            (|book| book.title = " ".to_owned(), "title"),
            (|book| book.authors = vec![], "authors"),
            (|book| book.published_year = Some(99_999), "published_year"),
            (|book| book.language = "english!".to_owned(), "language"),
            (|book| book.price = None, "price"),
            (
                |book| book.price.as_mut().unwrap().amount_minor = -1,
                "price.amount_minor",
            ),
            (
                |book| book.cover_url = "javascript:alert(1)".to_owned(),
                "cover_url",
            ),
        ];
        for (spoil, field) in cases {
            let mut bad = input();
            spoil(&mut bad);
            assert_eq!(book_draft(Some(&bad)).unwrap_err().field, field);
        }
    }

    mod properties {
        use proptest::prelude::*;
        use proto::prost::Message as _;

        use super::pb;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            #[test]
            fn any_bytes_decode_and_check_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                if let Ok(request) = pb::CreateBookRequest::decode(bytes.as_slice()) {
                    let _ = super::super::book_draft(request.book.as_ref());
                }
            }

            #[test]
            fn a_good_book_with_any_price_and_year_is_checked_without_panicking(
                amount_minor in any::<i64>(),
                currency in any::<String>(),
                published_year in any::<Option<i32>>(),
                title in any::<String>(),
            ) {
                let input = pb::BookInput {
                    price: Some(proto::common::v1::Money { amount_minor, currency }),
                    published_year,
                    title,
                    ..super::input()
                };
                if let Ok(draft) = super::super::book_draft(Some(&input)) {
                    prop_assert!((0..=100_000_000).contains(&draft.price.minor()));
                    prop_assert!(!draft.title.is_empty());
                }
            }
        }
    }
}
