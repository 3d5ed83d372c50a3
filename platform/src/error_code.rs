//! The mesh's error vocabulary: one table from a code to gRPC, GraphQL and HTTP.
//!
//! Every service's error becomes a `tonic::Status` through [`crate::error`], which builds it
//! here: the reason travels in `google.rpc.ErrorInfo`, so the BFF can tell codes apart that
//! share a gRPC code (`OUT_OF_STOCK` and `CONFLICT`), and internal causes are logged once and
//! hidden.

use prost::Message as _;
use proto::inventory::v1 as pb;
use proto::types::InvalidField;
use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every error the mesh sends.
pub const ERROR_DOMAIN: &str = "bookstore";

/// What went wrong, in terms of what the caller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    OutOfStock,
    PaymentDeclined,
    Conflict,
    Throttled,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// Returns every code, for table tests and the BFF's reverse mapping.
    pub fn all() -> [ErrorCode; 10] {
        [
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::BadUserInput,
            ErrorCode::OutOfStock,
            ErrorCode::PaymentDeclined,
            ErrorCode::Conflict,
            ErrorCode::Throttled,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ]
    }

    /// Returns the gRPC status code.
    pub fn grpc_code(&self) -> Code {
        match self {
            ErrorCode::Unauthenticated => Code::Unauthenticated,
            ErrorCode::Forbidden => Code::PermissionDenied,
            ErrorCode::NotFound => Code::NotFound,
            ErrorCode::BadUserInput => Code::InvalidArgument,
            ErrorCode::OutOfStock => Code::FailedPrecondition,
            ErrorCode::PaymentDeclined => Code::FailedPrecondition,
            ErrorCode::Conflict => Code::AlreadyExists,
            ErrorCode::Throttled => Code::ResourceExhausted,
            ErrorCode::Unavailable => Code::Unavailable,
            ErrorCode::Internal => Code::Internal,
        }
    }

    /// Returns the GraphQL `extensions.code` of the public contract.
    pub fn graphql_code(&self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::OutOfStock => "OUT_OF_STOCK",
            ErrorCode::PaymentDeclined => "PAYMENT_DECLINED",
            ErrorCode::Conflict => "CONFLICT",
            // The contract has no throttling code; storefronts retry UNAVAILABLE later.
            ErrorCode::Throttled => "UNAVAILABLE",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// Returns the HTTP status for transports that carry one (the BFF, metrics).
    pub fn http_status(&self) -> u16 {
        match self {
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::BadUserInput => 400,
            ErrorCode::OutOfStock => 409,
            ErrorCode::PaymentDeclined => 402,
            ErrorCode::Conflict => 409,
            ErrorCode::Throttled => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }

    /// Returns the `ErrorInfo.reason` that names this code on the wire.
    pub fn reason(&self) -> &'static str {
        match self {
            ErrorCode::Throttled => "THROTTLED",
            other => other.graphql_code(),
        }
    }

    /// Reads the code back from a status: by `ErrorInfo.reason` when the mesh sent one,
    /// otherwise by the gRPC code alone.
    pub fn from_status(status: &tonic::Status) -> ErrorCode {
        let details = status.get_error_details();
        if let Some(info) = details.error_info()
            && info.domain == ERROR_DOMAIN
        {
            for code in ErrorCode::all() {
                if code.reason() == info.reason {
                    return code;
                }
            }
        }
        match status.code() {
            Code::Unauthenticated => ErrorCode::Unauthenticated,
            Code::PermissionDenied => ErrorCode::Forbidden,
            Code::NotFound => ErrorCode::NotFound,
            Code::InvalidArgument | Code::OutOfRange => ErrorCode::BadUserInput,
            Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => ErrorCode::Conflict,
            Code::ResourceExhausted => ErrorCode::Throttled,
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        }
    }

    /// Builds a status carrying this code's `ErrorInfo` plus any extra `details`.
    pub fn status(&self, message: impl Into<String>, mut details: ErrorDetails) -> tonic::Status {
        details.set_error_info(self.reason(), ERROR_DOMAIN, std::collections::HashMap::new());
        tonic::Status::with_error_details(self.grpc_code(), message, details)
    }

    /// Builds a `BadUserInput` status naming `field` in a bad-request violation.
    pub fn invalid_field(field: &str, reason: &str) -> tonic::Status {
        let mut details = ErrorDetails::new();
        details.add_bad_request_violation(field, reason);
        ErrorCode::BadUserInput.status(format!("{field}: {reason}"), details)
    }
}

