//! Prometheus metrics: the process-wide recorder, a tower layer that counts and times every
//! RPC a server answers ([`GrpcTelemetryLayer`]), process metrics, and the `/metrics`
//! endpoint. Outgoing calls are counted by [`super::client_metrics`].
//!
//! Naming (the README's "Metrics" section): snake case, the unit last (`_seconds`, `_bytes`),
//! `_total` on counters, a prefix per crate (`grpc_server_`, `grpc_client_`, `process_`,
//! `bff_`, `order_`, `inventory_`, `catalog_`, `user_`), the names as constants in one module
//! per crate, each described (HELP) where the crate starts. Labels never reuse a name
//! Prometheus gives its targets (`service`, `job`, `instance`, `pod`, `namespace`,
//! `endpoint`, `container`): the per-RPC labels are `grpc_service`, `grpc_method` and
//! `grpc_code`, and every label's values are bounded.

use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::auth::PolicyTable;

/// RPCs answered, by `grpc_service` (full name), `grpc_method` and `grpc_code`.
pub const REQUESTS_TOTAL: &str = "grpc_server_requests_total";
/// RPCs answered with a non-OK status, by `grpc_service`, `grpc_method` and `grpc_code`.
pub const ERRORS_TOTAL: &str = "grpc_server_errors_total";
/// Time to the response headers, by `grpc_service` and `grpc_method`.
pub const DURATION_SECONDS: &str = "grpc_server_request_duration_seconds";
/// RPCs refused at once because the server was at its concurrency limit, by `server` (the
/// mesh service's short name: `inventory`).
pub const SHED_TOTAL: &str = "grpc_server_shed_total";

/// The labels of every per-RPC metric, server and client side.
pub const GRPC_SERVICE: &str = "grpc_service";
pub const GRPC_METHOD: &str = "grpc_method";
pub const GRPC_CODE: &str = "grpc_code";

/// The value of `grpc_service` and `grpc_method` for a path the server does not serve.
pub const UNKNOWN: &str = "unknown";

/// gRPC infrastructure the servers answer besides their own RPCs. Only these exact paths get
/// their own label values: any other path under a public prefix is `unknown`.
const INFRASTRUCTURE_PATHS: [&str; 4] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// Buckets of every `*_duration_seconds` and `*_lag_seconds` histogram: half a millisecond to
/// a minute.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Returns the process-wide Prometheus handle, installing the recorder on first use (once
/// per process, so `bookstore up` and tests that start several services share it), with the
/// HELP text of the platform's metrics.
pub fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".to_owned()), &LATENCY_BUCKETS)
                .and_then(|builder| {
                    builder
                        .set_buckets_for_metric(Matcher::Suffix("lag_seconds".to_owned()), &LATENCY_BUCKETS)
                })
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            super::client_metrics::describe();
            process_collector().describe();
            handle
        })
        .clone()
}

/// HELP text of the server-side metrics.
fn describe() {
    metrics::describe_counter!(
        REQUESTS_TOTAL,
        "gRPC requests answered, by grpc_service, grpc_method and grpc_code"
    );
    metrics::describe_counter!(
        ERRORS_TOTAL,
        "gRPC requests answered with a non-OK status, by grpc_service, grpc_method and grpc_code"
    );
    metrics::describe_histogram!(
        DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time from a gRPC request's arrival to its response headers, by grpc_service and grpc_method"
    );
    metrics::describe_counter!(
        SHED_TOTAL,
        "gRPC requests refused at once (RESOURCE_EXHAUSTED) because the server was at its concurrency limit, by server"
    );
}

/// `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`,
/// `process_max_fds`, `process_threads`, `process_start_time_seconds` and the virtual memory
/// gauges, read from `/proc/self` at each scrape (the `metrics-process` crate).
fn process_collector() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

/// The Prometheus text of every metric, process metrics read now.
pub fn render(handle: &PrometheusHandle) -> String {
    process_collector().collect();
    handle.render()
}

