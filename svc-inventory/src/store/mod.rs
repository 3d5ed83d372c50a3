//! Hand-written SQL, one file per aggregate, the same text on SQLite and PostgreSQL except
//! for a checkout's two phases ([`phases`]: one statement of CTEs on PostgreSQL, one batch
//! on SQLite). Every stock change carries its rule to the database (a conditional `UPDATE`'s
//! `WHERE`, or the stock CHECK `reserved <= on_hand`), never a read followed by a write. The SQL helpers and the classification of
//! database errors are `platform::store`'s; `error.rs` says what each class means here.

pub mod ledger;
pub mod outbox;
pub mod phases;
pub mod reservation;
pub mod stock;
