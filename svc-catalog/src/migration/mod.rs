//! svc-catalog's schema migrations (sea-orm-migration), numbered and reversible. The search
//! index is the one backend-specific part: FTS5 on SQLite, a weighted `tsvector` with a GIN
//! index on PostgreSQL.

mod m0001_books;
mod m0002_book_events;
mod m0003_live_books_index;
pub(crate) mod m0004_live_books_count;
mod m0005_book_events_pending_index;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration of svc-catalog, oldest first.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_books::Migration),
            Box::new(m0002_book_events::Migration),
            Box::new(m0003_live_books_index::Migration),
            Box::new(m0004_live_books_count::Migration),
            Box::new(m0005_book_events_pending_index::MIGRATION),
        ]
    }
}