/// Serves `GET /metrics` on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// Returns the I/O error that stopped the listener.
pub async fn serve_metrics(listener: TcpListener, shutdown: CancellationToken) -> std::io::Result<()> {
    let handle = recorder();
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move { render(&handle) }
        }),
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Opens a span per RPC (child of the caller's trace) and records count, errors and latency.
#[derive(Debug, Clone)]
pub struct GrpcTelemetryLayer {
    /// The RPCs the server has; any other path is labelled `unknown`, so a scanner sending
    /// random paths cannot create unbounded metric series.
    known: Arc<PolicyTable>,
}

impl GrpcTelemetryLayer {
    /// Creates the layer for a server whose RPCs are `known` (each metric is labelled with
    /// the RPC's full gRPC service name, so one process serving several services is fine).
    pub fn new(known: PolicyTable) -> Self {
        // Install before the first request so nothing is recorded into the no-op recorder.
        recorder();
        Self {
            known: Arc::new(known),
        }
    }
}

impl<S> tower::Layer<S> for GrpcTelemetryLayer {
    type Service = GrpcTelemetry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcTelemetry {
            inner,
            known: Arc::clone(&self.known),
        }
    }
}

/// The service [`GrpcTelemetryLayer`] wraps around a server's routes.
#[derive(Debug, Clone)]
pub struct GrpcTelemetry<S> {
    inner: S,
    known: Arc<PolicyTable>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for GrpcTelemetry<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let labels = rpc_labels(&self.known, &path);
        let span = super::rpc::span(super::rpc::Side::Server, &path, labels.is_some());
        let (grpc_service, method) = labels.unwrap_or_else(|| (UNKNOWN.to_owned(), UNKNOWN.to_owned()));
        super::propagation::adopt_remote_parent(&span, request.headers());
        let started = Instant::now();
        let response = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(
            async move {
                let result = response.await;
                let code = match &result {
                    Ok(response) => grpc_code(response),
                    Err(_) => tonic::Code::Internal,
                };
                super::rpc::record_status(&tracing::Span::current(), super::rpc::Side::Server, code);
                let labels = [
                    (GRPC_SERVICE, grpc_service),
                    (GRPC_METHOD, method),
                    (GRPC_CODE, code_label(code).to_owned()),
                ];
                metrics::histogram!(DURATION_SECONDS, &labels[..2]).record(started.elapsed().as_secs_f64());
                metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
                if code != tonic::Code::Ok {
                    metrics::counter!(ERRORS_TOTAL, &labels).increment(1);
                }
                result
            }
            .instrument(span),
        )
    }
}

/// Reads the status of a trailers-only response (how tonic answers an error); a response
/// that streams its status in trailers counts as OK here.
fn grpc_code<B>(response: &http::Response<B>) -> tonic::Code {
    if !response.status().is_success() {
        return tonic::Code::Unavailable;
    }
    match response.headers().get("grpc-status") {
        Some(value) => tonic::Code::from_bytes(value.as_bytes()),
        None => tonic::Code::Ok,
    }
}

/// `(grpc_service, grpc_method)` of a path the server serves (one of its RPCs or the gRPC
/// health and reflection services); `None` for any other, so a scanner sending random paths
/// cannot create metric series.
fn rpc_labels(known: &PolicyTable, path: &str) -> Option<(String, String)> {
    let infrastructure = INFRASTRUCTURE_PATHS.contains(&path);
    let public_prefix = path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.");
    if !infrastructure && (public_prefix || known.access(path).is_none()) {
        return None;
    }
    let (grpc_service, method) = path.strip_prefix('/')?.split_once('/')?;
    Some((grpc_service.to_owned(), method.to_owned()))
}

/// The `grpc_code` label: the code's name as gRPC spells it (`OK`, `NOT_FOUND`).
pub fn code_label(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Access;

    #[test]
    fn only_served_paths_get_their_own_labels() {
        let known = PolicyTable::new().rpc(
            "bookstore.inventory.v1.InventoryService",
            "Reserve",
            Access::PUBLIC,
        );
        assert_eq!(
            rpc_labels(&known, "/bookstore.inventory.v1.InventoryService/Reserve"),
            Some((
                "bookstore.inventory.v1.InventoryService".to_owned(),
                "Reserve".to_owned()
            ))
        );
        assert_eq!(
            rpc_labels(&known, "/grpc.health.v1.Health/Check"),
            Some(("grpc.health.v1.Health".to_owned(), "Check".to_owned()))
        );
        // Public to call, but not a series per made-up method.
        assert_eq!(rpc_labels(&known, "/grpc.health.v1.Health/Random123"), None);
        assert_eq!(
            rpc_labels(&known, "/bookstore.inventory.v1.InventoryService/Nope"),
            None
        );
        assert_eq!(rpc_labels(&known, "/scanner"), None);
    }

    #[test]
    fn codes_are_labelled_as_grpc_spells_them() {
        assert_eq!(code_label(tonic::Code::Ok), "OK");
        assert_eq!(code_label(tonic::Code::FailedPrecondition), "FAILED_PRECONDITION");
    }
}
