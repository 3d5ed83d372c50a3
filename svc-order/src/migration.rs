//! svc-order's schema migrations (sea-orm-migration), numbered and reversible. Run by
//! `bookstore migrate` and, when `migrate_on_start` is set, at start.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration of svc-order, oldest first. The tables arrive with issue #7.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}
