//! The search SQL, built per backend: FTS5 `MATCH` ranked by `bm25` on SQLite, a weighted
//! `tsvector` `@@` ranked by `ts_rank_cd` on PostgreSQL, plain indexed ordering when there is
//! no text. Pages are keyset pages: `WHERE (key, id) > (cursor key, cursor id)`.

use platform::store::{Classify as _, SqliteReads, sqlite_parameters, traced};
use rusqlite::params_from_iter;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, IdenStatic as _, Iterable as _, QueryResult, Statement, Value,
};

use super::book::{self, BookColumns, Model};
use crate::domain::book::Book;
use crate::domain::search::{BookSort, CursorKey};
use crate::domain::{Cursor, SearchQuery};
use crate::error::CatalogResult;

/// A page of matches and how many match in all.
#[derive(Debug)]
pub struct SearchPage {
    /// The matches with the cursor after each, one more than the page size when there is a
    /// next page.
    pub rows: Vec<(Book, Cursor)>,
    pub total: i64,
}

/// Collects SQL fragments and their bound values in order.
#[derive(Default)]
struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn push(&mut self, fragment: &str) {
        self.text.push_str(fragment);
    }

    fn bind(&mut self, fragment: &str, value: impl Into<Value>) {
        self.text.push_str(fragment);
        self.values.push(value.into());
    }

    fn statement(self, backend: DatabaseBackend) -> Statement {
        Statement::from_sql_and_values(
            backend,
            platform::store::numbered_placeholders(backend, &self.text),
            self.values,
        )
    }
}

/// Turns free text into an FTS5 query: each word quoted (so no operator injection), all
/// words required, the last one as a prefix for type-ahead.
pub fn fts5_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| format!("\"{}\"", word.to_lowercase()))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query = rest.join(" ");
    if !query.is_empty() {
        query.push(' ');
    }
    query.push_str(last);
    query.push('*');
    Some(query)
}

/// Turns free text into a PostgreSQL tsquery: every word required, the last as a prefix.
pub fn tsquery(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    let (last, rest) = words.split_last()?;
    let mut terms: Vec<String> = rest.iter().map(|word| format!("'{word}'")).collect();
    terms.push(format!("'{last}':*"));
    Some(terms.join(" & "))
}

fn push_filters(sql: &mut Sql, query: &SearchQuery) {
    sql.push(" AND b.deleted_at IS NULL");
    if let Some(isbn) = &query.isbn {
        sql.bind(" AND b.isbn13 = ?", isbn.to_string());
    }
    // `IN (…)` lets the planner start from the author or topic index when it is the
    // selective part, instead of walking the sort index and probing each book.
    if let Some(author) = &query.author {
        sql.bind(
            " AND b.id IN (SELECT a.book_id FROM book_authors a WHERE a.name_key = ?)",
            author.clone(),
        );
    }
    if let Some(topic) = &query.topic {
        sql.bind(
            " AND b.id IN (SELECT t.book_id FROM book_topics t WHERE t.topic_key = ?)",
            topic.clone(),
        );
    }
    if let Some(min) = query.min_price_minor {
        sql.bind(" AND b.price_minor >= ?", min);
    }
    if let Some(max) = query.max_price_minor {
        sql.bind(" AND b.price_minor <= ?", max);
    }
    if let Some(min) = query.min_year {
        sql.bind(" AND b.published_year >= ?", min);
    }
    if let Some(max) = query.max_year {
        sql.bind(" AND b.published_year <= ?", max);
    }
    if let Some(language) = &query.language {
        sql.bind(" AND b.language = ?", language.clone());
    }
    if let Some(in_stock) = query.in_stock {
        sql.bind(" AND b.in_stock = ?", in_stock);
    }
}

/// The FROM/WHERE of a text search, exposing `score` (lower is better on both backends).
fn push_matches(sql: &mut Sql, backend: DatabaseBackend, text: &str, with_score: bool) -> bool {
    match backend {
        DatabaseBackend::Sqlite => {
            let Some(fts) = fts5_query(text) else {
                return false;
            };
            let score = if with_score {
                ", bm25(books_fts, 10.0, 5.0, 1.0, 10.0) AS score"
            } else {
                ""
            };
            sql.push(&format!(
                " SELECT b.*{score} FROM books_fts JOIN books b ON b.search_rowid = books_fts.rowid"
            ));
            sql.bind(" WHERE books_fts MATCH ?", fts);
        }
        _ => {
            let Some(tsquery) = tsquery(text) else {
                return false;
            };
            let score = if with_score {
                ", -ts_rank_cd(b.search, q.query)::float8 AS score"
            } else {
                ""
            };
            sql.bind(
                &format!(" SELECT b.*{score} FROM books b, to_tsquery('simple', ?) AS q(query)"),
                tsquery,
            );
            sql.push(" WHERE b.search @@ q.query");
        }
    }
    true
}

