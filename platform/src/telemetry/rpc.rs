//! What the client and server spans of a gRPC call share: the OpenTelemetry semantic
//! conventions for RPC (span `{rpc.service}/{rpc.method}` without the leading slash,
//! `rpc.system`, `rpc.service` with the full name, `rpc.grpc.status_code`, and which codes
//! are errors on which side).

use tracing::field::Empty;

/// The method of a path the server does not serve (a scanner's guess): one name for all of
/// them, so random paths cannot create unbounded span names.
pub const OTHER: &str = "_OTHER";

/// `/bookstore.catalog.v1.CatalogService/GetBook` as (`bookstore.catalog.v1.CatalogService`,
/// `GetBook`); `None` for anything else.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return None;
    }
    Some((service, method))
}

/// Which end of a call a span stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// The span of one call on `side` of `path`. Server spans of paths not served (`known` is
/// false) are named [`OTHER`].
pub fn span(side: Side, path: &str, known: bool) -> tracing::Span {
    let (service, method) = match split_path(path) {
        Some(parts) if known => parts,
        _ => (OTHER, OTHER),
    };
    let name = if service == OTHER {
        OTHER.to_owned()
    } else {
        format!("{service}/{method}")
    };
    match side {
        Side::Client => tracing::info_span!(
            "grpc.client",
            otel.name = %name,
            otel.kind = "client",
            rpc.system = "grpc",
            rpc.service = service,
            rpc.method = method,
            rpc.grpc.status_code = Empty,
            server.address = Empty,
            server.port = Empty,
            otel.status_code = Empty,
            error.type = Empty,
        ),
        Side::Server => tracing::info_span!(
            "grpc.request",
            otel.name = %name,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = service,
            rpc.method = method,
            rpc.grpc.status_code = Empty,
            otel.status_code = Empty,
            error.type = Empty,
        ),
    }
}

/// Whether `code` marks the span of `side` as failed: every non-OK code for a client; for a
/// server only the codes that say the server failed (a NOT_FOUND is the caller's problem).
pub fn is_error(side: Side, code: tonic::Code) -> bool {
    use tonic::Code;
    match side {
        Side::Client => code != Code::Ok,
        Side::Server => matches!(
            code,
            Code::Unknown
                | Code::DeadlineExceeded
                | Code::Unimplemented
                | Code::Internal
                | Code::Unavailable
                | Code::DataLoss
        ),
    }
}

/// Records the status `code` of the call on its span.
pub fn record_status(span: &tracing::Span, side: Side, code: tonic::Code) {
    span.record("rpc.grpc.status_code", code as i64);
    if is_error(side, code) {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", format!("{code:?}"));
    }
}

/// The status a response carries in its headers (a trailers-only answer, how tonic sends
/// an error), or in `trailers`; `None` while neither has come.
pub fn status_of(headers: &http::HeaderMap) -> Option<tonic::Code> {
    headers
        .get("grpc-status")
        .map(|value| tonic::Code::from_bytes(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_splits_into_the_full_service_name_and_the_method() {
        assert_eq!(
            split_path("/bookstore.catalog.v1.CatalogService/GetBook"),
            Some(("bookstore.catalog.v1.CatalogService", "GetBook"))
        );
        for bad in ["", "/", "//", "/svc/", "no-slash/Method", "/a/b/c"] {
            assert_eq!(split_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_server_fails_only_on_its_own_faults_and_a_client_on_any_non_ok() {
        assert!(is_error(Side::Server, tonic::Code::Internal));
        assert!(!is_error(Side::Server, tonic::Code::NotFound));
        assert!(is_error(Side::Client, tonic::Code::NotFound));
        assert!(!is_error(Side::Client, tonic::Code::Ok));
    }
}
