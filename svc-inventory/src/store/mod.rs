//! Hand-written SQL, one file per aggregate, the same text on SQLite and PostgreSQL. Every
//! stock change is a conditional `UPDATE` whose `WHERE` carries the rule, so the database
//! decides, never a read followed by a write. The SQL helpers and the classification of
//! database errors are `platform::store`'s; `error.rs` says what each class means here.

pub mod ledger;
pub mod outbox;
pub mod reservation;
pub mod stock;
