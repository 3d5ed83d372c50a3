//! A book as the catalog sells it, and as an admin or an import submits it, checked field
//! by field.

use chrono::{DateTime, Utc};
use proto::types::{BookId, InvalidField, Money};

use super::Isbn13;

/// The currency of a price given without one.
pub const DEFAULT_CURRENCY: &str = "USD";

const MAX_AUTHORS: usize = 50;
const MAX_TOPICS: usize = 20;

/// A live book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub id: BookId,
    /// ISBN-13, no hyphens.
    pub isbn13: String,
    pub title: String,
    pub authors: Vec<String>,
    pub topics: Vec<String>,
    pub description: String,
    pub published_year: Option<i32>,
    pub language: String,
    pub price: Money,
    pub cover_url: String,
    /// Follows inventory's stock events.
    pub in_stock: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A topic with its number of live books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicCount {
    pub name: String,
    pub book_count: i64,
}

/// A book as submitted, before it is checked (the adapter fills it from the wire).
#[derive(Debug, Clone, Copy)]
pub struct BookInput<'a> {
    pub isbn: &'a str,
    pub title: &'a str,
    pub authors: &'a [String],
    pub topics: &'a [String],
    pub description: &'a str,
    pub published_year: Option<i32>,
    pub language: &'a str,
    /// Amount in minor units and currency code; an empty code means [`DEFAULT_CURRENCY`].
    pub price: Option<(i64, &'a str)>,
    pub cover_url: &'a str,
}

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
    /// Checks the input; errors name the field as the contract spells it.
    ///
    /// # Errors
    /// Returns [`InvalidField`] for the first field that breaks a rule.
    pub fn parse(input: Option<BookInput<'_>>) -> Result<BookDraft, InvalidField> {
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
        let cover_url = text("cover_url", input.cover_url, false, 500)?;
        if !(cover_url.is_empty() || cover_url.starts_with("https://") || cover_url.starts_with("http://")) {
            return Err(InvalidField::new("cover_url", "must be an http(s) URL"));
        }
        let Some((amount_minor, currency)) = input.price else {
            return Err(InvalidField::new("price", "is required"));
        };
        // The contract: an empty currency means the catalog's default currency.
        let currency = if currency.trim().is_empty() {
            DEFAULT_CURRENCY
        } else {
            currency
        };
        let price = Money::parse("price", amount_minor, currency)?;
        if price.minor() > 100_000_000 {
            return Err(InvalidField::new(
                "price.amount_minor",
                "must be at most 100000000",
            ));
        }
        Ok(BookDraft {
            isbn: Isbn13::parse("isbn", input.isbn)?,
            title: text("title", input.title, true, 500)?,
            authors: names("authors", input.authors, MAX_AUTHORS, true)?,
            topics: names("topics", input.topics, MAX_TOPICS, false)?,
            description: text("description", input.description, false, 10_000)?,
            published_year: input.published_year,
            language,
            price,
            cover_url,
        })
    }
}

/// A change of the catalogue that readers keeping a copy (the BFF's cache) must hear of,
/// published on the `{book-events}` stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookChange {
    Created(BookId),
    /// Any field, the price included.
    Updated(BookId),
    Deleted(BookId),
    /// A batch of an import: many new books, named by none.
    Imported,
}

impl BookChange {
    /// The event's `kind` field.
    pub fn kind(self) -> &'static str {
        match self {
            BookChange::Created(_) => "created",
            BookChange::Updated(_) => "updated",
            BookChange::Deleted(_) => "deleted",
            BookChange::Imported => "imported",
        }
    }

    /// The book it names, if one.
    pub fn book(self) -> Option<BookId> {
        match self {
            BookChange::Created(id) | BookChange::Updated(id) | BookChange::Deleted(id) => Some(id),
            BookChange::Imported => None,
        }
    }
}
