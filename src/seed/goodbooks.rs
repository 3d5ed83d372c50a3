//! Reading goodbooks-10k's `books.csv` (see its README for the quirks): ISBN-10 that lost its
//! leading zeros, ISBN-13 in floating-point notation that lost its last digits, one
//! comma-separated `authors` field, a float publication year. The data has no prices, topics
//! or descriptions: prices are derived from the Goodreads id so repeated seeds agree.

use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;

use super::{RowProblem, SourceRow, deterministic_price};

#[derive(Debug, Deserialize)]
struct Record {
    goodreads_book_id: u64,
    isbn: String,
    isbn13: String,
    authors: String,
    original_publication_year: String,
    title: String,
    language_code: String,
    image_url: String,
}

/// Reads every row of the CSV at `path`. Rows are numbered as data rows from 1.
///
/// # Errors
/// Fails when the file cannot be opened or its header is not goodbooks-10k's.
pub fn read(path: &Path) -> anyhow::Result<Vec<SourceRow>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("failed to open {}", path.display()))?;
    let mut rows = Vec::new();
    for (index, record) in reader.deserialize::<Record>().enumerate() {
        let row = i64::try_from(index + 1).unwrap_or(i64::MAX);
        let book = match record {
            Ok(record) => convert(&record),
            Err(error) => Err(RowProblem {
                field: "row".to_owned(),
                reason: format!("not a goodbooks-10k row: {error}"),
            }),
        };
        rows.push(SourceRow { row, book });
    }
    Ok(rows)
}

fn convert(record: &Record) -> Result<proto::catalog::v1::BookInput, RowProblem> {
    let mut book = deterministic_price(record.goodreads_book_id);
    book.isbn = isbn(&record.isbn, &record.isbn13).ok_or_else(|| RowProblem {
        field: "isbn".to_owned(),
        reason: "no usable ISBN (isbn empty and isbn13 lost its last digits)".to_owned(),
    })?;
    book.title = record.title.clone();
    book.authors = record.authors.split(", ").map(str::to_owned).collect();
    book.published_year = year(&record.original_publication_year);
    book.language = record.language_code.clone();
    // Goodreads' placeholder image is no cover.
    if !record.image_url.contains("nophoto") {
        book.cover_url = record.image_url.clone();
    }
    Ok(book)
}

/// Restores the ISBN-10's leading zeros; falls back to the ISBN-13 only when it still has all
/// thirteen digits (the float notation usually cost it the last ones).
fn isbn(isbn10: &str, isbn13: &str) -> Option<String> {
    let isbn10 = isbn10.trim();
    if !isbn10.is_empty() && isbn10.len() <= 10 {
        return Some(format!("{isbn10:0>10}"));
    }
    let value: f64 = isbn13.trim().parse().ok()?;
    let digits = format!("{value:.0}");
    if digits.len() == 13 { Some(digits) } else { None }
}

fn year(raw: &str) -> Option<i32> {
    let value: f64 = raw.trim().parse().ok()?;
    if value.is_finite() {
        Some(value as i32)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_quirks_are_undone() {
        assert_eq!(isbn("439023483", "9.78043902348e+12").unwrap(), "0439023483");
        assert_eq!(isbn("43942089X", "").unwrap(), "043942089X");
        assert_eq!(
            isbn("", "9.78043902348e+12").unwrap(),
            "9780439023480",
            "13 digits, checksum decides"
        );
        assert_eq!(isbn("", ""), None);
        assert_eq!(year("2008.0"), Some(2008));
        assert_eq!(year("-750.0"), Some(-750));
        assert_eq!(year(""), None);
    }
}
