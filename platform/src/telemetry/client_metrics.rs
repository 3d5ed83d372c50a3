//! Outgoing gRPC calls counted and timed from the caller's side: a tower layer any client
//! stack can wrap, and the one [`crate::client::MeshChannel`] applies to every call, so the
//! BFF and every service that calls another record the same series.
//!
//! The status is read from the response headers: tonic answers an error trailers-only, so
//! an error is seen there; a status sent only in the trailers of a streamed answer counts as
//! OK (as on the server side, [`super::metrics::GrpcTelemetryLayer`]).

use std::future::Future;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;

use super::metrics::{GRPC_CODE, GRPC_METHOD, GRPC_SERVICE, code_label};

/// Calls made, by `grpc_service` (the callee's full gRPC service name), `grpc_method` and
/// `grpc_code`.
pub const REQUESTS_TOTAL: &str = "grpc_client_requests_total";
/// Time from the call to its response headers (or its failure), by `grpc_service` and
/// `grpc_method`.
pub const DURATION_SECONDS: &str = "grpc_client_request_duration_seconds";

/// HELP text of the client-side metrics (called when the recorder is installed).
pub(crate) fn describe() {
    metrics::describe_counter!(
        REQUESTS_TOTAL,
        "Outgoing gRPC calls, by the callee's grpc_service, grpc_method and the grpc_code it answered"
    );
    metrics::describe_histogram!(
        DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time from an outgoing gRPC call to its response headers, by grpc_service and grpc_method"
    );
}

/// One outgoing call being observed; [`ClientCall::around`] records it when it ends.
#[derive(Debug)]
pub struct ClientCall {
    labels: Option<(String, String)>,
    started: Instant,
}

impl ClientCall {
    /// Starts observing a call to `path` (`/bookstore.order.v1.OrderService/PlaceOrder`). The
    /// paths come from generated clients, so the label values are bounded by the protos; a
    /// path that is not `/service/method` is not recorded.
    pub fn start(path: &str) -> Self {
        let labels = path
            .strip_prefix('/')
            .and_then(|rest| rest.split_once('/'))
            .map(|(service, method)| (service.to_owned(), method.to_owned()));
        Self {
            labels,
            started: Instant::now(),
        }
    }

    /// Runs `call` and records its count, code and latency.
    pub async fn around<F, B, E>(self, call: F) -> Result<http::Response<B>, E>
    where
        F: Future<Output = Result<http::Response<B>, E>>,
    {
        let result = call.await;
        if let Some((grpc_service, grpc_method)) = self.labels {
            let code = match &result {
                Ok(response) => response_code(response),
                // The transport failed: nothing reached the callee.
                Err(_) => tonic::Code::Unavailable,
            };
            let labels = [
                (GRPC_SERVICE, grpc_service),
                (GRPC_METHOD, grpc_method),
                (GRPC_CODE, code_label(code).to_owned()),
            ];
            metrics::histogram!(DURATION_SECONDS, &labels[..2]).record(self.started.elapsed().as_secs_f64());
            metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
        }
        result
    }
}

/// The status of an answer, from its headers (trailers-only errors) or its HTTP status.
fn response_code<B>(response: &http::Response<B>) -> tonic::Code {
    if !response.status().is_success() {
        return tonic::Code::Unavailable;
    }
    match response.headers().get("grpc-status") {
        Some(value) => tonic::Code::from_bytes(value.as_bytes()),
        None => tonic::Code::Ok,
    }
}

/// Wraps a client stack so every call is counted and timed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientMetricsLayer;

impl<S> tower::Layer<S> for ClientMetricsLayer {
    type Service = ClientMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientMetrics { inner }
    }
}

/// The service [`ClientMetricsLayer`] wraps around a client stack.
#[derive(Debug, Clone)]
pub struct ClientMetrics<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for ClientMetrics<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let observed = ClientCall::start(request.uri().path());
        Box::pin(observed.around(self.inner.call(request)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(text: &str, series: &str) -> f64 {
        text.lines()
            .find(|line| line.starts_with(series))
            .and_then(|line| line.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0.0)
    }

    #[tokio::test]
    async fn every_call_is_counted_with_the_callees_code() {
        let handle = super::super::metrics::recorder();
        let upstream = tower::service_fn(|request: http::Request<()>| async move {
            let status = if request.uri().path().ends_with("/Missing") {
                "5"
            } else {
                "0"
            };
            Ok::<_, std::convert::Infallible>(
                http::Response::builder()
                    .header("grpc-status", status)
                    .body(())
                    .unwrap(),
            )
        });
        let mut client = tower::Layer::layer(&ClientMetricsLayer, upstream);
        let ok = r#"grpc_client_requests_total{grpc_service="test.client.v1.Probe",grpc_method="Found",grpc_code="OK"}"#;
        let missing = r#"grpc_client_requests_total{grpc_service="test.client.v1.Probe",grpc_method="Missing",grpc_code="NOT_FOUND"}"#;
        let before = (count(&handle.render(), ok), count(&handle.render(), missing));
        for path in [
            "/test.client.v1.Probe/Found",
            "/test.client.v1.Probe/Found",
            "/test.client.v1.Probe/Missing",
        ] {
            let request = http::Request::builder().uri(path).body(()).unwrap();
            tower::Service::call(&mut client, request).await.unwrap();
        }
        let text = handle.render();
        assert_eq!(count(&text, ok) - before.0, 2.0, "{text}");
        assert_eq!(count(&text, missing) - before.1, 1.0, "{text}");
        assert!(text.contains("# HELP grpc_client_requests_total"), "{text}");
        assert!(
            text.contains(r#"grpc_client_request_duration_seconds_count{grpc_service="test.client.v1.Probe",grpc_method="Found"}"#),
            "{text}"
        );
    }
}
