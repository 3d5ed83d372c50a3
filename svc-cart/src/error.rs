//! svc-cart's refusals. The failures every service shares (bad input, not found, internal)
//! and the one mapping to `tonic::Status` are `platform::error`'s.

use platform::ErrorCode;
use platform::error::{Refusal, ServiceError};

/// What only svc-cart refuses with.
#[derive(Debug, thiserror::Error)]
pub enum CartRefusal {
    /// Redis or catalog does not answer.
    #[error("{0}")]
    Unavailable(&'static str),
}

/// Every error of svc-cart.
pub type CartError = ServiceError<CartRefusal>;

/// The result of every operation of svc-cart.
pub type CartResult<T> = Result<T, CartError>;

impl Refusal for CartRefusal {
    fn error_code(&self) -> ErrorCode {
        match self {
            CartRefusal::Unavailable(_) => ErrorCode::Unavailable,
        }
    }
}
