//! Logs, traces and metrics, initialised once by the binary.
//!
//! - [`init`]: the `tracing` subscriber (pretty or JSON), with OpenTelemetry spans so trace
//!   ids exist and cross services, exported over OTLP when an endpoint is configured.
//! - [`propagation`]: W3C `traceparent` in and out of gRPC metadata.
//! - [`metrics`]: the Prometheus recorder, the per-RPC [`metrics::GrpcTelemetryLayer`],
//!   process metrics and the `/metrics` endpoint; [`client_metrics`]: outgoing calls.

pub mod client_metrics;
pub mod metrics;
pub mod propagation;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// An error and its causes on one line, outermost first (`failed to x: connection refused`):
/// the value of every `error.cause_chain` log field. Not anyhow's `{:?}`, which with
/// `RUST_BACKTRACE` set (as operators set it for panics) resolves the captured backtrace:
/// that maps the binary's symbol tables and keeps them for the life of the process (what it
/// cost: the README's benchmark section, "Measured choices").
pub fn cause_chain(error: &anyhow::Error) -> String {
    format!("{error:#}")
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Pretty,
    /// One JSON object a line, for log shippers.
    Json,
}

/// Telemetry settings (`telemetry.*`, e.g. `BOOKSTORE_TELEMETRY__FORMAT=json`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    pub format: LogFormat,
    /// An `EnvFilter` directive; `RUST_LOG` wins when set.
    pub filter: Option<String>,
    /// OTLP/gRPC collector, e.g. `http://otel-collector:4317`; traces stay local when unset.
    pub otlp_endpoint: Option<String>,
}

/// Flushes buffered spans when dropped; keep it alive until the process exits.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("failed to flush traces: {error}");
        }
    }
}

/// Installs the global subscriber for `service`.
///
/// # Errors
/// Fails when the OTLP exporter cannot be built or a subscriber is already installed.
pub fn init(service: &str, default_filter: &str, config: &TelemetryConfig) -> anyhow::Result<TelemetryGuard> {
    let mut provider_builder = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name(service.to_owned())
            .build(),
    );
    if let Some(endpoint) = &config.otlp_endpoint {
        use opentelemetry_otlp::WithExportConfig as _;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()?;
        provider_builder = provider_builder.with_batch_exporter(exporter);
    }
    let provider = provider_builder.build();
    let tracer = provider.tracer("bookstore");

    let filter = match std::env::var("RUST_LOG") {
        Ok(directive) => EnvFilter::try_new(directive)?,
        Err(_) => EnvFilter::try_new(config.filter.as_deref().unwrap_or(default_filter))?,
    };
    let fmt_layer = match config.format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_chain_is_one_line_and_never_a_backtrace() {
        let error = anyhow::anyhow!("tcp connect error").context("failed to fetch the key set");
        let chain = super::cause_chain(&error);
        assert_eq!(chain, "failed to fetch the key set: tcp connect error");
        // Whatever RUST_BACKTRACE says: the Debug form is what printed (and resolved) it.
        assert!(!chain.contains("backtrace"), "{chain}");
    }
}
