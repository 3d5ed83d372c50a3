//! A search request, checked: text, filters, sort, page size and cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

/// A search as asked, before it is checked (the adapter fills it from the wire).
#[derive(Debug, Clone)]
pub struct SearchRequest<'a> {
    pub query: &'a str,
    pub author: &'a str,
    pub topic: &'a str,
    pub language: &'a str,
    pub min_price_minor: Option<i64>,
    pub max_price_minor: Option<i64>,
    pub min_year: Option<i32>,
    pub max_year: Option<i32>,
    pub in_stock: Option<bool>,
    /// The order asked for, or why it is none (an unknown wire value).
    pub sort: Result<BookSort, InvalidField>,
    /// 0 means the default.
    pub page_size: i32,
    /// Empty for the first page.
    pub page_token: &'a str,
}

/// One page of matches: each book with the cursor that continues after it, whether there is
/// a next page, and how many match in all.
#[derive(Debug, Clone)]
pub struct SearchResults {
    pub books: Vec<super::book::Book>,
    pub cursors: Vec<Cursor>,
    pub has_next_page: bool,
    pub total: i64,
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
    /// Checks the request.
    ///
    /// # Errors
    /// Returns [`InvalidField`] naming `page.page_size`, `page.page_token`, a price or year
    /// bound, `query` or `sort`.
    pub fn parse(request: SearchRequest<'_>) -> Result<SearchQuery, InvalidField> {
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
        let filter = &request;
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
        let mut sort = request.sort.clone()?;
        if sort == BookSort::Relevance && text.is_none() {
            sort = BookSort::Title;
        }
        let page_size = match request.page_size {
            0 => DEFAULT_PAGE_SIZE,
            size if size < 0 => return Err(InvalidField::new("page.page_size", "must not be negative")),
            size => u64::try_from(size).unwrap_or(MAX_PAGE_SIZE),
        };
        if page_size > MAX_PAGE_SIZE {
            return Err(InvalidField::new("page.page_size", "must be at most 100"));
        }
        let after = if request.page_token.is_empty() {
            None
        } else {
            let cursor = Cursor::decode(request.page_token)?;
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
            author: optional_key("filter.author", filter.author)?,
            topic: optional_key("filter.topic", filter.topic)?,
            min_price_minor: filter.min_price_minor,
            max_price_minor: filter.max_price_minor,
            min_year: filter.min_year,
            max_year: filter.max_year,
            language: optional_key("filter.language", filter.language)?,
            in_stock: filter.in_stock,
            sort,
            page_size,
            after,
        })
    }
}
