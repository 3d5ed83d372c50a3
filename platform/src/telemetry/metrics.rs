//! Prometheus metrics: the process-wide recorder, a tower layer that counts and times every
//! RPC, and the `/metrics` endpoint.

use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::auth::PolicyTable;

/// Requests handled, by service and method.
pub const REQUESTS_TOTAL: &str = "grpc_server_requests_total";
/// Requests answered with a non-OK status, by service, method and code.
pub const ERRORS_TOTAL: &str = "grpc_server_errors_total";
/// Time to the response headers, by service and method.
pub const DURATION_SECONDS: &str = "grpc_server_request_duration_seconds";

const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Returns the process-wide Prometheus handle, installing the recorder on first use (once
/// per process, so `bookstore up` and tests that start several services share it).
pub fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".to_owned()), &LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
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
            async move { handle.render() }
        }),
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Opens a span per RPC (child of the caller's trace) and records count, errors and latency.
#[derive(Debug, Clone)]
pub struct GrpcTelemetryLayer {
    service: &'static str,
    /// The RPCs the server has; any other path is labelled `unknown`, so a scanner sending
    /// random paths cannot create unbounded metric series.
    known: Arc<PolicyTable>,
}

impl GrpcTelemetryLayer {
    /// Creates the layer for `service` (its label in every metric), whose RPCs are `known`.
    pub fn new(service: &'static str, known: PolicyTable) -> Self {
        // Install before the first request so nothing is recorded into the no-op recorder.
        recorder();
        Self {
            service,
            known: Arc::new(known),
        }
    }
}

impl<S> tower::Layer<S> for GrpcTelemetryLayer {
    type Service = GrpcTelemetry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcTelemetry {
            inner,
            service: self.service,
            known: Arc::clone(&self.known),
        }
    }
}

/// The service [`GrpcTelemetryLayer`] wraps around a server's routes.
#[derive(Debug, Clone)]
pub struct GrpcTelemetry<S> {
    inner: S,
    service: &'static str,
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
        let known = self.known.access(&path).is_some();
        let method = if known {
            path.rsplit('/').next().unwrap_or_default().to_owned()
        } else {
            "unknown".to_owned()
        };
        let span = super::rpc::span(super::rpc::Side::Server, &path, known);
        super::propagation::adopt_remote_parent(&span, request.headers());
        let service = self.service;
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
                let labels = [("service", service.to_owned()), ("method", method)];
                metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
                metrics::histogram!(DURATION_SECONDS, &labels).record(started.elapsed().as_secs_f64());
                if code != tonic::Code::Ok {
                    let mut error_labels = labels.to_vec();
                    error_labels.push(("code", format!("{code:?}")));
                    metrics::counter!(ERRORS_TOTAL, &error_labels).increment(1);
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
