//! svc-user's schema migrations (sea-orm-migration), numbered and reversible. Run by
//! `bookstore migrate` and, when `migrate_on_start` is set, at start. Every statement runs
//! on SQLite and PostgreSQL alike.

mod m0001_accounts;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration of svc-user, oldest first.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_accounts::Migration)]
    }
}