fn order(sort: BookSort) -> (&'static str, &'static str, bool) {
    // (key column, ORDER BY, descending)
    match sort {
        BookSort::Relevance => ("score", "score ASC, id ASC", false),
        BookSort::Title => ("title_key", "title_key ASC, id ASC", false),
        BookSort::PriceAsc => ("price_minor", "price_minor ASC, id ASC", false),
        BookSort::PriceDesc => ("price_minor", "price_minor DESC, id DESC", true),
        BookSort::Newest => ("sort_year", "sort_year DESC, id DESC", true),
    }
}

fn push_keyset(sql: &mut Sql, column: &str, descending: bool, cursor: &Cursor) {
    let comparison = if descending { "<" } else { ">" };
    let key: Value = match &cursor.key {
        CursorKey::Text(text) => text.clone().into(),
        CursorKey::Number(number) => (*number).into(),
        CursorKey::Score(score) => (*score).into(),
    };
    sql.bind(&format!(" AND ({column} {comparison} ?"), key.clone());
    sql.bind(&format!(" OR ({column} = ?"), key);
    sql.bind(&format!(" AND id {comparison} ?))"), cursor.id);
}

/// Builds the page query (page size + 1 rows, to know whether there is a next page).
pub fn page_statement(backend: DatabaseBackend, query: &SearchQuery) -> Option<Statement> {
    let mut sql = Sql::default();
    sql.push("SELECT *");
    push_page(&mut sql, backend, query).then(|| sql.statement(backend))
}

/// Builds the page query with the total of matches in every row (`total`), for a backend
/// where each statement is a round trip: one round trip a page instead of two. Only the
/// books' own columns are read (not PostgreSQL's `search` vector, which no reader needs).
pub fn page_with_total_statement(backend: DatabaseBackend, query: &SearchQuery) -> Option<Statement> {
    let mut sql = Sql::default();
    sql.push("SELECT ");
    for (index, column) in book::Column::iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.push(column.as_str());
    }
    if query.sort == BookSort::Relevance {
        sql.push(", score");
    }
    // An uncorrelated subquery: evaluated once per statement, in its snapshot.
    sql.push(", (");
    if !push_count(&mut sql, backend, query) {
        return None;
    }
    sql.push(") AS total");
    push_page(&mut sql, backend, query).then(|| sql.statement(backend))
}

/// Writes a page query's FROM onwards, after its select list.
fn push_page(sql: &mut Sql, backend: DatabaseBackend, query: &SearchQuery) -> bool {
    let (column, order_by, descending) = order(query.sort);
    sql.push(" FROM (");
    match &query.text {
        Some(text) => {
            if !push_matches(sql, backend, text, query.sort == BookSort::Relevance) {
                return false;
            }
        }
        None => sql.push(" SELECT b.* FROM books b WHERE 1 = 1"),
    }
    push_filters(sql, query);
    sql.push(") AS matched WHERE 1 = 1");
    if let Some(cursor) = &query.after {
        push_keyset(sql, column, descending, cursor);
    }
    // The limit is written into the text, not bound: SQLite (3.47 on) plans with a bound
    // LIMIT's value and so re-prepares the whole statement on every run that binds it anew.
    // A page size is a validated integer, and a handful of sizes keep the statement cache small.
    sql.push(&format!(" ORDER BY {order_by} LIMIT {}", query.page_size + 1));
    true
}

/// Whether `query` matches every book on sale: no text and no filter.
fn matches_every_live_book(query: &SearchQuery) -> bool {
    let SearchQuery {
        text,
        isbn,
        author,
        topic,
        min_price_minor,
        max_price_minor,
        min_year,
        max_year,
        language,
        in_stock,
        sort: _,
        page_size: _,
        after: _,
    } = query;
    text.is_none()
        && isbn.is_none()
        && author.is_none()
        && topic.is_none()
        && min_price_minor.is_none()
        && max_price_minor.is_none()
        && min_year.is_none()
        && max_year.is_none()
        && language.is_none()
        && in_stock.is_none()
}

/// Builds the count query for the same matches (cursor ignored). Without text or filters
/// that is the live-book counter the database keeps (migration m0004), one row, instead of
/// a walk over every book on sale.
pub fn count_statement(backend: DatabaseBackend, query: &SearchQuery) -> Option<Statement> {
    let mut sql = Sql::default();
    push_count(&mut sql, backend, query).then(|| sql.statement(backend))
}

