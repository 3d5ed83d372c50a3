//! svc-inventory's schema migrations (sea-orm-migration), numbered and reversible.

mod m0001_inventory;
mod m0002_outbox_pending_index;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration of svc-inventory, oldest first.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_inventory::Migration),
            Box::new(m0002_outbox_pending_index::MIGRATION),
        ]
    }
}
