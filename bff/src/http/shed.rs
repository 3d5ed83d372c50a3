//! Load shedding: at most `bff.max_concurrent_requests` GraphQL requests run at once, and one
//! more is refused at once with `503` and `Retry-After`, before its body is read or its
//! token verified, so a refusal costs next to nothing and the accepted requests keep their
//! latency instead of all of them queueing behind each other until their deadlines pass.

use axum::BoxError;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::layer::util::{Identity, Stack};
use tower::limit::ConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;

/// What a refused client is told to wait, in seconds.
const RETRY_AFTER_SECONDS: &str = "1";

/// Default of `bff.max_concurrent_requests`: 16 requests per CPU. A BFF pod mostly waits for
/// upstreams on other pods, so a few per core would leave it idle and refusing; where it shares
/// its cores with every service (`bookstore up` on a small machine) 1 per CPU keeps the
/// accepted latency flat under overload (the README's "measured choices").
pub fn default_max_concurrent_requests() -> usize {
    16 * platform::server::available_cpus()
}

type Refuse = fn(BoxError) -> std::future::Ready<Response>;

/// The shedding layers, outermost first.
pub type ShedLayers =
    Stack<ConcurrencyLimitLayer, Stack<LoadShedLayer, Stack<HandleErrorLayer<Refuse, ()>, Identity>>>;

/// The layers: refuse (503) when `limit` requests are running.
pub fn layer(limit: usize) -> ShedLayers {
    let refuse: Refuse = |error| std::future::ready(refusal(&error));
    tower::ServiceBuilder::new()
        .layer(HandleErrorLayer::new(refuse))
        .layer(LoadShedLayer::new())
        .layer(ConcurrencyLimitLayer::new(limit.max(1)))
        .into_inner()
}

/// The answer to a request that was shed.
fn refusal(error: &BoxError) -> Response {
    if !error.is::<tower::load_shed::error::Overloaded>() {
        tracing::warn!(%error, "request failed in the shedding layer");
    }
    metrics::counter!(crate::metrics::REQUESTS_SHED_TOTAL).increment(1);
    let body = serde_json::json!({ "errors": [{
        "message": "the server is overloaded, retry later",
        "extensions": { "code": "UNAVAILABLE" }
    }]});
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test]
    async fn a_request_beyond_the_limit_is_refused_at_once_with_retry_after() {
        let router = axum::Router::new()
            .route(
                "/graphql",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "done"
                }),
            )
            // As in `serve`: the routes are finished (state given) before the layer wraps
            // them, so every request meets the one limit.
            .with_state(())
            .layer(layer(1));
        let request = || {
            axum::http::Request::builder()
                .uri("/graphql")
                .body(Body::empty())
                .unwrap()
        };
        let running = tokio::spawn(router.clone().oneshot(request()));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = std::time::Instant::now();
        let refused = router.clone().oneshot(request()).await.unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{:?}",
            started.elapsed()
        );
        assert!(started.elapsed() < Duration::from_millis(100), "refused at once");
        assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
        assert_eq!(running.await.unwrap().unwrap().status(), StatusCode::OK);
        // The permit came back with the answer.
        assert_eq!(router.oneshot(request()).await.unwrap().status(), StatusCode::OK);
    }
}
