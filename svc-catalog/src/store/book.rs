//! The `books` table with `book_authors`, `book_topics` and the search index. Every write of
//! a book rewrites its author, topic and index rows in the same transaction, so a search never
//! sees half a book.

use chrono::{DateTime, SubsecRound as _, Utc};
use platform::store::{Classify as _, traced};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue, ConnectionTrait, DatabaseBackend, QueryOrder as _, Statement};

use proto::types::{BookId, Money};

use crate::domain::BookDraft;
use crate::domain::book::{Book, TopicCount};
use crate::error::{CatalogError, CatalogResult};

/// Where books without a publication year sort under NEWEST.
pub const UNKNOWN_YEAR: i32 = -100_000;

/// One book. `deleted_at` set means soft-deleted: gone from reads and search, kept for the
/// orders that reference it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "books")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub search_rowid: i64,
    #[sea_orm(unique)]
    pub isbn13: String,
    pub title: String,
    pub title_key: String,
    /// JSON array.
    pub authors: String,
    /// JSON array.
    pub topics: String,
    pub description: String,
    pub published_year: Option<i32>,
    pub sort_year: i32,
    pub language: String,
    pub price_minor: i64,
    pub currency: String,
    pub cover_url: String,
    pub in_stock: bool,
    pub stock_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where each column of `books` is in a statement's rows: found by name once per statement,
/// since rusqlite finds a name by comparing it with every column's, row after row.
#[derive(Debug, Clone, Copy)]
pub struct BookColumns {
    id: usize,
    search_rowid: usize,
    isbn13: usize,
    title: usize,
    title_key: usize,
    authors: usize,
    topics: usize,
    description: usize,
    published_year: usize,
    sort_year: usize,
    language: usize,
    price_minor: usize,
    currency: usize,
    cover_url: usize,
    in_stock: usize,
    stock_version: usize,
    created_at: usize,
    updated_at: usize,
    deleted_at: usize,
}

impl BookColumns {
    /// Finds every column of `books` among `statement`'s.
    ///
    /// # Errors
    /// A column the statement does not return.
    pub fn of(statement: &rusqlite::Statement<'_>) -> rusqlite::Result<Self> {
        Self::find(|name| statement.column_index(name))
    }

    /// Finds every column of `books` among a sea-orm row's (any row of the statement; sqlx
    /// too finds a name by hashing it and comparing, column after column, row after row).
    ///
    /// # Errors
    /// A column the row does not have.
    pub fn of_row(row: &QueryResult) -> Result<Self, DbErr> {
        let names = row.column_names();
        Self::find(|name| {
            names
                .iter()
                .position(|column| column == name)
                .ok_or_else(|| DbErr::Type(format!("the books row has no column `{name}`")))
        })
    }

    fn find<E>(index: impl Fn(&str) -> Result<usize, E>) -> Result<Self, E> {
        Ok(Self {
            id: index("id")?,
            search_rowid: index("search_rowid")?,
            isbn13: index("isbn13")?,
            title: index("title")?,
            title_key: index("title_key")?,
            authors: index("authors")?,
            topics: index("topics")?,
            description: index("description")?,
            published_year: index("published_year")?,
            sort_year: index("sort_year")?,
            language: index("language")?,
            price_minor: index("price_minor")?,
            currency: index("currency")?,
            cover_url: index("cover_url")?,
            in_stock: index("in_stock")?,
            stock_version: index("stock_version")?,
            created_at: index("created_at")?,
            updated_at: index("updated_at")?,
            deleted_at: index("deleted_at")?,
        })
    }
}

