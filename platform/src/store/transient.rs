//! Telling a store that is briefly gone (a connection cut, a restarting server, a full
//! pool, a busy SQLite file) from a real failure, so callers hear UNAVAILABLE and retry
//! instead of INTERNAL.

use sea_orm::{DbErr, RuntimeErr};

/// Returns whether `error`'s cause chain holds a database failure that a retry can cure.
pub fn is_transient(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(db) = cause.downcast_ref::<DbErr>() {
            return is_transient_db(db);
        }
        match cause.downcast_ref::<sea_orm::sqlx::Error>() {
            Some(sqlx) => is_transient_sqlx(sqlx),
            None => false,
        }
    })
}

pub(super) fn is_transient_db(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(sqlx))
        | DbErr::Exec(RuntimeErr::SqlxError(sqlx))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => is_transient_sqlx(sqlx),
        _ => false,
    }
}

pub(super) fn is_transient_sqlx(error: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match error {
        Error::Io(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed => true,
        Error::Database(database) => {
            let code = database.code().unwrap_or_default();
            // PostgreSQL: class 08 connection exceptions, 57P01-03 the server shutting down
            // or starting. SQLite: BUSY and LOCKED (with their extended codes).
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "57P01" | "57P02" | "57P03" | "5" | "6" | "261" | "517" | "262"
                )
        }
        _ => false,
    }
}
