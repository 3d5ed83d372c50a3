//! A book as an admin or an import submits it, checked field by field.

use proto::catalog::v1 as pb;
use proto::types::{InvalidField, Money};

use super::Isbn13;

/// The currency of a price given without one.
pub const DEFAULT_CURRENCY: &str = "USD";

const MAX_AUTHORS: usize = 50;
const MAX_TOPICS: usize = 20;

/// Everything a book needs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookDraft {
    pub isbn: Isbn13,
    pub title: String,
    /// In the order given (first author first).
    pub authors: Vec<String>,
    pub topics: Vec<String>,
    pub description: String,
    pub published_year: Option<i32>,
    /// ISO 639 code, lower case (`eng`, `en`), or empty.
    pub language: String,
    pub price: Money,
    pub cover_url: String,
}

fn text(field: &str, raw: &str, required: bool, max_characters: usize) -> Result<String, InvalidField> {
    let trimmed = raw.trim();
    if required && trimmed.is_empty() {
        return Err(InvalidField::new(field, "is required"));
    }
    if trimmed.chars().count() > max_characters {
        return Err(InvalidField::new(
            field,
            format!("must be at most {max_characters} characters"),
        ));
    }
    if trimmed
        .chars()
        .any(|character| character.is_control() && character != '\n')
    {
        return Err(InvalidField::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

fn names(field: &str, raw: &[String], max: usize, required: bool) -> Result<Vec<String>, InvalidField> {
    if required && raw.iter().all(|name| name.trim().is_empty()) {
        return Err(InvalidField::new(field, "name at least one"));
    }
    if raw.len() > max {
        return Err(InvalidField::new(field, format!("at most {max}")));
    }
    let mut cleaned: Vec<String> = Vec::new();
    for (index, name) in raw.iter().enumerate() {
        let name = text(&format!("{field}[{index}]"), name, false, 200)?;
        let duplicate = cleaned
            .iter()
            .any(|existing| existing.to_lowercase() == name.to_lowercase());
        if !name.is_empty() && !duplicate {
            cleaned.push(name);
        }
    }
    Ok(cleaned)
}

impl BookDraft {
    /// Checks the wire input; errors name the field as the contract spells it.
    ///
    /// # Errors
    /// Returns [`InvalidField`] for the first field that breaks a rule.
    pub fn parse(input: Option<&pb::BookInput>) -> Result<BookDraft, InvalidField> {
        let Some(input) = input else {
            return Err(InvalidField::new("book", "is required"));
        };
        let current_year = 2100;
        if let Some(year) = input.published_year
            && !(-3000..=current_year).contains(&year)
        {
            return Err(InvalidField::new(
                "published_year",
                "must be between -3000 and 2100",
            ));
        }
        let language = input.language.trim().to_lowercase();
        let language_ok = language.is_empty()
            || ((2..=3).contains(&language.len())
                && language.chars().all(|letter| letter.is_ascii_lowercase()))
            || (language.len() <= 8 && language.contains('-'));
        if !language_ok {
            return Err(InvalidField::new(
                "language",
                "must be an ISO 639 code such as en or eng",
            ));
        }
        let cover_url = text("cover_url", &input.cover_url, false, 500)?;
        if !(cover_url.is_empty() || cover_url.starts_with("https://") || cover_url.starts_with("http://")) {
            return Err(InvalidField::new("cover_url", "must be an http(s) URL"));
        }
        // The contract: an empty currency means the catalog's default currency.
        let mut wire_price = input.price.clone();
        if let Some(price) = wire_price.as_mut()
            && price.currency.trim().is_empty()
        {
            DEFAULT_CURRENCY.clone_into(&mut price.currency);
        }
        let price = Money::from_wire("price", wire_price.as_ref())?;
        if price.minor() > 100_000_000 {
            return Err(InvalidField::new(
                "price.amount_minor",
                "must be at most 100000000",
            ));
        }
        Ok(BookDraft {
            isbn: Isbn13::parse("isbn", &input.isbn)?,
            title: text("title", &input.title, true, 500)?,
            authors: names("authors", &input.authors, MAX_AUTHORS, true)?,
            topics: names("topics", &input.topics, MAX_TOPICS, false)?,
            description: text("description", &input.description, false, 10_000)?,
            published_year: input.published_year,
            language,
            price,
            cover_url,
        })
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
        let draft = BookDraft::parse(Some(&input())).unwrap();
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
            assert_eq!(BookDraft::parse(Some(&bad)).unwrap_err().field, field);
        }
    }

    mod properties {
        use proptest::prelude::*;
        use proto::prost::Message as _;

        use super::super::BookDraft;
        use super::pb;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            #[test]
            fn any_bytes_decode_and_check_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                if let Ok(request) = pb::CreateBookRequest::decode(bytes.as_slice()) {
                    let _ = BookDraft::parse(request.book.as_ref());
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
                if let Ok(draft) = BookDraft::parse(Some(&input)) {
                    prop_assert!((0..=100_000_000).contains(&draft.price.minor()));
                    prop_assert!(!draft.title.is_empty());
                }
            }
        }
    }
}
