//! svc-catalog's operations, one file per RPC group. [`Catalog`] is the cheap-to-clone handle
//! the gRPC adapter calls.

pub mod admin;
pub mod import;
pub mod read;
pub mod search;
pub mod stock_events;

use proto::catalog::v1 as pb;
use sea_orm::DatabaseConnection;

use crate::store::book::Model;

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

/// Returns the wire message of a book.
pub fn to_wire(book: &Model) -> pb::Book {
    pb::Book {
        id: book.id.to_string(),
        isbn13: book.isbn13.clone(),
        title: book.title.clone(),
        authors: book.author_list(),
        topics: book.topic_list(),
        description: book.description.clone(),
        published_year: book.published_year,
        language: book.language.clone(),
        price: Some(proto::common::v1::Money {
            amount_minor: book.price_minor,
            currency: book.currency.clone(),
        }),
        cover_url: book.cover_url.clone(),
        in_stock: book.in_stock,
        created_at: Some(timestamp(book.created_at)),
        updated_at: Some(timestamp(book.updated_at)),
    }
}

fn timestamp(time: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}
