//! gRPC statuses to GraphQL errors, exactly as the contract names them: `extensions.code`,
//! plus `bookIds` for OUT_OF_STOCK, `field` for BAD_USER_INPUT and `retryAfterSeconds` for
//! a throttled call (UNAVAILABLE). Internal details never
//! reach a storefront: an INTERNAL error keeps only the mesh's reference.

use async_graphql::{Error, ErrorExtensions as _};
use platform::ErrorCode;
use tonic_types::StatusExt as _;

/// A GraphQL error with `code` (a contract code) and a message for people.
pub fn error(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(message.into()).extend_with(|_, extensions| extensions.set("code", code))
}

/// BAD_USER_INPUT naming `field`.
pub fn bad_input(field: &str, reason: &str) -> Error {
    let field = field.to_owned();
    Error::new(format!("{field}: {reason}")).extend_with(move |_, extensions| {
        extensions.set("code", "BAD_USER_INPUT");
        extensions.set("field", field.clone());
    })
}

/// INTERNAL for an upstream answer the contract does not allow (a book without a price, an
/// order in an unknown status, a missing timestamp): logged here, once, with what was wrong,
/// and never shown to the storefront as a made-up value (a $0 price, PENDING, 1970).
pub fn broken_answer(problem: impl std::fmt::Display) -> Error {
    tracing::error!(%problem, "an upstream answer breaks the contract");
    error(
        "INTERNAL",
        "internal error: a service answered something unexpected",
    )
}

/// UNAUTHENTICATED: the operation needs a signed-in user.
pub fn unauthenticated() -> Error {
    error("UNAUTHENTICATED", "sign in first (no valid access token)")
}

/// Maps a status from an upstream service.
pub fn from_status(status: &tonic::Status) -> Error {
    from_status_within(status, "")
}

/// [`from_status`] for an operation whose input is one message of the upstream request
/// (`addAddress(input)` sends `address`): `extensions.field` names the field inside the
/// GraphQL input (`postalCode`), not the wire path (`address.postal_code`).
pub fn from_status_within(status: &tonic::Status, wire_message: &str) -> Error {
    let code = ErrorCode::from_status(status);
    let graphql_code = code.graphql_code();
    match code {
        ErrorCode::BadUserInput => {
            let details = status.get_error_details();
            let field = details
                .bad_request()
                .and_then(|request| request.field_violations.first())
                .map(|violation| {
                    let field = violation.field.as_str();
                    let inside = match field.strip_prefix(wire_message) {
                        Some(rest) if !wire_message.is_empty() => rest.trim_start_matches('.'),
                        _ => field,
                    };
                    graphql_field(inside)
                })
                .unwrap_or_default();
            let message = status.message().to_owned();
            Error::new(message).extend_with(move |_, extensions| {
                extensions.set("code", graphql_code);
                extensions.set("field", field.clone());
            })
        }
        ErrorCode::OutOfStock => {
            let book_ids: Vec<String> = platform::error_code::short_lines(status)
                .into_iter()
                .map(|line| line.book_id)
                .collect();
            Error::new(status.message().to_owned()).extend_with(move |_, extensions| {
                extensions.set("code", graphql_code);
                extensions.set("bookIds", book_ids.clone());
            })
        }
        ErrorCode::Throttled => {
            // The contract has no throttling code: UNAVAILABLE, and when to retry.
            let seconds = retry_after_seconds(status);
            Error::new(format!("too many attempts, retry in {seconds} s")).extend_with(
                move |_, extensions| {
                    extensions.set("code", graphql_code);
                    extensions.set("retryAfterSeconds", seconds);
                },
            )
        }
        ErrorCode::Unavailable => error(graphql_code, "a service is unavailable, retry shortly"),
        ErrorCode::Internal => error(graphql_code, status.message().to_owned()),
        _ => error(graphql_code, status.message().to_owned()),
    }
}

/// Whole seconds until a throttled call may be retried: the status's `RetryInfo`, rounded
/// up, at least 1.
fn retry_after_seconds(status: &tonic::Status) -> u64 {
    let delay = status
        .get_error_details()
        .retry_info()
        .and_then(|info| info.retry_delay)
        .unwrap_or_default();
    let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    seconds.max(1)
}

/// The services name fields as in their contracts (`payment.card.exp_month`); storefronts
/// see the GraphQL input's names (`payment.card.expMonth`).
pub fn graphql_field(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for character in field.chars() {
        if character == '_' {
            upper = true;
        } else if upper {
            out.extend(character.to_uppercase());
            upper = false;
        } else {
            out.push(character);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_call_is_unavailable_and_says_when_to_retry() {
        let status = ErrorCode::Throttled.status(
            "too many failed logins",
            tonic_types::ErrorDetails::with_retry_info(Some(std::time::Duration::from_millis(41_200))),
        );
        let error = from_status(&status).into_server_error(async_graphql::Pos::default());
        let extensions = error.extensions.unwrap();
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from("UNAVAILABLE"))
        );
        assert_eq!(
            extensions.get("retryAfterSeconds"),
            Some(&async_graphql::Value::from(42))
        );
    }

    #[test]
    fn field_names_follow_the_graphql_input() {
        assert_eq!(graphql_field("payment.card.exp_month"), "payment.card.expMonth");
        assert_eq!(
            graphql_field("shipping_address.postal_code"),
            "shippingAddress.postalCode"
        );
        assert_eq!(graphql_field("email"), "email");
    }

    #[test]
    fn internal_errors_keep_only_the_reference() {
        let cause = anyhow::anyhow!("password authentication failed for user postgres");
        let status = platform::error_code::internal_status(&cause);
        let error = from_status(&status).into_server_error(async_graphql::Pos::default());
        assert_eq!(
            error.extensions.unwrap().get("code"),
            Some(&async_graphql::Value::from("INTERNAL"))
        );
        assert!(!error.message.contains("postgres"), "{}", error.message);
        let unavailable = from_status(&tonic::Status::unavailable("tcp connect error: refused"))
            .into_server_error(async_graphql::Pos::default());
        assert!(!unavailable.message.contains("tcp"), "{}", unavailable.message);
    }

    #[test]
    fn out_of_stock_names_the_books() {
        let lines = vec![proto::inventory::v1::ShortLine {
            book_id: "b1".to_owned(),
            requested: 2,
            available: 0,
        }];
        let status = platform::error_code::out_of_stock_status("short".to_owned(), &lines);
        let error = from_status(&status).into_server_error(async_graphql::Pos::default());
        let extensions = error.extensions.unwrap();
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from("OUT_OF_STOCK"))
        );
        assert_eq!(
            extensions.get("bookIds"),
            Some(&async_graphql::Value::List(vec!["b1".into()]))
        );
    }
}
