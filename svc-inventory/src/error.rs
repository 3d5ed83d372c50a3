//! svc-inventory's refusals. The failures every service shares (bad input, not found,
//! internal) and the one mapping to `tonic::Status` are `platform::error`'s.

use platform::ErrorCode;
use platform::error::{Detail, Refusal, ServiceError};
use platform::store::{StoreError, Violation};
use proto::types::ShortLine;

/// What only svc-inventory refuses with.
#[derive(Debug, thiserror::Error)]
pub enum InventoryRefusal {
    /// Some lines are short: nothing was reserved. Every short line is named.
    #[error("not enough stock for {} book(s)", lines.len())]
    OutOfStock { lines: Vec<ShortLine> },
    /// The reservation or order is in a state that forbids this (released, expired,
    /// committed, tombstoned), or stock would go below what is reserved.
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    Conflict(&'static str),
    /// The catalog, asked whether a book exists, does not answer.
    #[error("{0}")]
    Unavailable(&'static str),
}

/// Every error of svc-inventory.
pub type InventoryError = ServiceError<InventoryRefusal>;

/// The result of every operation of svc-inventory.
pub type InventoryResult<T> = Result<T, InventoryError>;

impl Refusal for InventoryRefusal {
    fn error_code(&self) -> ErrorCode {
        match self {
            InventoryRefusal::OutOfStock { .. } => ErrorCode::OutOfStock,
            InventoryRefusal::FailedPrecondition(_) | InventoryRefusal::Conflict(_) => ErrorCode::Conflict,
            InventoryRefusal::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    fn detail(&self) -> Detail<'_> {
        match self {
            InventoryRefusal::OutOfStock { lines } => Detail::ShortLines(lines),
            InventoryRefusal::FailedPrecondition(_) => Detail::Precondition,
            InventoryRefusal::Conflict(_) | InventoryRefusal::Unavailable(_) => Detail::None,
        }
    }

    fn violated(violation: Violation, error: StoreError) -> InventoryError {
        match violation {
            // Two writers raced for one row (a reservation per order): the loser hears it.
            Violation::Unique => InventoryRefusal::Conflict(error.what()).into(),
            Violation::ForeignKey => InventoryError::Internal(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_stock_keeps_its_code_and_names_every_short_book() {
        let lines = vec![
            ShortLine {
                book_id: proto::types::BookId::generate(),
                requested: 2,
                available: 1,
            },
            ShortLine {
                book_id: proto::types::BookId::generate(),
                requested: 1,
                available: 0,
            },
        ];
        let status = tonic::Status::from(InventoryError::from(InventoryRefusal::OutOfStock {
            lines: lines.clone(),
        }));
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert_eq!(ErrorCode::from_status(&status), ErrorCode::OutOfStock);
        let wire: Vec<_> = lines.iter().map(ShortLine::to_wire).collect();
        assert_eq!(platform::error_code::short_lines(&status), wire);
    }
}
