//! Log lines joined to traces: every line written inside a span carries the `trace_id`
//! and `span_id` of the OpenTelemetry span current at that moment (the one a collector
//! receives), as fields of the JSON object or at the end of a pretty line.

use opentelemetry::trace::TraceContextExt as _;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The trace and span id of the current OpenTelemetry context, which the tracing layer
/// attaches whenever a span is entered; `None` outside every span.
pub fn current_ids() -> Option<(String, String)> {
    let context = opentelemetry::Context::current();
    let span = context.span();
    let span_context = span.span_context();
    span_context.is_valid().then(|| {
        (
            span_context.trace_id().to_string(),
            span_context.span_id().to_string(),
        )
    })
}

/// Wraps a line format: lines inside a span get the ids, others are written as they were.
#[derive(Debug)]
pub struct WithTraceIds<F> {
    inner: F,
    json: bool,
}

impl<F> WithTraceIds<F> {
    /// Adds the ids to `inner`'s lines; `json` says whether they are JSON objects.
    pub fn new(inner: F, json: bool) -> Self {
        Self { inner, json }
    }
}

impl<S, N, F> FormatEvent<S, N> for WithTraceIds<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let Some((trace_id, span_id)) = current_ids() else {
            return self.inner.format_event(context, writer, event);
        };
        // The line is built aside and the ids put in it; tracing-subscriber offers no way
        // to add fields to the line its formatter writes (and such a line has no colours).
        let mut line = String::with_capacity(256);
        self.inner.format_event(context, Writer::new(&mut line), event)?;
        match (self.json, line.strip_prefix('{')) {
            (true, Some(rest)) => {
                write!(
                    writer,
                    "{{\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\",{rest}"
                )
            }
            _ => {
                let text = line.trim_end_matches('\n');
                writeln!(writer, "{text} trace_id={trace_id} span_id={span_id}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::TracerProvider as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// Logs a line outside and one inside a span in `json` or pretty form; returns the lines
    /// and the span's trace and span id.
    fn log_in_a_span(json: bool) -> (Vec<String>, String, String) {
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let lines = Lines::default();
        let format = tracing_subscriber::fmt::format().with_ansi(false);
        let fmt_layer = if json {
            tracing_subscriber::fmt::layer()
                .event_format(WithTraceIds::new(format.json().flatten_event(true), true))
                .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                .with_writer(lines.clone())
                .boxed()
        } else {
            tracing_subscriber::fmt::layer()
                .event_format(WithTraceIds::new(format, false))
                .with_writer(lines.clone())
                .boxed()
        };
        let subscriber = tracing_subscriber::registry()
            .with(fmt_layer)
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let mut ids = (String::new(), String::new());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside any span");
            let span = tracing::info_span!("request");
            let _entered = span.enter();
            tracing::info!(order_id = 7, "inside the request");
            let context = span.context();
            let span_context = context.span().span_context().clone();
            ids = (
                span_context.trace_id().to_string(),
                span_context.span_id().to_string(),
            );
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        (text.lines().map(str::to_owned).collect(), ids.0, ids.1)
    }

    use tracing_subscriber::Layer as _;

    #[test]
    fn a_json_line_inside_a_span_carries_its_ids_and_stays_json() {
        let (lines, trace_id, span_id) = log_in_a_span(true);
        assert_eq!(lines.len(), 2, "{lines:?}");
        let outside: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert!(outside.get("trace_id").is_none(), "{outside}");
        let inside: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(inside["trace_id"], trace_id.as_str(), "{inside}");
        assert_eq!(inside["span_id"], span_id.as_str(), "{inside}");
        assert_eq!(inside["message"], "inside the request");
        assert_eq!(inside["order_id"], 7);
    }

    #[test]
    fn a_pretty_line_inside_a_span_ends_with_its_ids() {
        let (lines, trace_id, span_id) = log_in_a_span(false);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(!lines[0].contains("trace_id"), "{}", lines[0]);
        assert!(
            lines[1].ends_with(&format!("trace_id={trace_id} span_id={span_id}")),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains("inside the request"), "{}", lines[1]);
    }
}