impl Model {
    /// Reads a `books` row from rusqlite (the SQLite read path, see
    /// [`platform::store::SqliteReads`]): the columns sqlx would give sea-orm, each in the
    /// storage sqlx wrote (a UUID as 16 bytes, a time as RFC 3339 text), at the positions
    /// `columns` found once for the statement.
    ///
    /// # Errors
    /// A column of another type.
    pub fn from_sqlite_row(row: &rusqlite::Row<'_>, columns: &BookColumns) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(columns.id)?,
            search_rowid: row.get(columns.search_rowid)?,
            isbn13: row.get(columns.isbn13)?,
            title: row.get(columns.title)?,
            title_key: row.get(columns.title_key)?,
            authors: row.get(columns.authors)?,
            topics: row.get(columns.topics)?,
            description: row.get(columns.description)?,
            published_year: row.get(columns.published_year)?,
            sort_year: row.get(columns.sort_year)?,
            language: row.get(columns.language)?,
            price_minor: row.get(columns.price_minor)?,
            currency: row.get(columns.currency)?,
            cover_url: row.get(columns.cover_url)?,
            in_stock: row.get(columns.in_stock)?,
            stock_version: row.get(columns.stock_version)?,
            created_at: row.get(columns.created_at)?,
            updated_at: row.get(columns.updated_at)?,
            deleted_at: row.get(columns.deleted_at)?,
        })
    }

    /// Reads a `books` row from sea-orm (the PostgreSQL read path) at the positions
    /// `columns` found once for the statement.
    ///
    /// # Errors
    /// A column of another type.
    pub fn from_query_row(row: &QueryResult, columns: &BookColumns) -> Result<Self, DbErr> {
        Ok(Self {
            id: row.try_get_by_index(columns.id)?,
            search_rowid: row.try_get_by_index(columns.search_rowid)?,
            isbn13: row.try_get_by_index(columns.isbn13)?,
            title: row.try_get_by_index(columns.title)?,
            title_key: row.try_get_by_index(columns.title_key)?,
            authors: row.try_get_by_index(columns.authors)?,
            topics: row.try_get_by_index(columns.topics)?,
            description: row.try_get_by_index(columns.description)?,
            published_year: row.try_get_by_index(columns.published_year)?,
            sort_year: row.try_get_by_index(columns.sort_year)?,
            language: row.try_get_by_index(columns.language)?,
            price_minor: row.try_get_by_index(columns.price_minor)?,
            currency: row.try_get_by_index(columns.currency)?,
            cover_url: row.try_get_by_index(columns.cover_url)?,
            in_stock: row.try_get_by_index(columns.in_stock)?,
            stock_version: row.try_get_by_index(columns.stock_version)?,
            created_at: row.try_get_by_index(columns.created_at)?,
            updated_at: row.try_get_by_index(columns.updated_at)?,
            deleted_at: row.try_get_by_index(columns.deleted_at)?,
        })
    }

    /// Returns the authors, in order.
    pub fn author_list(&self) -> Vec<String> {
        serde_json::from_str(&self.authors).unwrap_or_default()
    }

    /// Returns the topics.
    pub fn topic_list(&self) -> Vec<String> {
        serde_json::from_str(&self.topics).unwrap_or_default()
    }

    /// Returns the book as the catalog sells it.
    ///
    /// # Errors
    /// Internal when the row breaks what every write guarantees (a price's currency, the
    /// author and topic lists): it is reported, never read as an empty or zero value.
    pub fn into_book(self) -> CatalogResult<Book> {
        let id = self.id;
        let broken = |what: &str, error: &dyn std::fmt::Display| {
            CatalogError::Internal(anyhow::anyhow!("book {id} has a broken {what}: {error}"))
        };
        Ok(Book {
            id: self.id.into(),
            isbn13: self.isbn13,
            title: self.title,
            authors: serde_json::from_str(&self.authors).map_err(|error| broken("author list", &error))?,
            topics: serde_json::from_str(&self.topics).map_err(|error| broken("topic list", &error))?,
            description: self.description,
            published_year: self.published_year,
            language: self.language,
            price: Money::parse("price", self.price_minor, &self.currency)
                .map_err(|error| broken("price", &error))?,
            cover_url: self.cover_url,
            in_stock: self.in_stock,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn json(values: &[String]) -> CatalogResult<String> {
    serde_json::to_string(values).map_err(|error| CatalogError::Internal(error.into()))
}

/// Reserves `count` search row ids (a block, for batch imports).
async fn reserve_search_rowids(db: &impl ConnectionTrait, count: i64) -> CatalogResult<i64> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "UPDATE catalog_counters SET value = value + $1 WHERE name = 'search_rowid' RETURNING value"
        }
        _ => "UPDATE catalog_counters SET value = value + ? WHERE name = 'search_rowid' RETURNING value",
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [count.into()]))
        .await
        .classify("book")?
        .ok_or_else(|| CatalogError::Internal(anyhow::anyhow!("catalog_counters has no search_rowid row")))?;
    let last: i64 = row.try_get("", "value").classify("book")?;
    Ok(last - count + 1)
}

