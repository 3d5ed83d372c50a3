//! svc-order's refusals. The failures every service shares (bad input, not found, internal)
//! and the one mapping to `tonic::Status` are `platform::error`'s.

use platform::ErrorCode;
use platform::error::{Detail, Refusal, ServiceError};
use proto::types::ShortLine;

/// What only svc-order refuses with.
#[derive(Debug, thiserror::Error)]
pub enum OrderRefusal {
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
}

/// Every error of svc-order.
pub type OrderError = ServiceError<OrderRefusal>;

/// The result of every operation of svc-order.
pub type OrderResult<T> = Result<T, OrderError>;

impl Refusal for OrderRefusal {
    fn error_code(&self) -> ErrorCode {
        match self {
            OrderRefusal::OutOfStock { .. } => ErrorCode::OutOfStock,
            OrderRefusal::PaymentDeclined { .. } => ErrorCode::PaymentDeclined,
            OrderRefusal::FailedPrecondition(_) => ErrorCode::Conflict,
            OrderRefusal::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    fn detail(&self) -> Detail<'_> {
        match self {
            OrderRefusal::OutOfStock { lines } => Detail::ShortLines(lines),
            OrderRefusal::FailedPrecondition(_) => Detail::Precondition,
            OrderRefusal::PaymentDeclined { .. } | OrderRefusal::Unavailable(_) => Detail::None,
        }
    }
}

/// Maps an upstream's status: unavailability stays retryable, the rest is internal (a caller
/// of svc-order cannot fix another service's refusal).
pub fn upstream_error(service: &'static str, status: &tonic::Status) -> OrderError {
    match ErrorCode::from_status(status) {
        ErrorCode::Unavailable | ErrorCode::Throttled => {
            OrderRefusal::Unavailable(format!("{service} is unavailable, retry shortly")).into()
        }
        _ => OrderError::Internal(anyhow::anyhow!(
            "{service} answered {:?}: {}",
            status.code(),
            status.message()
        )),
    }
}
