//! sea-orm entities and queries. `book.rs` writes and reads books (with their authors, topics
//! and search-index row in one transaction); `search.rs` builds the search SQL per backend;
//! `events.rs` is the outbox of book changes.
//! Database errors are classified by `platform::store`; `error.rs` says what each class means.

pub mod book;
pub mod events;
pub mod search;
