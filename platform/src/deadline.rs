//! The server-side cap on how long a request may take, except for the RPCs a service marks
//! long-running (client streams such as `ImportBooks`). A shorter `grpc-timeout` from the
//! caller still wins: tonic applies it to every request.
//!
//! The layer also records the request's deadline (the caller's `grpc-timeout` or the cap,
//! whichever ends first) for the handler's task, and [`remaining`] reads it back: the mesh
//! client gives each outgoing call what is left of it, so a call made for a caller who has
//! given up is never started, and no hop waits longer than the one before it.

use std::collections::HashSet;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::time::Instant;

tokio::task_local! {
    /// When the request this task serves must be answered.
    static DEADLINE: Instant;
}

/// What is left of the deadline of the request the current task serves, or `None` outside
/// one (a background task, a test).
pub fn remaining() -> Option<Duration> {
    DEADLINE
        .try_with(|deadline| deadline.saturating_duration_since(Instant::now()))
        .ok()
}

/// Runs `future` with `deadline` as its request's deadline (what [`remaining`] reads).
pub async fn scope<F: std::future::Future>(deadline: Instant, future: F) -> F::Output {
    DEADLINE.scope(deadline, future).await
}

/// Reads a `grpc-timeout` header value (`<up to 8 digits><H|M|S|m|u|n>`).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 || !value.is_ascii() {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// Writes `timeout` as a `grpc-timeout` header value (milliseconds, rounded up; at most 8
/// digits, as the protocol allows).
pub fn format_grpc_timeout(timeout: Duration) -> String {
    let millis = timeout.as_micros().div_ceil(1000).clamp(1, 99_999_999);
    format!("{millis}m")
}

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
        let asked = request
            .headers()
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(parse_grpc_timeout);
        let now = Instant::now();
        let deadline = match (asked, exempt) {
            (Some(asked), true) => now + asked,
            (Some(asked), false) => now + asked.min(limit),
            // A long-running stream without a caller's deadline: its calls get each
            // client's own cap.
            (None, true) => now + Duration::from_secs(24 * 3600),
            (None, false) => now + limit,
        };
        let response = scope(deadline, self.inner.call(request));
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
    async fn the_handler_sees_the_callers_deadline_or_the_cap_whichever_ends_first() {
        let layer = DeadlineLayer::new(Duration::from_secs(10), HashSet::new());
        let service = layer.layer(tower::service_fn(|_request: http::Request<()>| async {
            let left = remaining().expect("inside a request");
            let mut response = http::Response::new(tonic::body::Body::default());
            response
                .headers_mut()
                .insert("left-ms", left.as_millis().to_string().parse().unwrap());
            Ok::<_, std::convert::Infallible>(response)
        }));
        let left = |response: http::Response<tonic::body::Body>| -> u128 {
            response.headers()["left-ms"].to_str().unwrap().parse().unwrap()
        };
        let asked = http::Request::builder()
            .uri("/pkg.Catalog/GetBook")
            .header("grpc-timeout", "300m")
            .body(())
            .unwrap();
        let answer = left(service.clone().oneshot(asked).await.unwrap());
        assert!((250..=300).contains(&answer), "{answer}");
        let capped = left(service.oneshot(request("/pkg.Catalog/GetBook")).await.unwrap());
        assert!((9_900..=10_000).contains(&capped), "{capped}");
        assert_eq!(remaining(), None, "outside a request there is none");
    }

    #[test]
    fn grpc_timeouts_read_back_what_was_written() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("250u"), Some(Duration::from_micros(250)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789m"), None);
        assert_eq!(parse_grpc_timeout("-5m"), None);
        assert_eq!(format_grpc_timeout(Duration::from_micros(1_500)), "2m");
        assert_eq!(format_grpc_timeout(Duration::ZERO), "1m");
    }

    proptest::proptest! {
        #[test]
        fn any_header_value_parses_without_panicking(value in ".{0,12}") {
            let _ = parse_grpc_timeout(&value);
        }

        #[test]
        fn a_written_timeout_reads_back_to_the_next_millisecond(micros in 0u64..10_000_000_000) {
            let timeout = Duration::from_micros(micros);
            let back = parse_grpc_timeout(&format_grpc_timeout(timeout)).unwrap();
            proptest::prop_assert!(back >= timeout && back <= timeout + Duration::from_millis(1));
        }
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
