//! svc-inventory's one error type and its one mapping to `tonic::Status`.

use std::collections::HashMap;

use platform::ErrorCode;
use platform::error_code::ERROR_DOMAIN;
use platform::store::{StoreError, Violation};
use proto::inventory::v1 as pb;
use proto::types::InvalidField;
use tonic_types::{ErrorDetails, StatusExt as _};

/// What went wrong, in terms of what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{0}")]
    InvalidArgument(#[from] InvalidField),
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// Some lines are short: nothing was reserved. Every short line is named.
    #[error("not enough stock for {} book(s)", lines.len())]
    OutOfStock { lines: Vec<pb::ShortLine> },
    /// The reservation or order is in a state that forbids this (released, expired,
    /// committed, tombstoned), or stock would go below what is reserved.
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result of every operation of svc-inventory.
pub type InventoryResult<T> = Result<T, InventoryError>;

impl InventoryError {
    /// Returns the mesh-wide code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            InventoryError::InvalidArgument(_) => ErrorCode::BadUserInput,
            InventoryError::NotFound { .. } => ErrorCode::NotFound,
            InventoryError::OutOfStock { .. } => ErrorCode::OutOfStock,
            InventoryError::FailedPrecondition(_) | InventoryError::Conflict(_) => ErrorCode::Conflict,
            InventoryError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<InventoryError> for tonic::Status {
    fn from(error: InventoryError) -> Self {
        match &error {
            InventoryError::InvalidArgument(invalid) => platform::error_code::invalid_field_status(invalid),
            InventoryError::OutOfStock { lines } => {
                platform::error_code::out_of_stock_status(error.to_string(), lines)
            }
            InventoryError::FailedPrecondition(message) => {
                let mut details = ErrorDetails::new();
                details.set_error_info(ErrorCode::Conflict.reason(), ERROR_DOMAIN, HashMap::new());
                tonic::Status::with_error_details(tonic::Code::FailedPrecondition, message.clone(), details)
            }
            InventoryError::Internal(cause) => platform::error_code::internal_status(cause),
            other => other.error_code().status(other.to_string(), ErrorDetails::new()),
        }
    }
}

impl From<StoreError> for InventoryError {
    fn from(error: StoreError) -> Self {
        match error.violation() {
            // Two writers raced for one row (a reservation per order): the loser hears it.
            Some(Violation::Unique) => InventoryError::Conflict(error.what()),
            _ => InventoryError::Internal(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_stock_keeps_its_code_and_names_every_short_book() {
        let lines = vec![
            pb::ShortLine {
                book_id: "a".to_owned(),
                requested: 2,
                available: 1,
            },
            pb::ShortLine {
                book_id: "b".to_owned(),
                requested: 1,
                available: 0,
            },
        ];
        let status = tonic::Status::from(InventoryError::OutOfStock { lines: lines.clone() });
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert_eq!(ErrorCode::from_status(&status), ErrorCode::OutOfStock);
        assert_eq!(platform::error_code::short_lines(&status), lines);
    }
}
