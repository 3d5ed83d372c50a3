//! The GraphQL backend-for-frontend: the mesh's public face for single-page storefronts.
//!
//! The GraphQL schema of `GRAPHQL-CONTRACT.md` lands with issue #8. Today the BFF serves the
//! operational endpoints operators and Kubernetes rely on: `/healthz` (alive), `/readyz`
//! (every upstream reports SERVING) and `/metrics`.
//!
//! # Layout
//! - [`upstreams`]: channels to the five services.
//! - [`probes`]: `/healthz` and `/readyz`.

pub mod probes;
pub mod upstreams;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use upstreams::Upstreams;

/// Checked settings of the BFF.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long `/readyz` waits for each upstream's health answer.
    pub readiness_timeout: std::time::Duration,
}

/// Serves the BFF's HTTP endpoints on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// Fails when the HTTP server stops with an I/O error.
pub async fn serve(
    config: &Config,
    upstreams: Upstreams,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let metrics = platform::telemetry::metrics::recorder();
    let state = probes::ProbeState {
        upstreams,
        timeout: config.readiness_timeout,
    };
    let router = axum::Router::new()
        .route("/healthz", axum::routing::get(probes::healthz))
        .route("/readyz", axum::routing::get(probes::readyz))
        .with_state(state)
        .route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move { metrics.render() }
            }),
        );
    let address = listener.local_addr()?;
    tracing::info!(%address, "bff listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .context("bff http server failed")?;
    tracing::info!("bff stopped");
    Ok(())
}