/// Writes the count query of [`count_statement`].
fn push_count(sql: &mut Sql, backend: DatabaseBackend, query: &SearchQuery) -> bool {
    if matches_every_live_book(query) {
        sql.push(&format!(
            "SELECT value AS total FROM catalog_counters WHERE name = '{}'",
            crate::migration::m0004_live_books_count::LIVE_BOOKS
        ));
        return true;
    }
    sql.push("SELECT COUNT(*) AS total FROM (");
    match &query.text {
        Some(text) => {
            if !push_matches(sql, backend, text, false) {
                return false;
            }
        }
        None => sql.push(" SELECT b.id FROM books b WHERE 1 = 1"),
    }
    push_filters(sql, query);
    sql.push(") AS matched");
    true
}

/// Runs a search: one page and the total, in one statement.
///
/// # Errors
/// Internal on a database failure.
pub async fn search(db: &impl ConnectionTrait, query: &SearchQuery) -> CatalogResult<SearchPage> {
    let backend = db.get_database_backend();
    let Some(page) = page_with_total_statement(backend, query) else {
        // Text with no searchable word (only punctuation) matches nothing.
        return Ok(SearchPage {
            rows: Vec::new(),
            total: 0,
        });
    };
    let rows = traced(db, "SELECT", "books", db.query_all_raw(page))
        .await
        .classify("search")?;
    let total = match (rows.first(), &query.after) {
        (Some(row), _) => row.try_get::<i64>("", "total").classify("search")?,
        // A first page without rows: nothing matches.
        (None, None) => 0,
        // Past the last match: the earlier pages' matches still count.
        (None, Some(_)) => count(db, query).await?,
    };
    let mut books = Vec::with_capacity(rows.len());
    if let Some(first) = rows.first() {
        let columns = BookColumns::of_row(first).classify("search")?;
        let score = match query.sort {
            BookSort::Relevance => Some(score_column(first).classify("search")?),
            _ => None,
        };
        for row in rows {
            books.push(read_row(&row, query.sort, &columns, score)?);
        }
    }
    Ok(SearchPage { rows: books, total })
}

async fn count(db: &impl ConnectionTrait, query: &SearchQuery) -> CatalogResult<i64> {
    let Some(count) = count_statement(db.get_database_backend(), query) else {
        return Ok(0);
    };
    let row = traced(db, "SELECT", "books", db.query_one_raw(count))
        .await
        .classify("search")?;
    match row {
        Some(row) => Ok(row.try_get::<i64>("", "total").classify("search")?),
        None => Ok(0),
    }
}

