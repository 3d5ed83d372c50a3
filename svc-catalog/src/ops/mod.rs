//! svc-catalog's operations, one file per RPC group, in domain types. [`Catalog`] is the
//! cheap-to-clone handle the gRPC adapter calls.

pub mod admin;
pub mod book_events;
pub mod import;
pub mod read;
pub mod search;
pub mod stock_events;

use std::sync::Arc;

use platform::store::Reads;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

/// The logic handle of svc-catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub(crate) db: DatabaseConnection,
    /// The connections searches run on (see [`Reads`]); `None`: through `db`.
    pub(crate) reads: Option<Reads>,
    /// Woken after a write committed a book event, so the relay publishes it at once.
    pub(crate) changed: Arc<Notify>,
}

impl Catalog {
    /// Creates the handle over a migrated database and its read connections.
    pub fn new(db: DatabaseConnection, reads: Option<Reads>) -> Self {
        Self {
            db,
            reads,
            changed: Arc::new(Notify::new()),
        }
    }
}
