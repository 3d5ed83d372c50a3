//! svc-catalog's vocabulary: values parsed once from the wire.

pub mod book;
pub mod isbn;
pub mod search;

pub use book::BookDraft;
pub use isbn::Isbn13;
pub use search::{BookSort, Cursor, SearchQuery};