/// Runs a search on SQLite through the read connections (rusqlite on the blocking pool):
/// the page and its count as two statements ([`page_statement`], [`count_statement`]), both
/// on one connection in one hand-off, where a second statement costs no round trip.
///
/// # Errors
/// Unavailable when no read connection came free in time; internal on any other failure.
pub async fn search_sqlite(reads: &SqliteReads, query: &SearchQuery) -> CatalogResult<SearchPage> {
    let backend = DatabaseBackend::Sqlite;
    let (Some(page), Some(count)) = (page_statement(backend, query), count_statement(backend, query)) else {
        return Ok(SearchPage {
            rows: Vec::new(),
            total: 0,
        });
    };
    let sort = query.sort;
    let (models, total) = reads
        .read("search", "books", move |connection| {
            let mut statement = connection.prepare_cached(&page.sql)?;
            let columns = BookColumns::of(&statement)?;
            let score = match sort {
                BookSort::Relevance => Some(statement.column_index("score")?),
                _ => None,
            };
            let models = statement
                .query_map(params_from_iter(sqlite_parameters(&page)?), |row| {
                    let score = score.map(|index| row.get::<_, f64>(index)).transpose()?;
                    Ok((Model::from_sqlite_row(row, &columns)?, score))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let total: i64 = connection
                .prepare_cached(&count.sql)?
                .query_row(params_from_iter(sqlite_parameters(&count)?), |row| {
                    row.get("total")
                })?;
            Ok((models, total))
        })
        .await?;
    let mut rows = Vec::with_capacity(models.len());
    for (model, score) in models {
        let cursor = cursor_after(sort, &model, score);
        rows.push((model.into_book()?, cursor));
    }
    Ok(SearchPage { rows, total })
}

/// Where a text search's rows carry their `score`.
fn score_column(row: &QueryResult) -> Result<usize, sea_orm::DbErr> {
    row.column_names()
        .iter()
        .position(|name| name == "score")
        .ok_or_else(|| sea_orm::DbErr::Type("a text search row has no column `score`".to_owned()))
}

/// Reads one row of a page: the book at the positions found once for the page, and the
/// `score` when the page is by relevance.
fn read_row(
    row: &QueryResult,
    sort: BookSort,
    columns: &BookColumns,
    score: Option<usize>,
) -> CatalogResult<(Book, Cursor)> {
    let model = Model::from_query_row(row, columns).classify("search")?;
    let score = score
        .map(|index| row.try_get_by_index::<f64>(index))
        .transpose()
        .classify("search")?;
    let cursor = cursor_after(sort, &model, score);
    Ok((model.into_book()?, cursor))
}

/// Returns the cursor that continues after `book`.
fn cursor_after(sort: BookSort, book: &Model, score: Option<f64>) -> Cursor {
    let key = match sort {
        BookSort::Relevance => CursorKey::Score(score.unwrap_or_default()),
        BookSort::Title => CursorKey::Text(book.title_key.clone()),
        BookSort::PriceAsc | BookSort::PriceDesc => CursorKey::Number(book.price_minor),
        BookSort::Newest => CursorKey::Number(i64::from(book.sort_year)),
    };
    Cursor {
        sort,
        key,
        id: book.id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_never_becomes_search_syntax() {
        assert_eq!(fts5_query("Harry Potter").unwrap(), "\"harry\" \"potter\"*");
        assert_eq!(
            fts5_query("a\" OR title:* NEAR(").unwrap(),
            "\"a\" \"or\" \"title\" \"near\"*"
        );
        assert_eq!(fts5_query("  ?! "), None);
        assert_eq!(tsquery("Harry Potter's").unwrap(), "'harry' & 'potter' & 's':*");
        assert_eq!(
            tsquery("'; DROP TABLE books; --").unwrap(),
            "'drop' & 'table' & 'books':*"
        );
    }

    #[test]
    fn postgres_placeholders_are_numbered_in_order() {
        let query = SearchQuery {
            author: Some("tolkien".to_owned()),
            min_price_minor: Some(100),
            ..unfiltered_title_page()
        };
        let statement = page_statement(DatabaseBackend::Postgres, &query).unwrap();
        assert!(statement.sql.contains("a.name_key = $1"), "{}", statement.sql);
        assert!(statement.sql.contains("b.price_minor >= $2"));
        assert!(statement.sql.ends_with("LIMIT 21"), "{}", statement.sql);

        // The total's subquery comes first in the text, so its values are bound first.
        let statement = page_with_total_statement(DatabaseBackend::Postgres, &query).unwrap();
        for fragment in [
            "a.name_key = $1",
            "b.price_minor >= $2",
            "a.name_key = $3",
            "b.price_minor >= $4",
        ] {
            assert!(statement.sql.contains(fragment), "{fragment}: {}", statement.sql);
        }
        // The books' columns, not PostgreSQL's search vector.
        assert!(
            statement.sql.starts_with("SELECT id, search_rowid, isbn13,"),
            "{}",
            statement.sql
        );
        assert_eq!(statement.values.unwrap().0.len(), 4);
    }

    /// The storefront's first page: every book on sale by title, 20 a page.
    fn unfiltered_title_page() -> SearchQuery {
        SearchQuery {
            text: None,
            isbn: None,
            author: None,
            topic: None,
            min_price_minor: None,
            max_price_minor: None,
            min_year: None,
            max_year: None,
            language: None,
            in_stock: None,
            sort: BookSort::Title,
            page_size: 20,
            after: None,
        }
    }

    /// An ISBN-13 with a valid check digit, from a number.
    fn isbn(number: u32) -> crate::domain::Isbn13 {
        let body = format!("978{number:09}");
        let sum: u32 = body
            .bytes()
            .enumerate()
            .map(|(index, digit)| u32::from(digit - b'0') * if index % 2 == 0 { 1 } else { 3 })
            .sum();
        let isbn = format!("{body}{}", (10 - sum % 10) % 10);
        crate::domain::Isbn13::parse("isbn", &isbn).unwrap()
    }

    #[tokio::test]
    async fn searches_on_the_sqlite_read_connections_answer_exactly_as_through_sea_orm() {
        use crate::domain::BookDraft;
        let directory = std::env::temp_dir().join(format!("catalog-reads-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}/catalog.db?mode=rwc", directory.display());
        let db = platform::store::open_database::<crate::migration::Migrator>(&url, true)
            .await
            .unwrap();
        let reads = SqliteReads::open(&url).unwrap().expect("a SQLite URL");
        let catalog = crate::ops::Catalog::new(db.clone(), None);
        let mut ids = Vec::new();
        for number in 0..45u32 {
            let draft = BookDraft {
                isbn: isbn(number),
                title: format!(
                    "{} of the Ring {number}",
                    ["Fellowship", "Return", "Tale"][number as usize % 3]
                ),
                authors: vec![["Tolkien", "Le Guin", "Pratchett"][number as usize % 3].to_owned()],
                topics: vec![["fantasy", "classics"][number as usize % 2].to_owned()],
                description: if number % 4 == 0 {
                    String::new()
                } else {
                    format!("Book {number}, a \"quoted\" line")
                },
                published_year: (number % 5 != 0).then_some(1950 + i32::try_from(number).unwrap()),
                language: ["eng", "en", ""][number as usize % 3].to_owned(),
                price: proto::types::Money::parse("price", 500 + i64::from(number % 7) * 100, "USD").unwrap(),
                cover_url: String::new(),
            };
            ids.push(catalog.create_book(draft).await.unwrap().id);
        }
        catalog.delete_book(ids[3]).await.unwrap();

        let all = unfiltered_title_page();
        let mut queries = Vec::new();
        for sort in [
            BookSort::Title,
            BookSort::PriceAsc,
            BookSort::PriceDesc,
            BookSort::Newest,
        ] {
            queries.push(SearchQuery { sort, ..all.clone() });
        }
        queries.push(SearchQuery {
            text: Some("ring tolk".to_owned()),
            sort: BookSort::Relevance,
            page_size: 7,
            ..all.clone()
        });
        queries.push(SearchQuery {
            author: Some("le guin".to_owned()),
            topic: Some("classics".to_owned()),
            min_price_minor: Some(600),
            max_price_minor: Some(1000),
            min_year: Some(1960),
            max_year: Some(1990),
            in_stock: Some(false),
            ..all.clone()
        });
        queries.push(SearchQuery {
            language: Some("eng".to_owned()),
            sort: BookSort::PriceDesc,
            ..all.clone()
        });
        queries.push(SearchQuery {
            isbn: Some(isbn(7)),
            ..all.clone()
        });
        queries.push(SearchQuery {
            text: Some(" ?! ".to_owned()),
            ..all.clone()
        });
        let mut compared = 0;
        for mut query in queries {
            // Every page of each query, following the cursors both paths hand out.
            loop {
                let through_sea_orm = search(&db, &query).await.unwrap();
                let through_reads = search_sqlite(&reads, &query).await.unwrap();
                assert_eq!(through_reads.total, through_sea_orm.total, "{query:?}");
                assert_eq!(through_reads.rows, through_sea_orm.rows, "{query:?}");
                compared += through_reads.rows.len();
                let page_size = usize::try_from(query.page_size).unwrap();
                if through_reads.rows.len() <= page_size {
                    break;
                }
                query.after = Some(through_reads.rows[page_size - 1].1.clone());
            }
        }
        assert!(compared > 150, "{compared} rows compared");
        // Past the last match: no rows, and the total still counts every match.
        for query in [
            all.clone(),
            SearchQuery {
                text: Some("ring".to_owned()),
                sort: BookSort::Relevance,
                ..all.clone()
            },
        ] {
            let everything = SearchQuery {
                page_size: 100,
                ..query.clone()
            };
            let last = search(&db, &everything).await.unwrap().rows.pop().unwrap().1;
            let past = SearchQuery {
                after: Some(last),
                ..query
            };
            let through_sea_orm = search(&db, &past).await.unwrap();
            assert!(through_sea_orm.rows.is_empty(), "{past:?}");
            assert!(through_sea_orm.total > 10, "{past:?}: {}", through_sea_orm.total);
            assert_eq!(
                search_sqlite(&reads, &past).await.unwrap().total,
                through_sea_orm.total
            );
        }
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(directory);
    }

    #[tokio::test]
    async fn the_count_of_an_unfiltered_page_reads_one_counter_row() {
        let directory = std::env::temp_dir().join(format!("catalog-count-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}/catalog.db?mode=rwc", directory.display());
        let db = platform::store::open_database::<crate::migration::Migrator>(&url, true)
            .await
            .unwrap();
        let query = unfiltered_title_page();
        let count = count_statement(DatabaseBackend::Sqlite, &query).unwrap();
        let plan = db
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {}", count.sql),
            ))
            .await
            .unwrap();
        let details: Vec<String> = plan
            .iter()
            .map(|row| row.try_get::<String>("", "detail").unwrap())
            .collect();
        assert!(
            details.len() == 1 && details[0].contains("SEARCH catalog_counters"),
            "{details:?}"
        );
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(directory);
    }
}
