//! `/healthz` says the process is alive; `/readyz` says every upstream reports SERVING.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use serde_json::{Map, Value, json};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::Upstreams;

/// What the probe handlers need.
#[derive(Debug, Clone)]
pub struct ProbeState {
    pub upstreams: Upstreams,
    pub timeout: Duration,
}

/// Answers 200 while the process runs.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "alive" }))
}

/// Answers 200 when every upstream reports SERVING, otherwise 503 naming the ones that
/// do not.
pub async fn readyz(State(state): State<ProbeState>) -> impl IntoResponse {
    let channels = state.upstreams.all();
    let checks = channels.iter().map(|channel| async move {
        let status = check(channel, state.timeout).await;
        (channel.callee(), status)
    });
    let results = futures::future::join_all(checks).await;
    let mut services = Map::new();
    let mut ready = true;
    for (service, status) in results {
        ready &= status == "SERVING";
        services.insert(service.as_str().to_owned(), Value::from(status));
    }
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({ "status": if ready { "ready" } else { "not ready" }, "services": services });
    (code, Json(body))
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
