//! svc-order's one error type and its one mapping to `tonic::Status`.

use std::collections::HashMap;

use platform::ErrorCode;
use platform::error_code::ERROR_DOMAIN;
use platform::store::StoreError;
use proto::inventory::v1::ShortLine;
use proto::types::InvalidField;
use tonic_types::{ErrorDetails, StatusExt as _};

/// What went wrong, in terms of what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("{0}")]
    InvalidArgument(#[from] InvalidField),
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// Some books are short: the order failed and nothing is held.
    #[error("not enough stock for {} book(s)", lines.len())]
    OutOfStock { lines: Vec<ShortLine> },
    /// The provider declined; `reason` is its code (`card_declined`, `insufficient_funds`).
    #[error("payment declined: {reason}")]
    PaymentDeclined { reason: String },
    /// The order's status forbids this (an illegal status move, cancelling a shipped order).
    #[error("{0}")]
    FailedPrecondition(String),
    /// A store or an upstream service does not answer; retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result of every operation of svc-order.
pub type OrderResult<T> = Result<T, OrderError>;

impl OrderError {
    /// Returns the mesh-wide code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            OrderError::InvalidArgument(_) => ErrorCode::BadUserInput,
            OrderError::NotFound { .. } => ErrorCode::NotFound,
            OrderError::OutOfStock { .. } => ErrorCode::OutOfStock,
            OrderError::PaymentDeclined { .. } => ErrorCode::PaymentDeclined,
            OrderError::FailedPrecondition(_) => ErrorCode::Conflict,
            OrderError::Unavailable(_) => ErrorCode::Unavailable,
            OrderError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Maps an upstream's status: unavailability stays retryable, the rest is internal
    /// (a caller of svc-order cannot fix another service's refusal).
    pub fn upstream(service: &'static str, status: &tonic::Status) -> Self {
        match ErrorCode::from_status(status) {
            ErrorCode::Unavailable | ErrorCode::Throttled => {
                OrderError::Unavailable(format!("{service} is unavailable, retry shortly"))
            }
            _ => OrderError::Internal(anyhow::anyhow!(
                "{service} answered {:?}: {}",
                status.code(),
                status.message()
            )),
        }
    }
}

impl From<OrderError> for tonic::Status {
    fn from(error: OrderError) -> Self {
        match &error {
            OrderError::InvalidArgument(invalid) => platform::error_code::invalid_field_status(invalid),
            OrderError::OutOfStock { lines } => {
                platform::error_code::out_of_stock_status(error.to_string(), lines)
            }
            OrderError::FailedPrecondition(message) => {
                let mut details = ErrorDetails::new();
                details.set_error_info(ErrorCode::Conflict.reason(), ERROR_DOMAIN, HashMap::new());
                tonic::Status::with_error_details(tonic::Code::FailedPrecondition, message.clone(), details)
            }
            OrderError::Internal(cause) => platform::error_code::internal_status(cause),
            other => other.error_code().status(other.to_string(), ErrorDetails::new()),
        }
    }
}

impl From<StoreError> for OrderError {
    /// Every write of svc-order is conditional or `ON CONFLICT DO NOTHING`, so no class of
    /// database failure means anything to its caller: internal, with what it was about
    /// (a store that is briefly gone still reaches the caller as UNAVAILABLE).
    fn from(error: StoreError) -> Self {
        OrderError::Internal(error.into())
    }
}
