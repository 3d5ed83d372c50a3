//! Reading goodbooks-10k's `books.csv` (see `datasets/goodbooks-10k/README.md` for the quirks):
//! ISBN-10 that lost its leading zeros, ISBN-13 in floating-point notation that lost its last
//! digits, one comma-separated `authors` field, a float publication year. The data has no
//! prices, topics or descriptions: prices are derived from the Goodreads id so repeated seeds
//! agree, and the only topics are what the row itself says (its century, whether it is part of
//! a series), so the catalogue's topic filter has something true to filter by.

use std::io::Read;
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

/// The repository's copy of goodbooks-10k (`datasets/goodbooks-10k/books.csv.gz`), built
/// into the binary so `bookstore up` can seed real books wherever it runs.
pub const EMBEDDED: &[u8] = include_bytes!("../../datasets/goodbooks-10k/books.csv.gz");

/// The repository's copy of goodbooks-10k, for tests and examples.
pub fn repository_copy() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/goodbooks-10k/books.csv.gz")
}

/// Reads every row of the CSV at `path`, gzipped (as the repository keeps it) or plain.
/// Rows are numbered as data rows from 1.
///
/// # Errors
/// Fails when the file cannot be read or decompressed.
pub fn read(path: &Path) -> anyhow::Result<Vec<SourceRow>> {
    let bytes = std::fs::read(path).with_context(|| format!("failed to open {}", path.display()))?;
    parse(&bytes).with_context(|| format!("failed to read {}", path.display()))
}

/// Reads every row of the copy built into the binary ([`EMBEDDED`]).
///
/// # Errors
/// Fails only if the built-in copy is corrupt.
pub fn read_embedded() -> anyhow::Result<Vec<SourceRow>> {
    parse(EMBEDDED).context("failed to read the built-in goodbooks-10k")
}

/// Parses a goodbooks-10k CSV, decompressing it first when it starts with gzip's magic bytes.
fn parse(bytes: &[u8]) -> anyhow::Result<Vec<SourceRow>> {
    const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut text)
            .context("failed to decompress")?;
        Ok(rows(&text))
    } else {
        Ok(rows(bytes))
    }
}

fn rows(csv_text: &[u8]) -> Vec<SourceRow> {
    let mut reader = csv::Reader::from_reader(csv_text);
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
    rows
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
    book.topics = topics(&record.title, book.published_year);
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

/// What the row itself tells about the book: its century, and "Series" when the title names
/// its place in one ("(The Hunger Games, #1)").
fn topics(title: &str, published_year: Option<i32>) -> Vec<String> {
    let mut topics = Vec::new();
    match published_year {
        Some(year) if year < 1900 => topics.push("Classics".to_owned()),
        Some(year) if year < 2000 => topics.push("20th century".to_owned()),
        Some(_) => topics.push("21st century".to_owned()),
        None => {}
    }
    if title.contains(", #") {
        topics.push("Series".to_owned());
    }
    topics
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

    #[test]
    fn topics_come_from_the_row_itself() {
        assert_eq!(topics("Emma", Some(1815)), ["Classics"]);
        assert_eq!(topics("Dune", Some(1965)), ["20th century"]);
        assert_eq!(
            topics("The Hunger Games (The Hunger Games, #1)", Some(2008)),
            ["21st century", "Series"]
        );
        assert!(topics("Untitled", None).is_empty());
    }

    #[test]
    fn the_built_in_copy_is_the_repository_copy_and_reads_whole() {
        let built_in = read_embedded().unwrap();
        let on_disk = read(&repository_copy()).unwrap();
        assert_eq!(built_in.len(), 10_000);
        assert_eq!(on_disk.len(), 10_000);
        let first = built_in[0].book.as_ref().unwrap();
        assert_eq!(first.title, "The Hunger Games (The Hunger Games, #1)");
        assert_eq!(first.authors, ["Suzanne Collins"]);
    }

    #[test]
    fn a_plain_csv_reads_too() {
        let header = "book_id,goodreads_book_id,best_book_id,work_id,books_count,isbn,isbn13,authors,original_publication_year,original_title,title,language_code,average_rating,ratings_count,work_ratings_count,work_text_reviews_count,ratings_1,ratings_2,ratings_3,ratings_4,ratings_5,image_url,small_image_url";
        let row = "1,2767052,2767052,2792775,272,439023483,9.78043902348e+12,Suzanne Collins,2008.0,The Hunger Games,\"The Hunger Games (The Hunger Games, #1)\",eng,4.34,4780653,4942365,155254,66715,127936,560092,1481305,2706317,https://images.gr-assets.com/books/1447303603m/2767052.jpg,https://images.gr-assets.com/books/1447303603s/2767052.jpg";
        let rows = parse(format!("{header}\n{row}\n").as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].book.as_ref().unwrap().isbn, "0439023483");
    }
}