/// Inserts new books (inside the caller's transaction). Returns them in input order.
///
/// # Errors
/// `AlreadyExists` when an ISBN is taken.
pub async fn insert_many(db: &impl ConnectionTrait, drafts: &[BookDraft]) -> CatalogResult<Vec<Book>> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let first_rowid = reserve_search_rowids(db, i64::try_from(drafts.len()).unwrap_or(i64::MAX)).await?;
    // Microseconds: what PostgreSQL keeps, so the answer equals what a later read returns.
    let now = Utc::now().trunc_subsecs(6);
    let mut models = Vec::new();
    for (offset, draft) in drafts.iter().enumerate() {
        models.push(Model {
            id: Uuid::now_v7(),
            search_rowid: first_rowid + i64::try_from(offset).unwrap_or_default(),
            isbn13: draft.isbn.to_string(),
            title: draft.title.clone(),
            title_key: draft.title.to_lowercase(),
            authors: json(&draft.authors)?,
            topics: json(&draft.topics)?,
            description: draft.description.clone(),
            published_year: draft.published_year,
            sort_year: draft.published_year.unwrap_or(UNKNOWN_YEAR),
            language: draft.language.clone(),
            price_minor: draft.price.minor(),
            currency: draft.price.currency().to_string(),
            cover_url: draft.cover_url.clone(),
            in_stock: false,
            stock_version: 0,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        });
    }
    let rows: Vec<ActiveModel> = models.iter().cloned().map(ActiveModel::from).collect();
    Entity::insert_many(rows)
        .exec(db)
        .await
        .classify("a book with this isbn already exists")?;
    for model in &models {
        write_children(db, model).await?;
    }
    models.into_iter().map(Model::into_book).collect()
}

/// Replaces a live book's fields (inside the caller's transaction).
///
/// # Errors
/// `NotFound` for an unknown or deleted book; `AlreadyExists` when the new ISBN is taken.
pub async fn update(db: &impl ConnectionTrait, id: BookId, draft: &BookDraft) -> CatalogResult<Book> {
    let existing = live_model(db, id).await?;
    let mut row: ActiveModel = existing.into();
    row.isbn13 = ActiveValue::Set(draft.isbn.to_string());
    row.title = ActiveValue::Set(draft.title.clone());
    row.title_key = ActiveValue::Set(draft.title.to_lowercase());
    row.authors = ActiveValue::Set(json(&draft.authors)?);
    row.topics = ActiveValue::Set(json(&draft.topics)?);
    row.description = ActiveValue::Set(draft.description.clone());
    row.published_year = ActiveValue::Set(draft.published_year);
    row.sort_year = ActiveValue::Set(draft.published_year.unwrap_or(UNKNOWN_YEAR));
    row.language = ActiveValue::Set(draft.language.clone());
    row.price_minor = ActiveValue::Set(draft.price.minor());
    row.currency = ActiveValue::Set(draft.price.currency().to_string());
    row.cover_url = ActiveValue::Set(draft.cover_url.clone());
    row.updated_at = ActiveValue::Set(Utc::now().trunc_subsecs(6));
    let updated = row
        .update(db)
        .await
        .classify("a book with this isbn already exists")?;
    clear_children(db, &updated).await?;
    write_children(db, &updated).await?;
    updated.into_book()
}

