//! svc-order's schema migrations (sea-orm-migration), numbered and reversible. Run by
//! `bookstore migrate` and, when `migrate_on_start` is set, at start.

mod m0001_orders;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration of svc-order, oldest first.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_orders::Migration)]
    }
}
