//! svc-catalog's operations, one file per RPC group, in domain types. [`Catalog`] is the
//! cheap-to-clone handle the gRPC adapter calls.

pub mod admin;
pub mod import;
pub mod read;
pub mod search;
pub mod stock_events;

use sea_orm::DatabaseConnection;

/// The logic handle of svc-catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub(crate) db: DatabaseConnection,
}

impl Catalog {
    /// Creates the handle over a migrated database.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}
