//! How many books are on sale, kept by the database itself: a `live_books` row in
//! `catalog_counters` that triggers on `books` move whenever a book appears, is deleted or
//! comes back, in the writing transaction. An unfiltered catalogue page (the storefront's
//! first page) reads its total from that row instead of counting every live book, the one
//! statement that grew with the catalogue (README, "CPU per page"). Triggers rather than
//! code in each write, so no write path (create, import, delete, a future one) can forget it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(Debug, DeriveMigrationName)]
pub(crate) struct Migration;

/// The counter's row in `catalog_counters`.
pub(crate) const LIVE_BOOKS: &str = "live_books";

const SQLITE_UP: [&str; 3] = [
    "CREATE TRIGGER books_live_count_insert AFTER INSERT ON books WHEN NEW.deleted_at IS NULL \
     BEGIN UPDATE catalog_counters SET value = value + 1 WHERE name = 'live_books'; END",
    "CREATE TRIGGER books_live_count_update AFTER UPDATE OF deleted_at ON books \
     WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) \
     BEGIN UPDATE catalog_counters \
     SET value = value + (NEW.deleted_at IS NULL) - (OLD.deleted_at IS NULL) \
     WHERE name = 'live_books'; END",
    "CREATE TRIGGER books_live_count_delete AFTER DELETE ON books WHEN OLD.deleted_at IS NULL \
     BEGIN UPDATE catalog_counters SET value = value - 1 WHERE name = 'live_books'; END",
];

const SQLITE_DOWN: [&str; 3] = [
    "DROP TRIGGER books_live_count_insert",
    "DROP TRIGGER books_live_count_update",
    "DROP TRIGGER books_live_count_delete",
];

const POSTGRES_UP: [&str; 2] = [
    "CREATE FUNCTION books_live_count() RETURNS trigger LANGUAGE plpgsql AS $$ \
     DECLARE change bigint := 0; \
     BEGIN \
       IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN change := change + 1; END IF; \
       IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN change := change - 1; END IF; \
       IF change <> 0 THEN \
         UPDATE catalog_counters SET value = value + change WHERE name = 'live_books'; \
       END IF; \
       RETURN NULL; \
     END $$",
    "CREATE TRIGGER books_live_count AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON books \
     FOR EACH ROW EXECUTE FUNCTION books_live_count()",
];

const POSTGRES_DOWN: [&str; 2] = [
    "DROP TRIGGER books_live_count ON books",
    "DROP FUNCTION books_live_count()",
];

// async_trait's expansion only matches the trait with the elided `SchemaManager` lifetime.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        let backend = manager.get_database_backend();
        // Migrations run in one transaction; on SQLite it holds the write lock, on PostgreSQL
        // a replica of the previous release may still write books, so their table is locked
        // against writes until the triggers exist and no book escapes the count.
        if backend == DatabaseBackend::Postgres {
            connection
                .execute_unprepared("LOCK TABLE books IN SHARE ROW EXCLUSIVE MODE")
                .await?;
        }
        connection
            .execute_unprepared(
                "INSERT INTO catalog_counters (name, value) \
                 SELECT 'live_books', COUNT(*) FROM books WHERE deleted_at IS NULL",
            )
            .await?;
        let statements: &[&str] = match backend {
            DatabaseBackend::Sqlite => &SQLITE_UP,
            _ => &POSTGRES_UP,
        };
        for statement in statements {
            connection.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => &SQLITE_DOWN,
            _ => &POSTGRES_DOWN,
        };
        for statement in statements {
            connection.execute_unprepared(statement).await?;
        }
        connection
            .execute_unprepared("DELETE FROM catalog_counters WHERE name = 'live_books'")
            .await?;
        Ok(())
    }
}
