//! svc-cart's one error type and its one mapping to `tonic::Status`.

use platform::ErrorCode;
use proto::types::InvalidField;
use tonic_types::ErrorDetails;

/// What went wrong, in terms of what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("{0}")]
    InvalidArgument(#[from] InvalidField),
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// Redis or catalog does not answer.
    #[error("{0}")]
    Unavailable(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result of every operation of svc-cart.
pub type CartResult<T> = Result<T, CartError>;

impl CartError {
    /// Returns the mesh-wide code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            CartError::InvalidArgument(_) => ErrorCode::BadUserInput,
            CartError::NotFound { .. } => ErrorCode::NotFound,
            CartError::Unavailable(_) => ErrorCode::Unavailable,
            CartError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<CartError> for tonic::Status {
    fn from(error: CartError) -> Self {
        match &error {
            CartError::InvalidArgument(invalid) => platform::error_code::invalid_field_status(invalid),
            CartError::Internal(cause) => platform::error_code::internal_status(cause),
            other => other.error_code().status(other.to_string(), ErrorDetails::new()),
        }
    }
}
