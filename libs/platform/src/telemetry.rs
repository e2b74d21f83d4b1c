//! Logs and traces. Logs are human-readable or JSON on stderr (stdout stays free for
//! command output); spans are exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//! Trace context travels as W3C `traceparent` in gRPC metadata and NATS headers, so one
//! change can be followed across services in a single trace.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
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
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
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
        pub(crate) fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
            let sink = self.clone();
            tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(move || sink.clone())
                .finish()
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
    fn without_a_trace_there_is_no_context_to_carry() {
        let (traceparent, tracestate) = current_trace_context();
        assert_eq!((traceparent.as_str(), tracestate.as_str()), ("", ""));
    }
}
