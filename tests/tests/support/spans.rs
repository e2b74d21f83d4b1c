//! Exporting the process's spans to an in-process OTLP receiver, as `telemetry::init` sends
//! them to a real collector. The tracing subscriber is global to a test binary, so a test
//! that calls this is a binary of its own.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use sds_testkit::OtlpReceiver;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Sends spans to `receiver` under `service_name`, and logs warnings to the test's output.
pub fn export_spans_to(receiver: &OtlpReceiver, service_name: &'static str) -> SdkTracerProvider {
    let provider =
        sds_platform::telemetry::otlp_tracer_provider(service_name, Some(receiver.endpoint()))
            .expect("an OTLP tracer provider");
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    tracing_subscriber::registry()
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer(service_name))
                .with_filter(EnvFilter::new(
                    "info,sqlx=warn,async_nats=warn,h2=warn,tower=warn,hyper=warn",
                )),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_test_writer()
                .with_filter(EnvFilter::new("warn")),
        )
        .init();
    provider
}

/// Exports every span that has ended. The exporter blocks its caller, so off the runtime.
pub async fn flush(provider: &SdkTracerProvider) {
    let provider = provider.clone();
    let flushed = tokio::task::spawn_blocking(move || provider.force_flush())
        .await
        .expect("flush task");
    if let Err(error) = flushed {
        // The next poll flushes again; the deadline reports what never arrived.
        tracing::warn!(%error, "span export did not flush");
    }
}
