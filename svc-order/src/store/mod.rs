//! Hand-written SQL, one file per table group, the same text on SQLite and PostgreSQL. Every
//! saga move is a conditional `UPDATE` on the order's current step, so of two drivers (the
//! request and a recovery loop on another replica) exactly one makes each move. The SQL
//! helpers and the classification of database errors are `platform::store`'s.

pub mod orders;
pub mod payments;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
