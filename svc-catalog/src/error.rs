//! svc-catalog's refusals. The failures every service shares (bad input, not found,
//! internal) and the one mapping to `tonic::Status` are `platform::error`'s.

use platform::ErrorCode;
use platform::error::{Refusal, ServiceError};
use platform::store::{StoreError, Violation};

/// What only svc-catalog refuses with.
#[derive(Debug, thiserror::Error)]
pub enum CatalogRefusal {
    /// A unique index holds the value; the message says what exists.
    #[error("{0}")]
    AlreadyExists(&'static str),
}

/// Every error of svc-catalog.
pub type CatalogError = ServiceError<CatalogRefusal>;

/// The result of every operation of svc-catalog.
pub type CatalogResult<T> = Result<T, CatalogError>;

impl Refusal for CatalogRefusal {
    fn error_code(&self) -> ErrorCode {
        match self {
            CatalogRefusal::AlreadyExists(_) => ErrorCode::Conflict,
        }
    }

    fn violated(violation: Violation, error: StoreError) -> CatalogError {
        match violation {
            // `what` says what exists: "a book with this isbn already exists".
            Violation::Unique => CatalogRefusal::AlreadyExists(error.what()).into(),
            Violation::ForeignKey => CatalogError::NotFound { entity: "book" },
        }
    }
}
