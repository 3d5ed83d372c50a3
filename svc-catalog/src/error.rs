//! svc-catalog's one error type and its one mapping to `tonic::Status`.

use platform::ErrorCode;
use platform::store::{StoreError, Violation};
use proto::types::InvalidField;
use tonic_types::ErrorDetails;

/// What went wrong, in terms of what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{0}")]
    InvalidArgument(#[from] InvalidField),
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    #[error("{0}")]
    AlreadyExists(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result of every operation of svc-catalog.
pub type CatalogResult<T> = Result<T, CatalogError>;

impl CatalogError {
    /// Returns the mesh-wide code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            CatalogError::InvalidArgument(_) => ErrorCode::BadUserInput,
            CatalogError::NotFound { .. } => ErrorCode::NotFound,
            CatalogError::AlreadyExists(_) => ErrorCode::Conflict,
            CatalogError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<CatalogError> for tonic::Status {
    fn from(error: CatalogError) -> Self {
        match &error {
            CatalogError::InvalidArgument(invalid) => platform::error_code::invalid_field_status(invalid),
            CatalogError::Internal(cause) => platform::error_code::internal_status(cause),
            other => other.error_code().status(other.to_string(), ErrorDetails::new()),
        }
    }
}

impl From<StoreError> for CatalogError {
    fn from(error: StoreError) -> Self {
        match error.violation() {
            // `what` says what exists: "a book with this isbn already exists".
            Some(Violation::Unique) => CatalogError::AlreadyExists(error.what()),
            Some(Violation::ForeignKey) => CatalogError::NotFound { entity: "book" },
            None => CatalogError::Internal(error.into()),
        }
    }
}