/// Soft-deletes a book: it leaves reads and search. Idempotent.
///
/// # Errors
/// `NotFound` for a book that never existed.
pub async fn soft_delete(db: &impl ConnectionTrait, id: BookId) -> CatalogResult<()> {
    let Some(existing) = Entity::find_by_id(id.as_uuid()).one(db).await.classify("book")? else {
        return Err(CatalogError::NotFound { entity: "book" });
    };
    if existing.deleted_at.is_some() {
        return Ok(());
    }
    let mut row: ActiveModel = existing.clone().into();
    row.deleted_at = ActiveValue::Set(Some(Utc::now()));
    row.update(db).await.classify("book")?;
    // Topic counts and filters only see live books; the index forgets it too.
    clear_children(db, &existing).await
}

async fn write_children(db: &impl ConnectionTrait, book: &Model) -> CatalogResult<()> {
    let backend = db.get_database_backend();
    let authors = book.author_list();
    for (position, name) in authors.iter().enumerate() {
        let sql = platform::store::numbered_placeholders(
            backend,
            "INSERT INTO book_authors (book_id, position, name, name_key) VALUES (?, ?, ?, ?)",
        );
        let values = [
            book.id.into(),
            i32::try_from(position).unwrap_or(i32::MAX).into(),
            name.clone().into(),
            name.to_lowercase().into(),
        ];
        execute(db, Statement::from_sql_and_values(backend, sql, values)).await?;
    }
    for topic in book.topic_list() {
        let sql = platform::store::numbered_placeholders(
            backend,
            "INSERT INTO book_topics (book_id, topic, topic_key) VALUES (?, ?, ?)",
        );
        let values = [book.id.into(), topic.clone().into(), topic.to_lowercase().into()];
        execute(db, Statement::from_sql_and_values(backend, sql, values)).await?;
    }
    if backend == DatabaseBackend::Sqlite {
        let sql = "INSERT INTO books_fts (rowid, title, authors, description, isbn) VALUES (?, ?, ?, ?, ?)";
        let values = [
            book.search_rowid.into(),
            book.title.clone().into(),
            authors.join(", ").into(),
            book.description.clone().into(),
            book.isbn13.clone().into(),
        ];
        execute(db, Statement::from_sql_and_values(backend, sql, values)).await?;
    }
    Ok(())
}

async fn clear_children(db: &impl ConnectionTrait, book: &Model) -> CatalogResult<()> {
    let backend = db.get_database_backend();
    for table in ["book_authors", "book_topics"] {
        let sql = platform::store::numbered_placeholders(
            backend,
            &format!("DELETE FROM {table} WHERE book_id = ?"),
        );
        execute(db, Statement::from_sql_and_values(backend, sql, [book.id.into()])).await?;
    }
    if backend == DatabaseBackend::Sqlite {
        let statement = Statement::from_sql_and_values(
            backend,
            "DELETE FROM books_fts WHERE rowid = ?",
            [book.search_rowid.into()],
        );
        execute(db, statement).await?;
    }
    Ok(())
}

async fn execute(db: &impl ConnectionTrait, statement: Statement) -> CatalogResult<()> {
    db.execute_raw(statement).await.classify("book")?;
    Ok(())
}

/// Returns a live (not deleted) book.
///
/// # Errors
/// `NotFound` for an unknown or deleted book.
pub async fn get_live(db: &impl ConnectionTrait, id: BookId) -> CatalogResult<Book> {
    live_model(db, id).await?.into_book()
}

