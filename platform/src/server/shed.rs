//! Load shedding for a gRPC server: at most `grpc.max_concurrent_requests` calls run at once,
//! and one beyond that is refused at once with RESOURCE_EXHAUSTED, `RetryInfo` and a
//! `retry-after` hint instead of queueing (a queue only adds its wait to every answer and
//! lets callers' deadlines expire inside it). Health and reflection are exempt: a probe must
//! be answered whatever the load.
//!
//! Hand-written rather than tower's `ConcurrencyLimit` + `LoadShed`: those refuse with an
//! `Overloaded` error that tonic turns into UNKNOWN without a retry hint, and cannot exempt
//! paths.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Semaphore;

use crate::ErrorCode;

/// What a refused caller is told to wait before trying again.
pub const SHED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Paths that are never shed.
const EXEMPT_PREFIXES: [&str; 3] = [
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// Limits the calls a server runs at once; see the module doc.
#[derive(Debug, Clone)]
pub struct ShedLayer {
    permits: Arc<Semaphore>,
    service: &'static str,
}

impl ShedLayer {
    /// Allows `limit` calls at once (at least one).
    pub fn new(service: &'static str, limit: usize) -> Self {
        // At zero from the start, so a panel or alert reads a series before the first refusal.
        crate::telemetry::metrics::recorder();
        metrics::counter!(crate::telemetry::metrics::SHED_TOTAL, "server" => service).absolute(0);
        Self {
            permits: Arc::new(Semaphore::new(limit.max(1))),
            service,
        }
    }
}

impl<S> tower::Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Shed {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`ShedLayer`] wraps around a server's routes.
#[derive(Debug, Clone)]
pub struct Shed<S> {
    inner: S,
    layer: ShedLayer,
}

impl<S, ReqBody> tower::Service<http::Request<ReqBody>> for Shed<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let path = request.uri().path();
        if EXEMPT_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
            return Box::pin(self.inner.call(request));
        }
        let Ok(permit) = Arc::clone(&self.layer.permits).try_acquire_owned() else {
            metrics::counter!(crate::telemetry::metrics::SHED_TOTAL, "server" => self.layer.service)
                .increment(1);
            let status = crate::error::retry_later(
                ErrorCode::Throttled,
                format!("{} is overloaded, retry later", self.layer.service),
                SHED_RETRY_AFTER,
            );
            return Box::pin(async move { Ok(status.into_http()) });
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            // Held until the handler has answered (for a stream: until its headers).
            let _permit = permit;
            response.await
        })
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt as _;
    use tower::{Layer as _, ServiceExt as _};

    use super::*;

    async fn slow(
        _request: http::Request<()>,
    ) -> Result<http::Response<tonic::body::Body>, std::convert::Infallible> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(http::Response::new(tonic::body::Body::default()))
    }

    fn request(path: &str) -> http::Request<()> {
        http::Request::builder().uri(path).body(()).unwrap()
    }

    #[tokio::test]
    async fn a_call_beyond_the_limit_is_refused_at_once_with_a_retry_hint_but_health_is_not() {
        let service = ShedLayer::new("catalog", 1).layer(tower::service_fn(slow));
        let running = tokio::spawn(service.clone().oneshot(request("/pkg.Catalog/GetBook")));
        tokio::time::sleep(Duration::from_millis(50)).await;

        let started = std::time::Instant::now();
        let refused = service
            .clone()
            .oneshot(request("/pkg.Catalog/GetBook"))
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_millis(100), "refused at once");
        let status = tonic::Status::from_header_map(refused.headers()).unwrap();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert_eq!(
            status.metadata().get("retry-after").unwrap().to_str().unwrap(),
            "1"
        );
        let retry = status.get_details_retry_info().expect("RetryInfo");
        assert_eq!(retry.retry_delay, Some(SHED_RETRY_AFTER));

        let health = service
            .clone()
            .oneshot(request("/grpc.health.v1.Health/Check"))
            .await
            .unwrap();
        assert!(tonic::Status::from_header_map(health.headers()).is_none());

        let first = running.await.unwrap().unwrap();
        assert!(tonic::Status::from_header_map(first.headers()).is_none());
        // The permit came back with the answer.
        let again = service.oneshot(request("/pkg.Catalog/GetBook")).await.unwrap();
        assert!(tonic::Status::from_header_map(again.headers()).is_none());
    }
}
