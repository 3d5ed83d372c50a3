//! Books, their authors and topics, the search index, and the stock-event bookkeeping.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, boolean, integer, integer_null, pk_uuid, string, string_uniq, text,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

#[derive(Debug, DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Books {
    Table,
    Id,
    SearchRowid,
    Isbn13,
    Title,
    TitleKey,
    Authors,
    Topics,
    Description,
    PublishedYear,
    SortYear,
    Language,
    PriceMinor,
    Currency,
    CoverUrl,
    InStock,
    StockVersion,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum BookAuthors {
    Table,
    BookId,
    Position,
    Name,
    NameKey,
}

#[derive(DeriveIden)]
enum BookTopics {
    Table,
    BookId,
    Topic,
    TopicKey,
}

#[derive(DeriveIden)]
enum CatalogCounters {
    Table,
    Name,
    Value,
}

// async_trait's expansion only matches the trait with the elided `SchemaManager` lifetime.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Books::Table)
                    .col(pk_uuid(Books::Id))
                    // The integer key of the SQLite FTS5 row; from `catalog_counters`.
                    .col(big_integer(Books::SearchRowid).unique_key())
                    .col(string_uniq(Books::Isbn13))
                    .col(text(Books::Title))
                    // Lower-cased title: the TITLE sort and its keyset.
                    .col(text(Books::TitleKey))
                    // JSON arrays, in order, for display; `book_authors`/`book_topics` for filters.
                    .col(text(Books::Authors))
                    .col(text(Books::Topics))
                    .col(text(Books::Description))
                    .col(integer_null(Books::PublishedYear))
                    // published_year, or far in the past when unknown: the NEWEST sort.
                    .col(integer(Books::SortYear))
                    .col(string(Books::Language))
                    .col(big_integer(Books::PriceMinor))
                    .col(string(Books::Currency))
                    .col(text(Books::CoverUrl))
                    .col(boolean(Books::InStock).default(false))
                    // Inventory's change sequence of the last applied stock event: older
                    // events are ignored, so redelivery never flips the flag back.
                    .col(big_integer(Books::StockVersion).default(0))
                    .col(timestamp_with_time_zone(Books::CreatedAt))
                    .col(timestamp_with_time_zone(Books::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Books::DeletedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("books_by_title", vec![Books::TitleKey, Books::Id]),
            ("books_by_price", vec![Books::PriceMinor, Books::Id]),
            ("books_by_year", vec![Books::SortYear, Books::Id]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Books::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(BookAuthors::Table)
                    .col(uuid(BookAuthors::BookId))
                    .col(integer(BookAuthors::Position))
                    .col(text(BookAuthors::Name))
                    .col(text(BookAuthors::NameKey))
                    .primary_key(
                        Index::create()
                            .col(BookAuthors::BookId)
                            .col(BookAuthors::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BookAuthors::Table, BookAuthors::BookId)
                            .to(Books::Table, Books::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("book_authors_by_name")
                    .table(BookAuthors::Table)
                    .col(BookAuthors::NameKey)
                    .col(BookAuthors::BookId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BookTopics::Table)
                    .col(uuid(BookTopics::BookId))
                    .col(text(BookTopics::Topic))
                    .col(text(BookTopics::TopicKey))
                    .primary_key(Index::create().col(BookTopics::BookId).col(BookTopics::TopicKey))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BookTopics::Table, BookTopics::BookId)
                            .to(Books::Table, Books::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("book_topics_by_topic")
                    .table(BookTopics::Table)
                    .col(BookTopics::TopicKey)
                    .col(BookTopics::BookId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CatalogCounters::Table)
                    .col(string(CatalogCounters::Name).primary_key())
                    .col(big_integer(CatalogCounters::Value))
                    .to_owned(),
            )
            .await?;
        let connection = manager.get_connection();
        connection
            .execute_unprepared("INSERT INTO catalog_counters (name, value) VALUES ('search_rowid', 0)")
            .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                // An FTS5 index whose rowid is books.search_rowid, written in the book's transaction.
                connection
                    .execute_unprepared(
                        "CREATE VIRTUAL TABLE books_fts USING fts5(\
                         title, authors, description, isbn, \
                         tokenize = 'unicode61 remove_diacritics 2')",
                    )
                    .await?;
            }
            _ => {
                // Title and ISBN weigh most, then authors, then the description.
                connection
                    .execute_unprepared(
                        "ALTER TABLE books ADD COLUMN search tsvector GENERATED ALWAYS AS (\
                         setweight(to_tsvector('simple', coalesce(title, '')), 'A') || \
                         setweight(to_tsvector('simple', isbn13), 'A') || \
                         setweight(to_tsvector('simple', coalesce(authors, '')), 'B') || \
                         setweight(to_tsvector('simple', coalesce(description, '')), 'C')) STORED",
                    )
                    .await?;
                connection
                    .execute_unprepared("CREATE INDEX books_search ON books USING GIN (search)")
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE books_fts")
                .await?;
        }
        for table in [
            CatalogCounters::Table.into_iden(),
            BookTopics::Table.into_iden(),
            BookAuthors::Table.into_iden(),
            Books::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
