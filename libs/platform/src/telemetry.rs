//! Logs and traces. Logs are human-readable or JSON on stderr (stdout stays free for
//! command output); spans are exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//! Trace context travels as W3C `traceparent` in gRPC metadata and NATS headers, so one
//! change can be followed across services in a single trace.
//!
//! What must stay true: one event is one line. Text logs escape line breaks, control
//! characters (ANSI escape sequences among them) and direction-changing characters in every
//! field value and message, of events and spans alike, in the formatter ([`OneLineFields`]),
//! so no value a request carries (a method name, a claim, a reason quoting input) can forge
//! a log line or drive the reader's terminal, and no later logging call can forget it. JSON
//! logs escape by construction.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::{RecordFields, Visit, VisitOutput as _};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::{FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Flushes exported spans when dropped at the end of `main`.
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // With no collector answering this gives up after a few seconds; that must not
            // fail or hang the shutdown.
            if let Err(error) = provider.shutdown_with_timeout(Duration::from_secs(3)) {
                eprintln!("telemetry: span export did not flush: {error}");
            }
        }
    }
}

/// Installs the global subscriber. Call once, inside the tokio runtime (the OTLP exporter
/// needs it). A second call, as in tests, leaves the first subscriber in place.
pub fn init(service_name: &'static str, format: LogFormat) -> TelemetryGuard {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,async_nats=warn,h2=warn,tower=warn"));

    let provider = match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => match otlp_tracer_provider(service_name, None) {
            Ok(provider) => Some(provider),
            Err(error) => {
                eprintln!("telemetry: OTLP export to {endpoint} disabled: {error}");
                None
            }
        },
        _ => None,
    };
    let otel_layer = provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer(service_name)));

    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    let result = match format {
        LogFormat::Text => registry
            // Colour codes only for a person at a terminal: in a file, journald or CI they
            // are noise that hides the text.
            .with(text_log_layer(
                std::io::stderr().is_terminal(),
                std::io::stderr,
            ))
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    if result.is_err() {
        return TelemetryGuard::default();
    }
    TelemetryGuard { provider }
}

/// The layer that writes text logs to `writer`, one line per event, with colour codes when
/// `ansi` is set. [`init`] uses it, and so do tests that look at what is logged.
pub fn text_log_layer<S, W>(ansi: bool, writer: W) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .fmt_fields(OneLineFields)
        .with_writer(writer)
}

/// Formats the fields of text logs (an event's message and fields, a span's fields) as
/// tracing's default does, with every value escaped by [`OneLine`].
#[derive(Debug, Default, Clone, Copy)]
pub struct OneLineFields;

impl<'writer> FormatFields<'writer> for OneLineFields {
    fn format_fields<R: RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        let mut visitor = OneLineVisitor {
            inner: DefaultVisitor::new(writer, true),
        };
        fields.record(&mut visitor);
        visitor.inner.finish()
    }
}

/// Hands every value to tracing's default visitor through [`OneLine`]. Numbers and booleans
/// take the default route through `record_debug` too; they cannot carry text anyway.
struct OneLineVisitor<'writer> {
    inner: DefaultVisitor<'writer>,
}

impl Visit for OneLineVisitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.inner.record_debug(field, &OneLine(value));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        // As the default visitor: the message as it is, other text quoted.
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_error(
        &mut self,
        field: &tracing::field::Field,
        value: &(dyn std::error::Error + 'static),
    ) {
        // The error and its causes on one line, as `{error:#}` shows an anyhow chain.
        let mut chain = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        self.record_debug(field, &format_args!("{chain}"));
    }
}

/// A value's `Debug` text with every character that could end the line, move the cursor,
/// colour or reorder the text written as an escape: `\n`, `\r`, `\t`, or `\u{..}` (so the
/// ESC that starts an ANSI sequence is `\u{1b}`). Line and paragraph separators and the
/// C1 controls (NEL, CSI) count too: some terminals and log viewers honour them.
pub struct OneLine<'value>(pub &'value dyn std::fmt::Debug);

impl std::fmt::Debug for OneLine<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        write!(EscapingWriter { inner: formatter }, "{:?}", self.0)
    }
}

