//! The server-side cap on how long a request may take, except for the RPCs a service marks
//! long-running (client streams such as `ImportBooks`). A shorter `grpc-timeout` from the
//! caller still wins: tonic applies it to every request.

use std::collections::HashSet;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;

/// Applies `default` to every request whose path is not exempt.
#[derive(Debug, Clone)]
pub struct DeadlineLayer {
    default: Duration,
    exempt: Arc<HashSet<String>>,
}

impl DeadlineLayer {
    /// Creates the layer; `exempt` holds full gRPC paths (`/pkg.Service/Method`).
    pub fn new(default: Duration, exempt: HashSet<String>) -> Self {
        Self {
            default,
            exempt: Arc::new(exempt),
        }
    }
}

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`DeadlineLayer`] wraps around a server's routes.
#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    layer: DeadlineLayer,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for Deadline<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let exempt = self.layer.exempt.contains(request.uri().path());
        let limit = self.layer.default;
        let response = self.inner.call(request);
        Box::pin(async move {
            if exempt {
                return response.await;
            }
            match tokio::time::timeout(limit, response).await {
                Ok(result) => result,
                Err(_) => Ok(
                    tonic::Status::deadline_exceeded("request took longer than the server allows")
                        .into_http(),
                ),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use tower::{Layer as _, ServiceExt as _};

    use super::*;

    async fn slow(
        _request: http::Request<()>,
    ) -> Result<http::Response<tonic::body::Body>, std::convert::Infallible> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok(http::Response::new(tonic::body::Body::default()))
    }

    fn request(path: &str) -> http::Request<()> {
        http::Request::builder().uri(path).body(()).unwrap()
    }

    #[tokio::test]
    async fn slow_requests_get_deadline_exceeded_unless_their_rpc_is_long_running() {
        let layer = DeadlineLayer::new(
            Duration::from_millis(20),
            HashSet::from(["/pkg.Catalog/ImportBooks".to_owned()]),
        );
        let service = layer.layer(tower::service_fn(slow));

        let response = service
            .clone()
            .oneshot(request("/pkg.Catalog/GetBook"))
            .await
            .unwrap();
        let status = tonic::Status::from_header_map(response.headers()).unwrap();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);

        let response = service
            .oneshot(request("/pkg.Catalog/ImportBooks"))
            .await
            .unwrap();
        assert!(tonic::Status::from_header_map(response.headers()).is_none());
    }
}
