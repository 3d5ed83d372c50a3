//! Logs, traces and metrics, initialised once by the binary.
//!
//! - [`init`]: the `tracing` subscriber (pretty or JSON lines, each inside a request joined
//!   to its trace by [`logs`]), with OpenTelemetry spans so trace ids exist and cross
//!   services, exported over OTLP when an endpoint is configured; the standard `OTEL_*`
//!   variables work (see [`init`]).
//! - [`rpc`]: the semantic conventions of gRPC spans; the server span is opened by
//!   [`metrics::GrpcTelemetryLayer`], the client span by [`client_spans`].
//! - [`db_spans`]: spans of SQL statements and Redis commands.
//! - [`propagation`]: W3C `traceparent` in and out of gRPC metadata and HTTP headers.
//! - [`metrics`]: the Prometheus recorder, the per-RPC [`metrics::GrpcTelemetryLayer`],
//!   process metrics and the `/metrics` endpoint; [`client_metrics`]: outgoing calls.

pub mod client_metrics;
pub mod client_spans;
pub mod db_spans;
pub mod logs;
pub mod metrics;
pub mod propagation;
pub mod rpc;

use std::io::IsTerminal as _;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
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
/// Traces are exported over OTLP/gRPC to `telemetry.otlp_endpoint` when it is set, else to
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` when one is (the
/// setting wins: it is the mesh's own, and the chart writes it); `OTEL_TRACES_EXPORTER=none`
/// turns export off. The service is named by `OTEL_SERVICE_NAME` (or `service.name` in
/// `OTEL_RESOURCE_ATTRIBUTES`), else `service`; the other resource attributes come from
/// `OTEL_RESOURCE_ATTRIBUTES`. `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` pick the
/// sampler (default `parentbased_always_on`), and `OTEL_BSP_*` tune the batch exporter, as
/// the specification says. Spans are recorded at `info` whatever the log filter says, so
/// `RUST_LOG=warn` quiets the logs without breaking traces.
///
/// # Errors
/// Fails when an `OTEL_*` variable cannot be interpreted (the error names it), the OTLP
/// exporter cannot be built, or a subscriber is already installed.
pub fn init(service: &str, default_filter: &str, config: &TelemetryConfig) -> anyhow::Result<TelemetryGuard> {
    let otel = OtelEnv::from_env(|name| std::env::var(name).ok())?;
    let provider = tracer_provider(service, config, &otel)?;
    let tracer = provider.tracer("bookstore");

    let filter = match std::env::var("RUST_LOG") {
        Ok(directive) => EnvFilter::try_new(directive)?,
        Err(_) => EnvFilter::try_new(config.filter.as_deref().unwrap_or(default_filter))?,
    };
    let format = tracing_subscriber::fmt::format();
    let fmt_layer = match config.format {
        // Colours only on a terminal: a file or a log shipper would keep the escape codes,
        // and every span's fields would be painted as the span opens, read or not.
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .event_format(logs::WithTraceIds::new(format.with_target(false), false))
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .event_format(logs::WithTraceIds::new(
                format.json().flatten_event(true).with_current_span(true),
                true,
            ))
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
    };
    // Without the per-span extras an operator does not read: a tokio worker's thread name
    // and id, the source location (the span's name says where it is), and busy/idle times
    // (clock reads on every poll's enter and exit; the span's duration remains).
    let trace_layer = tracing_opentelemetry::layer()
        .with_threads(false)
        .with_location(false)
        .with_tracked_inactivity(false)
        .with_tracer(tracer)
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO);
    tracing_subscriber::registry()
        .with(fmt_layer)
        .with(trace_layer)
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

/// The `OTEL_*` variables the mesh reads itself (the exporter reads its own: headers,
/// timeout, compression, `OTEL_BSP_*`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtelEnv {
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
    pub endpoint_in_env: bool,
    /// `OTEL_TRACES_EXPORTER=none`.
    pub export_off: bool,
    /// `OTEL_SERVICE_NAME`, or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, is set.
    pub names_service: bool,
    pub sampler: Option<SamplerChoice>,
}

/// A sampler as `OTEL_TRACES_SAMPLER` (and `_ARG`) name it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SamplerChoice {
    AlwaysOn,
    AlwaysOff,
    Ratio(f64),
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedRatio(f64),
}

impl SamplerChoice {
    fn sampler(self) -> Sampler {
        match self {
            SamplerChoice::AlwaysOn => Sampler::AlwaysOn,
            SamplerChoice::AlwaysOff => Sampler::AlwaysOff,
            SamplerChoice::Ratio(ratio) => Sampler::TraceIdRatioBased(ratio),
            SamplerChoice::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            SamplerChoice::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            SamplerChoice::ParentBasedRatio(ratio) => {
                Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)))
            }
        }
    }
}

impl OtelEnv {
    /// Reads the variables through `var`. A value the SDK would silently replace by a
    /// default (an unknown sampler, a ratio that is not a number in [0, 1]) is an error
    /// naming the variable.
    ///
    /// # Errors
    /// The variable and why its value is refused.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let export_off = match set("OTEL_TRACES_EXPORTER").as_deref().map(str::trim) {
            None | Some("otlp") => false,
            Some("none") => true,
            Some(other) => anyhow::bail!(
                "invalid environment variable `OTEL_TRACES_EXPORTER`: `{other}` is not one of otlp, none"
            ),
        };
        let names_service = set("OTEL_SERVICE_NAME").is_some()
            || set("OTEL_RESOURCE_ATTRIBUTES")
                .unwrap_or_default()
                .split(',')
                .filter_map(|pair| pair.split_once('='))
                .any(|(key, _)| key.trim() == "service.name");
        let ratio = || -> anyhow::Result<f64> {
            let Some(text) = set("OTEL_TRACES_SAMPLER_ARG") else {
                return Ok(1.0);
            };
            match text.trim().parse::<f64>() {
                Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
                _ => anyhow::bail!(
                    "invalid environment variable `OTEL_TRACES_SAMPLER_ARG`: `{text}` is not a ratio between 0 and 1"
                ),
            }
        };
        let sampler = match set("OTEL_TRACES_SAMPLER").as_deref().map(str::trim) {
            None => None,
            Some("always_on") => Some(SamplerChoice::AlwaysOn),
            Some("always_off") => Some(SamplerChoice::AlwaysOff),
            Some("traceidratio") => Some(SamplerChoice::Ratio(ratio()?)),
            Some("parentbased_always_on") => Some(SamplerChoice::ParentBasedAlwaysOn),
            Some("parentbased_always_off") => Some(SamplerChoice::ParentBasedAlwaysOff),
            Some("parentbased_traceidratio") => Some(SamplerChoice::ParentBasedRatio(ratio()?)),
            Some(other) => anyhow::bail!(
                "invalid environment variable `OTEL_TRACES_SAMPLER`: `{other}` is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio"
            ),
        };
        Ok(Self {
            endpoint_in_env: set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
                || set("OTEL_EXPORTER_OTLP_ENDPOINT").is_some(),
            export_off,
            names_service,
            sampler,
        })
    }
}

/// The tracer provider: resource, sampler and, when an endpoint is known, the exporter.
fn tracer_provider(
    service: &str,
    config: &TelemetryConfig,
    otel: &OtelEnv,
) -> anyhow::Result<SdkTracerProvider> {
    // The builder reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES itself.
    let mut resource = opentelemetry_sdk::Resource::builder();
    if !otel.names_service {
        resource = resource.with_service_name(service.to_owned());
    }
    let sampler = otel.sampler.unwrap_or(SamplerChoice::ParentBasedAlwaysOn);
    let mut builder = SdkTracerProvider::builder()
        .with_resource(resource.build())
        .with_sampler(sampler.sampler());
    if !otel.export_off && (config.otlp_endpoint.is_some() || otel.endpoint_in_env) {
        use opentelemetry_otlp::WithExportConfig as _;
        let mut exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic();
        if let Some(endpoint) = &config.otlp_endpoint {
            exporter = exporter.with_endpoint(endpoint.clone());
        }
        let exporter = exporter
            .build()
            .context("failed to build the OTLP trace exporter")?;
        builder = builder.with_batch_exporter(exporter);
        db_spans::set_exporting(true);
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::{OtelEnv, SamplerChoice};

    fn otel(vars: &[(&str, &str)]) -> anyhow::Result<OtelEnv> {
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        OtelEnv::from_env(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_standard_otel_variables_are_read_and_a_value_that_means_nothing_is_refused() {
        assert_eq!(otel(&[]).unwrap(), OtelEnv::default());
        let read = otel(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod, service.name=shop-bff",
            ),
        ])
        .unwrap();
        assert!(read.endpoint_in_env && read.names_service && !read.export_off);
        assert_eq!(read.sampler, Some(SamplerChoice::ParentBasedRatio(0.25)));
        assert!(otel(&[("OTEL_SERVICE_NAME", "bff-eu")]).unwrap().names_service);
        assert!(otel(&[("OTEL_TRACES_EXPORTER", "none")]).unwrap().export_off);
        assert_eq!(
            otel(&[("OTEL_TRACES_SAMPLER", "traceidratio")]).unwrap().sampler,
            Some(SamplerChoice::Ratio(1.0))
        );
        for (name, value) in [
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_TRACES_EXPORTER", "jaeger"),
        ] {
            let error = otel(&[(name, value)]).unwrap_err().to_string();
            assert!(error.contains(name) && error.contains(value), "{error}");
        }
        for ratio in ["1.5", "half", "-0.1"] {
            let error = otel(&[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", ratio),
            ])
            .unwrap_err()
            .to_string();
            assert!(error.contains("OTEL_TRACES_SAMPLER_ARG"), "{error}");
        }
    }

    #[test]
    fn a_cause_chain_is_one_line_and_never_a_backtrace() {
        let error = anyhow::anyhow!("tcp connect error").context("failed to fetch the key set");
        let chain = super::cause_chain(&error);
        assert_eq!(chain, "failed to fetch the key set: tcp connect error");
        // Whatever RUST_BACKTRACE says: the Debug form is what printed (and resolved) it.
        assert!(!chain.contains("backtrace"), "{chain}");
    }
}
