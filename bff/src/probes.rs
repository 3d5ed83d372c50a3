//! The probes: `/livez` (and its older name `/healthz`) says the process is alive; `/readyz`
//! says it should get traffic; `/readyz?verbose` adds what every upstream reports, for people.
//!
//! `/readyz` asks no upstream on purpose: an upstream that is down costs only the fields it
//! serves (partial answers are the BFF's design), so taking every BFF out of its Service for
//! it would turn a partial outage into a whole one.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::Upstreams;

/// What the probe handlers need.
#[derive(Debug, Clone)]
pub struct ProbeState {
    pub upstreams: Upstreams,
    /// How long `/readyz?verbose` waits for each upstream.
    pub timeout: Duration,
    /// Cancelled when the BFF begins to drain: from then on it is not ready.
    pub shutdown: CancellationToken,
}

/// Answers 200 while the process runs.
pub async fn livez() -> impl IntoResponse {
    Json(json!({ "status": "alive" }))
}

/// Answers 200 while the BFF serves and is not draining, 503 once it drains. With
/// `?verbose`, also asks every upstream's readiness and answers 503 unless all are SERVING
/// (what `helm test` and the CI smoke step check), naming each one's answer.
pub async fn readyz(State(state): State<ProbeState>, RawQuery(query): RawQuery) -> impl IntoResponse {
    let draining = state.shutdown.is_cancelled();
    let verbose = query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .any(|pair| pair == "verbose" || pair.starts_with("verbose="));
    if !verbose {
        return if draining {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "draining" })),
            )
        } else {
            (StatusCode::OK, Json(json!({ "status": "ready" })))
        };
    }
    let channels = state.upstreams.all();
    let checks = channels.iter().map(|channel| async move {
        let status = check(channel, state.timeout).await;
        (channel.callee(), status)
    });
    let results = futures::future::join_all(checks).await;
    let mut services = Map::new();
    let mut upstreams_ready = true;
    for (service, status) in results {
        upstreams_ready &= status == "SERVING";
        services.insert(service.as_str().to_owned(), Value::from(status));
    }
    let (code, status) = match (draining, upstreams_ready) {
        (true, _) => (StatusCode::SERVICE_UNAVAILABLE, "draining"),
        (false, true) => (StatusCode::OK, "ready"),
        (false, false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "ready, upstreams not all serving",
        ),
    };
    (code, Json(json!({ "status": status, "services": services })))
}

async fn check(channel: &platform::client::MeshChannel, timeout: Duration) -> String {
    let mut client = HealthClient::new(channel.clone());
    let request = HealthCheckRequest {
        service: channel.callee().grpc_name().to_owned(),
    };
    match tokio::time::timeout(timeout, client.check(request)).await {
        Ok(Ok(response)) => ServingStatus::try_from(response.into_inner().status)
            .map(|status| status.as_str_name().to_owned())
            .unwrap_or_else(|_| "UNKNOWN".to_owned()),
        Ok(Err(status)) => format!("UNREACHABLE ({:?})", status.code()),
        Err(_) => "TIMEOUT".to_owned(),
    }
}