struct EscapingWriter<'a, 'b> {
    inner: &'a mut std::fmt::Formatter<'b>,
}

impl std::fmt::Write for EscapingWriter<'_, '_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let mut clean_from = 0;
        for (index, character) in text.char_indices() {
            if !breaks_the_line(character) {
                continue;
            }
            self.inner.write_str(&text[clean_from..index])?;
            match character {
                '\n' => self.inner.write_str("\\n")?,
                '\r' => self.inner.write_str("\\r")?,
                '\t' => self.inner.write_str("\\t")?,
                other => write!(self.inner, "\\u{{{:x}}}", u32::from(other))?,
            }
            clean_from = index + character.len_utf8();
        }
        self.inner.write_str(&text[clean_from..])
    }
}

/// Control characters (C0, DEL, C1), and the invisible and direction-changing characters
/// that names refuse (line and paragraph separators among them), by the same rule.
fn breaks_the_line(character: char) -> bool {
    character.is_control() || sds_vocabulary::text::is_invisible_or_direction_changing(character)
}

/// A tracer provider that batches spans of `service_name` to an OTLP/gRPC collector at
/// `endpoint` (`http://host:port`), or, for `None`, wherever the standard
/// `OTEL_EXPORTER_OTLP_*` variables say. [`init`] uses it; tests point it at an in-process
/// receiver. Build it inside the tokio runtime.
pub fn otlp_tracer_provider(
    service_name: &'static str,
    endpoint: Option<&str>,
) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig as _;
    let mut exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic();
    if let Some(endpoint) = endpoint {
        exporter = exporter.with_endpoint(endpoint);
    }
    let exporter = exporter.build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name)
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Makes `span` a child of the trace context carried by incoming HTTP/2 headers.
pub fn adopt_remote_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    // Without an OpenTelemetry layer there is nothing to attach to; that is fine.
    let _ = span.set_parent(parent);
}

/// The W3C trace context of the current span as (`traceparent`, `tracestate`); empty
/// strings when no trace is being recorded.
pub fn current_trace_context() -> (String, String) {
    let mut carrier: HashMap<String, String> = HashMap::new();
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut carrier)
    });
    (
        carrier.remove("traceparent").unwrap_or_default(),
        carrier.remove("tracestate").unwrap_or_default(),
    )
}

/// Makes `span` a child of a stored W3C trace context (from an event envelope).
pub fn adopt_stored_parent(span: &tracing::Span, traceparent: &str, tracestate: &str) {
    if traceparent.is_empty() {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&StoredTraceContext {
            traceparent,
            tracestate,
        })
    });
    let _ = span.set_parent(parent);
}

/// The span a stored W3C trace context (from an event envelope) names, for a span link to
/// it; `None` when `traceparent` is empty or not understood by the global propagator.
pub fn stored_span_context(traceparent: &str, tracestate: &str) -> Option<SpanContext> {
    if traceparent.is_empty() {
        return None;
    }
    let context = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&StoredTraceContext {
            traceparent,
            tracestate,
        })
    });
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then_some(span_context)
}

/// Adds the current trace context to outgoing gRPC metadata (for clients).
pub fn inject_into_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut MetadataInjector(metadata))
    });
}

/// The two fields of a stored trace context, read without copying them into a map.
struct StoredTraceContext<'a> {
    traceparent: &'a str,
    tracestate: &'a str,
}