/// Logs an internal failure once, with its cause chain, and returns a status that hides it.
///
/// The caller gets only "internal error" and a reference to find the log line. A store
/// that is briefly gone (connection cut, pool exhausted, server restarting) is not internal:
/// the caller gets UNAVAILABLE and retries, which every write of the mesh allows.
pub fn internal_status(error: &anyhow::Error) -> tonic::Status {
    if crate::store::is_transient(error) {
        tracing::warn!(error.cause_chain = %crate::telemetry::cause_chain(error), "store unavailable");
        return ErrorCode::Unavailable.status("a store is unavailable, retry shortly", ErrorDetails::new());
    }
    let reference = uuid::Uuid::new_v4();
    tracing::error!(error.cause_chain = %crate::telemetry::cause_chain(error), error.reference = %reference, "internal error");
    ErrorCode::Internal.status(
        format!("internal error (reference {reference})"),
        ErrorDetails::new(),
    )
}

/// Turns a wire value that did not parse into a `BadUserInput` status naming its field.
pub fn invalid_field_status(error: &InvalidField) -> tonic::Status {
    ErrorCode::invalid_field(&error.field, &error.reason)
}

/// FAILED_PRECONDITION with `ErrorInfo` (reason OUT_OF_STOCK, `book_ids` in its metadata)
/// and an `OutOfStockDetail` naming every short line with what is available.
pub fn out_of_stock_status(message: String, lines: &[pb::ShortLine]) -> tonic::Status {
    let book_ids: Vec<&str> = lines.iter().map(|line| line.book_id.as_str()).collect();
    let info = tonic_types::pb::ErrorInfo {
        reason: ErrorCode::OutOfStock.reason().to_owned(),
        domain: ERROR_DOMAIN.to_owned(),
        metadata: std::collections::HashMap::from([("book_ids".to_owned(), book_ids.join(","))]),
    };
    let detail = pb::OutOfStockDetail {
        lines: lines.to_vec(),
    };
    let status = tonic_types::pb::Status {
        code: tonic::Code::FailedPrecondition as i32,
        message: message.clone(),
        details: vec![
            prost_types::Any {
                type_url: "type.googleapis.com/google.rpc.ErrorInfo".to_owned(),
                value: info.encode_to_vec(),
            },
            prost_types::Any {
                type_url: "type.googleapis.com/bookstore.inventory.v1.OutOfStockDetail".to_owned(),
                value: detail.encode_to_vec(),
            },
        ],
    };
    tonic::Status::with_details(
        tonic::Code::FailedPrecondition,
        message,
        status.encode_to_vec().into(),
    )
}

/// Reads the short lines back from an OUT_OF_STOCK status, as the wire has them (svc-order
/// parses them; the BFF and tests read the ids).
pub fn short_lines(status: &tonic::Status) -> Vec<pb::ShortLine> {
    let Ok(decoded) = tonic_types::pb::Status::decode(status.details()) else {
        return Vec::new();
    };
    for any in decoded.details {
        if any.type_url.ends_with("bookstore.inventory.v1.OutOfStockDetail")
            && let Ok(detail) = pb::OutOfStockDetail::decode(any.value.as_slice())
        {
            return detail.lines;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_survives_the_round_trip_through_a_status() {
        for code in ErrorCode::all() {
            let status = code.status("boom", ErrorDetails::new());
            assert_eq!(status.code(), code.grpc_code());
            assert_eq!(ErrorCode::from_status(&status), code, "{code:?}");
        }
    }

    #[test]
    fn codes_sharing_a_grpc_code_are_told_apart_by_reason() {
        let out_of_stock = ErrorCode::OutOfStock.status("short", ErrorDetails::new());
        let declined = ErrorCode::PaymentDeclined.status("declined", ErrorDetails::new());
        assert_eq!(out_of_stock.code(), declined.code());
        assert_eq!(
            ErrorCode::from_status(&out_of_stock).graphql_code(),
            "OUT_OF_STOCK"
        );
        assert_eq!(
            ErrorCode::from_status(&declined).graphql_code(),
            "PAYMENT_DECLINED"
        );
    }

    #[test]
    fn invalid_field_names_the_field_in_the_details() {
        let status = ErrorCode::invalid_field("email", "must contain @");
        let details = status.get_error_details();
        let violations = &details.bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "email");
        assert_eq!(status.message(), "email: must contain @");
    }

    #[test]
    fn internal_status_hides_the_cause() {
        let error = anyhow::anyhow!("password authentication failed for user postgres");
        let status = internal_status(&error);
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("postgres"));
    }

    #[test]
    fn a_status_from_outside_the_mesh_maps_by_grpc_code() {
        let status = tonic::Status::unavailable("connection refused");
        assert_eq!(ErrorCode::from_status(&status), ErrorCode::Unavailable);
    }
}
