//! One error type for every service: the failures they all share (a bad input, something
//! not found, an internal error) and the refusals only one service makes (`R`), turned into a
//! `tonic::Status` in one place.
//!
//! A service declares its refusals as a `thiserror` enum implementing [`Refusal`] and names
//! its error `type InventoryError = ServiceError<InventoryRefusal>`; handlers return it and
//! tonic gets the status through `From`.

use std::collections::HashMap;
use std::time::Duration;

use proto::types::{InvalidField, ShortLine};
use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt as _};

use crate::ErrorCode;
use crate::error_code::{ERROR_DOMAIN, internal_status, invalid_field_status, out_of_stock_status};
use crate::store::{StoreError, Violation};

/// What went wrong, in terms of what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError<R> {
    /// A wire value that does not parse; the status names the field.
    #[error("{0}")]
    InvalidArgument(#[from] InvalidField),
    /// Absent, or not the caller's to see (the mesh answers both alike).
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// What only this service refuses with.
    #[error(transparent)]
    Refused(R),
    /// A bug or a store failure: logged once, hidden from the caller (a store that is
    /// briefly gone reaches the caller as UNAVAILABLE).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl<R: Refusal> From<R> for ServiceError<R> {
    fn from(refusal: R) -> Self {
        ServiceError::Refused(refusal)
    }
}

impl<R: Refusal> From<StoreError> for ServiceError<R> {
    fn from(error: StoreError) -> Self {
        match error.violation() {
            Some(violation) => R::violated(violation, error),
            None => ServiceError::Internal(error.into()),
        }
    }
}

/// A service's own refusals: the code and details of each.
pub trait Refusal: std::fmt::Display + Sized {
    /// Returns the mesh-wide code.
    fn error_code(&self) -> ErrorCode;

    /// Returns what the status carries beyond the code and the message.
    fn detail(&self) -> Detail<'_> {
        Detail::None
    }

    /// Says what a constraint violation means to this service's caller; by default it is
    /// internal (every write of the service is conditional or `ON CONFLICT DO NOTHING`).
    fn violated(violation: Violation, error: StoreError) -> ServiceError<Self> {
        let _ = violation;
        ServiceError::Internal(error.into())
    }
}

/// What a refusal carries beyond its code.
#[derive(Debug, Clone, Copy)]
pub enum Detail<'a> {
    /// The message and the code are all there is.
    None,
    /// The books a reservation could not hold (`OUT_OF_STOCK`).
    ShortLines(&'a [ShortLine]),
    /// The state of the thing forbids the call: `FAILED_PRECONDITION` with the `CONFLICT`
    /// reason (a released reservation, a shipped order). Callers such as svc-order branch on
    /// the gRPC code.
    Precondition,
    /// Throttled: `RetryInfo` and a `retry-after` header say when to come back.
    RetryAfter(Duration),
}

impl<R: Refusal> From<ServiceError<R>> for tonic::Status {
    fn from(error: ServiceError<R>) -> Self {
        match &error {
            ServiceError::InvalidArgument(invalid) => invalid_field_status(invalid),
            ServiceError::NotFound { .. } => {
                ErrorCode::NotFound.status(error.to_string(), ErrorDetails::new())
            }
            ServiceError::Internal(cause) => internal_status(cause),
            ServiceError::Refused(refusal) => refusal_status(refusal),
        }
    }
}

fn refusal_status(refusal: &impl Refusal) -> tonic::Status {
    let message = refusal.to_string();
    match refusal.detail() {
        Detail::None => refusal.error_code().status(message, ErrorDetails::new()),
        Detail::ShortLines(lines) => {
            let wire: Vec<_> = lines.iter().map(ShortLine::to_wire).collect();
            out_of_stock_status(message, &wire)
        }
        Detail::Precondition => {
            let mut details = ErrorDetails::new();
            details.set_error_info(ErrorCode::Conflict.reason(), ERROR_DOMAIN, HashMap::new());
            tonic::Status::with_error_details(Code::FailedPrecondition, message, details)
        }
        Detail::RetryAfter(retry_after) => retry_later(refusal.error_code(), message, retry_after),
    }
}

/// A refusal to come back later: `code` with `RetryInfo` and a `retry-after` header (whole
/// seconds, at least 1, as HTTP's header has no smaller unit). Shed requests, full queues
/// and throttled logins all say it this way.
pub fn retry_later(code: ErrorCode, message: impl Into<String>, retry_after: Duration) -> tonic::Status {
    let mut details = ErrorDetails::new();
    details.set_retry_info(Some(retry_after));
    let mut status = code.status(message, details);
    let seconds = retry_after.as_millis().div_ceil(1000).max(1);
    if let Ok(value) = seconds.to_string().parse() {
        status.metadata_mut().insert("retry-after", value);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum TestRefusal {
        #[error("slow down")]
        Throttled,
        #[error("gone")]
        Released,
    }

    impl Refusal for TestRefusal {
        fn error_code(&self) -> ErrorCode {
            match self {
                TestRefusal::Throttled => ErrorCode::Throttled,
                TestRefusal::Released => ErrorCode::Conflict,
            }
        }

        fn detail(&self) -> Detail<'_> {
            match self {
                TestRefusal::Throttled => Detail::RetryAfter(Duration::from_secs(7)),
                TestRefusal::Released => Detail::Precondition,
            }
        }
    }

    #[test]
    fn each_kind_of_failure_reaches_the_caller_with_its_code_and_details() {
        let status = tonic::Status::from(ServiceError::<TestRefusal>::NotFound { entity: "book" });
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "book not found");
        let field = ServiceError::<TestRefusal>::from(InvalidField::new("isbn", "is required"));
        let status = tonic::Status::from(field);
        assert_eq!(status.code(), Code::InvalidArgument);
        let status = tonic::Status::from(ServiceError::from(TestRefusal::Throttled));
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(
            status
                .metadata()
                .get("retry-after")
                .map(|value| value.to_str().ok()),
            Some(Some("7"))
        );
        let status = tonic::Status::from(ServiceError::from(TestRefusal::Released));
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(ErrorCode::from_status(&status), ErrorCode::Conflict);
    }
}
