//! svc-inventory's schema migrations (sea-orm-migration), numbered and reversible.

mod m0001_inventory;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration of svc-inventory, oldest first.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_inventory::Migration)]
    }
}