async fn live_model(db: &impl ConnectionTrait, id: BookId) -> CatalogResult<Model> {
    let found = Entity::find_by_id(id.as_uuid())
        .filter(Column::DeletedAt.is_null())
        .one(db);
    traced(db, "SELECT", "books", found)
        .await
        .classify("book")?
        .ok_or(CatalogError::NotFound { entity: "book" })
}

/// Returns the live books among `ids` (any order).
///
/// # Errors
/// Internal on a database failure.
pub async fn find_live(db: &impl ConnectionTrait, ids: &[BookId]) -> CatalogResult<Vec<Book>> {
    let found = Entity::find()
        .filter(Column::Id.is_in(ids.iter().map(BookId::as_uuid)))
        .filter(Column::DeletedAt.is_null())
        .all(db);
    let rows = traced(db, "SELECT", "books", found).await.classify("book")?;
    rows.into_iter().map(Model::into_book).collect()
}

/// Returns the live book with this ISBN-13.
///
/// # Errors
/// Internal on a database failure.
pub async fn find_by_isbn(db: &impl ConnectionTrait, isbn13: &str) -> CatalogResult<Option<Book>> {
    let found = Entity::find()
        .filter(Column::Isbn13.eq(isbn13))
        .filter(Column::DeletedAt.is_null())
        .one(db);
    let row = traced(db, "SELECT", "books", found).await.classify("book")?;
    row.map(Model::into_book).transpose()
}

/// Returns which of `isbns` are taken (by live or deleted books: an ISBN is never reused).
///
/// # Errors
/// Internal on a database failure.
pub async fn existing_isbns(db: &impl ConnectionTrait, isbns: &[String]) -> CatalogResult<Vec<String>> {
    let rows = Entity::find()
        .filter(Column::Isbn13.is_in(isbns.to_vec()))
        .order_by_asc(Column::Isbn13)
        .all(db)
        .await
        .classify("book")?;
    Ok(rows.into_iter().map(|row| row.isbn13).collect())
}

/// Records a stock event: sets `in_stock` unless a newer event was already applied.
/// Returns false when the event was old (or the book unknown): redelivery changes nothing.
///
/// # Errors
/// Internal on a database failure.
pub async fn apply_stock(
    db: &impl ConnectionTrait,
    id: BookId,
    in_stock: bool,
    version: i64,
) -> CatalogResult<bool> {
    let result = Entity::update_many()
        .col_expr(Column::InStock, Expr::value(in_stock))
        .col_expr(Column::StockVersion, Expr::value(version))
        .filter(Column::Id.eq(id.as_uuid()))
        .filter(Column::StockVersion.lt(version))
        .exec(db)
        .await
        .classify("book")?;
    Ok(result.rows_affected == 1)
}

/// Refreshes the planner's statistics after a bulk load, so searches start from the most
/// selective index.
///
/// # Errors
/// Internal on a database failure.
pub async fn refresh_statistics(db: &impl ConnectionTrait) -> CatalogResult<()> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => "ANALYZE",
        _ => "ANALYZE books, book_authors, book_topics",
    };
    db.execute_unprepared(sql).await.classify("statistics")?;
    Ok(())
}

/// Counts live books per topic, most books first.
///
/// # Errors
/// Internal on a database failure.
pub async fn topic_counts(db: &impl ConnectionTrait) -> CatalogResult<Vec<TopicCount>> {
    let backend = db.get_database_backend();
    // Children of deleted books are removed with the delete, so no join is needed.
    let sql = "SELECT MIN(topic) AS name, COUNT(*) AS books FROM book_topics GROUP BY topic_key ORDER BY books DESC, name ASC";
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .classify("topic")?;
    let mut counts = Vec::new();
    for row in rows {
        let name: String = row.try_get("", "name").classify("topic")?;
        let books: i64 = row.try_get("", "books").classify("topic")?;
        counts.push(TopicCount {
            name,
            book_count: books,
        });
    }
    Ok(counts)
}