impl Extractor for StoredTraceContext<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => Some(self.traceparent),
            "tracestate" if !self.tracestate.is_empty() => Some(self.tracestate),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// Log capture for this crate's unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use std::sync::{Arc, Mutex};

    /// Everything logged while its subscriber is the default, as plain text.
    #[derive(Clone, Default)]
    pub(crate) struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

    impl CapturedLogs {
        /// A subscriber that logs as the text format of [`super::init`] does.
        pub(crate) fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
            use tracing_subscriber::layer::SubscriberExt as _;
            let sink = self.clone();
            tracing_subscriber::registry().with(super::text_log_layer(false, move || sink.clone()))
        }

        pub(crate) fn text(&self) -> String {
            let bytes = self.0.lock().map(|bytes| bytes.clone()).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }

    impl std::io::Write for CapturedLogs {
        fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut bytes) = self.0.lock() {
                bytes.extend_from_slice(buffer);
            }
            Ok(buffer.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace_id(traceparent: &str) -> &str {
        traceparent.split('-').nth(1).unwrap_or("")
    }

    #[test]
    fn trace_context_crosses_grpc_metadata_and_event_envelopes() {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

            let client_span = tracing::info_span!("client call");
            let _entered = client_span.enter();
            let mut metadata = tonic::metadata::MetadataMap::new();
            inject_into_metadata(&mut metadata);
            let sent = metadata
                .get("traceparent")
                .expect("traceparent sent")
                .to_str()
                .unwrap()
                .to_owned();
            assert!(sent.starts_with("00-"), "{sent}");

            // The server continues the caller's trace...
            let server_span = tracing::info_span!("rpc");
            adopt_remote_parent(&server_span, &metadata.clone().into_headers());
            let (in_server, _) = server_span.in_scope(current_trace_context);
            assert_eq!(trace_id(&in_server), trace_id(&sent));

            // ...and so does a consumer handling an event written under that trace.
            let handler_span = tracing::info_span!("handle event");
            adopt_stored_parent(&handler_span, &in_server, "");
            let (in_handler, _) = handler_span.in_scope(current_trace_context);
            assert_eq!(trace_id(&in_handler), trace_id(&sent));
        });
    }

    #[test]
    fn a_stored_trace_context_names_the_span_it_was_taken_from() {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
            let change_span = tracing::info_span!("change");
            let (traceparent, tracestate) = change_span.in_scope(current_trace_context);
            let expected = change_span.context().span().span_context().clone();

            let stored = stored_span_context(&traceparent, &tracestate).expect("a span context");

            assert_eq!(stored.trace_id(), expected.trace_id());
            assert_eq!(stored.span_id(), expected.span_id());
            assert!(stored.is_remote());
            assert_eq!(stored_span_context("", ""), None);
            assert_eq!(stored_span_context("not a traceparent", ""), None);
        });
    }

    #[test]
    fn a_value_carrying_a_line_break_and_ansi_codes_is_logged_on_one_line_escaped() {
        let logs = tests_support::CapturedLogs::default();
        let forged = "x\n2026-11-28T09:00:00.000000Z  INFO sds: payment approved\r\u{1b}[2K\u{1b}[31mred\u{85}\u{2028}";
        let cause = std::io::Error::other(forged);
        tracing::subscriber::with_default(logs.subscriber(), || {
            let span = tracing::info_span!(
                "rpc",
                rpc.method = forged,
                enduser.id = tracing::field::Empty
            );
            span.record("enduser.id", forged);
            span.in_scope(|| {
                tracing::warn!(
                    reason = %forged,
                    quoted = forged,
                    debugged = ?forged,
                    error = &cause as &(dyn std::error::Error + 'static),
                    "request refused: {forged}"
                );
            });
        });

        let text = logs.text();
        assert_eq!(text.lines().count(), 1, "one event, one line: {text:?}");
        assert!(text.ends_with('\n'), "{text:?}");
        for raw in ['\r', '\u{1b}', '\u{85}', '\u{2028}'] {
            assert!(!text.contains(raw), "{raw:?} written as it is: {text:?}");
        }
        // In the message, the Display, text, Debug and error fields, and both span fields.
        let escaped = r"x\n2026-11-28T09:00:00.000000Z  INFO sds: payment approved\r\u{1b}[2K\u{1b}[31mred\u{85}\u{2028}";
        assert_eq!(text.matches(escaped).count(), 7, "{text}");
        assert!(text.contains("request refused: x\\n2026"), "{text}");
    }

    #[test]
    fn plain_text_is_logged_as_it_is() {
        let escaped = format!(
            "{:?}",
            OneLine(&format_args!("café – naïve 10 % \\n \"quoted\""))
        );
        assert_eq!(escaped, "café – naïve 10 % \\n \"quoted\"");
    }

    #[test]
    fn without_a_trace_there_is_no_context_to_carry() {
        let (traceparent, tracestate) = current_trace_context();
        assert_eq!((traceparent.as_str(), tracestate.as_str()), ("", ""));
    }
}
