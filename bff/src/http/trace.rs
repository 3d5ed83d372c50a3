//! The server span of every HTTP request (`POST /graphql`), continuing the trace a caller
//! sent in `traceparent`, with the OpenTelemetry HTTP attributes. Probes and scrapes
//! (`/livez`, `/healthz`, `/readyz`, `/metrics`) get none: every few seconds from every
//! kubelet and Prometheus, they would bury the traces of shoppers.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;
use tracing::field::Empty;

/// The routes that are not traced.
const UNTRACED: [&str; 4] = ["/livez", "/healthz", "/readyz", "/metrics"];

/// The middleware: runs the request in its server span and records the answer's status.
pub async fn server_span(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    if let Some(route) = route.as_deref()
        && UNTRACED.contains(&route)
    {
        return next.run(request).await;
    }
    // The conventions' rule for methods: the known ones as they are, any other `_OTHER`.
    let method = match request.method().as_str() {
        known @ ("GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "OPTIONS" | "PATCH" | "CONNECT" | "TRACE") => {
            known
        }
        _ => "_OTHER",
    };
    let name = match &route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let span = tracing::info_span!(
        "http.request",
        otel.name = %name,
        otel.kind = "server",
        http.request.method = method,
        http.route = route.as_deref(),
        url.path = request.uri().path(),
        http.response.status_code = Empty,
        otel.status_code = Empty,
        error.type = Empty,
    );
    platform::telemetry::propagation::adopt_remote_parent(&span, request.headers());
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", status.as_str());
    }
    response
}
