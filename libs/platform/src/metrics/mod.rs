//! The metrics operators expect. Their names, types and labels are a contract with
//! `deploy/k8s/monitoring` (alerts and dashboard), written down in `deploy/k8s/README.md`
//! ("Metrics"):
//!
//! | name | type | labels |
//! |---|---|---|
//! | `sds_rpc_requests_total` | counter | service, method, code |
//! | `sds_rpc_duration_seconds` | histogram | service, method |
//! | `sds_outbox_oldest_unpublished_seconds` | gauge | service |
//! | `sds_consumer_pending` | gauge | service, durable |
//! | `sds_consumer_dead_letters` | counter | service, durable |
//! | `sds_payment_run_done`, `sds_payment_run_total` | gauge | authority, phase |
//! | `sds_db_pool_in_use`, `sds_db_pool_size` | gauge | service |
//!
//! A process has one [`Metrics`] (`sds_runtime::build` makes it): OpenTelemetry instruments
//! on a meter provider of its own, read two ways from the same aggregation, so the two
//! always agree:
//!
//! - as Prometheus text (format 0.0.4), collected on each scrape ([`Metrics::prometheus_text`],
//!   served as `GET /metrics` on `SDS_METRICS_ADDR`);
//! - pushed over OTLP/gRPC to `OTEL_EXPORTER_OTLP_ENDPOINT`, every
//!   `OTEL_METRIC_EXPORT_INTERVAL` milliseconds (60 000 unless set), and once more at
//!   shutdown ([`Metrics::shutdown`]).
//!
//! With neither, [`Metrics`] is off and recording costs nothing.
//!
//! What must stay true:
//!
//! - counters and the histogram are cumulative from the start of the process; a counter's
//!   series exists from the moment its subject does (a durable consumer's dead letters
//!   start at 0), so that `increase()` sees the first event;
//! - gauges that need PostgreSQL or NATS (outbox age, consumer pending) are samples taken
//!   by the runtime every `SDS_METRICS_SAMPLE_MS`; a sample that fails leaves the last one
//!   standing. Pool gauges are read at collection;
//! - no label takes a value a caller chose: services are the process's components, methods
//!   those of `sds.v1` (see `server::rpc_metrics`), durables and phases are the code's own,
//!   and authorities are those a payment run was started for, so no caller can grow the
//!   number of series.
//!
//! Payment run progress is the one exception to "one per process": a run reports it from
//! deep inside the payments service, which holds no handle to the process, so the runs in
//! progress are kept once per OS process ([`PaymentRunGauges`]) and every [`Metrics`] shows
//! them. In production a process is an OS process, so this is the same; tests that run
//! several processes in one test binary see every process's runs on each.

mod payment_runs;
mod prometheus;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _, ObservableGauge};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{ManualReader, PeriodicReader, SdkMeterProvider};
use sqlx::PgPool;
use tonic::Code;

pub use payment_runs::PaymentRunGauges;
pub use prometheus::CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE;

pub const RPC_REQUESTS: &str = "sds_rpc_requests_total";
pub const RPC_DURATION: &str = "sds_rpc_duration_seconds";
pub const OUTBOX_OLDEST_UNPUBLISHED: &str = "sds_outbox_oldest_unpublished_seconds";
pub const CONSUMER_PENDING: &str = "sds_consumer_pending";
pub const CONSUMER_DEAD_LETTERS: &str = "sds_consumer_dead_letters";
pub const PAYMENT_RUN_DONE: &str = "sds_payment_run_done";
pub const PAYMENT_RUN_TOTAL: &str = "sds_payment_run_total";
pub const DB_POOL_IN_USE: &str = "sds_db_pool_in_use";
pub const DB_POOL_SIZE: &str = "sds_db_pool_size";

/// The upper bounds (seconds) of `sds_rpc_duration_seconds`'s buckets: from a cached read
/// (a millisecond) to the server's default request timeout (30 s); longer calls (streams)
/// fall in `+Inf`.
pub const RPC_DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Where a process's metrics go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsExport {
    /// Someone will read [`Metrics::prometheus_text`] (`SDS_METRICS_ADDR` is set).
    pub prometheus: bool,
    /// The OTLP/gRPC collector (`http://host:4317`) to push to; `None`: no push.
    pub otlp_endpoint: Option<String>,
}

impl MetricsExport {
    fn is_off(&self) -> bool {
        !self.prometheus && self.otlp_endpoint.is_none()
    }
}

/// A process's metrics; cheap to clone, all clones record into the same instruments. The
/// default is off: every recording is a no-op.
#[derive(Clone, Default)]
pub struct Metrics {
    recording: Option<Arc<Recording>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Metrics")
            .field("on", &self.is_on())
            .field(
                "prometheus",
                &self
                    .recording
                    .as_ref()
                    .is_some_and(|recording| recording.scrape.is_some()),
            )
            .finish()
    }
}

struct Recording {
    provider: SdkMeterProvider,
    /// Collected on each scrape; `None` when no Prometheus text is served.
    scrape: Option<SharedReader>,
    rpc_requests: Counter<u64>,
    rpc_duration: Histogram<f64>,
    dead_letters: Counter<u64>,
    samples: Arc<Samples>,
    /// Kept with the provider, whose callbacks they are.
    _observed: (Vec<ObservableGauge<f64>>, Vec<ObservableGauge<u64>>),
}

/// What gauges report at collection: samples the runtime took, and the pools to read.
#[derive(Default)]
struct Samples {
    outbox_age: Mutex<BTreeMap<&'static str, f64>>,
    consumer_pending: Mutex<BTreeMap<(&'static str, String), u64>>,
    pools: Mutex<Vec<(&'static str, PgPool)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Metrics {
    /// Metrics exported as `export` says, as resource `service_name` (the OTLP resource's
    /// `service.name`, as for traces); off when `export` names no way out. Call inside the
    /// tokio runtime (the OTLP exporter needs it). An OTLP endpoint that is no URL is
    /// logged and skipped, as for traces: metrics must not stop the process.
    pub fn start(export: &MetricsExport, service_name: &'static str) -> Metrics {
        if export.is_off() {
            return Metrics::default();
        }
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name(service_name)
            .build();
        let mut builder = SdkMeterProvider::builder().with_resource(resource);
        let scrape = export
            .prometheus
            .then(|| SharedReader(Arc::new(ManualReader::builder().build())));
        if let Some(reader) = &scrape {
            builder = builder.with_reader(reader.clone());
        }
        if let Some(endpoint) = &export.otlp_endpoint {
            match otlp_reader(endpoint) {
                Ok(reader) => builder = builder.with_reader(reader),
                Err(error) => {
                    tracing::warn!(
                        endpoint,
                        error = format!("{error:#}"),
                        "OTLP metrics export disabled"
                    );
                    if scrape.is_none() {
                        return Metrics::default();
                    }
                }
            }
        }
        let provider = builder.build();
        let meter = provider.meter("sds");
        let samples = Arc::new(Samples::default());

        let rpc_requests = meter
            .u64_counter(RPC_REQUESTS)
            .with_description("gRPC calls answered, by service, method and status code (health and reflection not counted)")
            .build();
        let rpc_duration = meter
            .f64_histogram(RPC_DURATION)
            .with_description(
                "Time from a gRPC call's arrival to its answer (its status), by service and method",
            )
            .with_unit("s")
            .with_boundaries(RPC_DURATION_BUCKETS.to_vec())
            .build();
        let dead_letters = meter
            .u64_counter(CONSUMER_DEAD_LETTERS)
            .with_description(
                "Events this process's consumers set aside in their dead_letter table",
            )
            .build();

        let outbox = {
            let samples = Arc::clone(&samples);
            meter
                .f64_observable_gauge(OUTBOX_OLDEST_UNPUBLISHED)
                .with_description(
                    "Age of the oldest outbox event not yet published; 0 when none waits",
                )
                .with_unit("s")
                .with_callback(move |observer| {
                    for (service, age) in lock(&samples.outbox_age).iter() {
                        observer.observe(*age, &[KeyValue::new("service", *service)]);
                    }
                })
                .build()
        };
        let pending = {
            let samples = Arc::clone(&samples);
            meter
                .u64_observable_gauge(CONSUMER_PENDING)
                .with_description(
                    "Events in the stream the durable consumer has not yet acknowledged",
                )
                .with_callback(move |observer| {
                    for ((service, durable), pending) in lock(&samples.consumer_pending).iter() {
                        observer.observe(
                            *pending,
                            &[
                                KeyValue::new("service", *service),
                                KeyValue::new("durable", durable.clone()),
                            ],
                        );
                    }
                })
                .build()
        };
        let pool_gauge =
            |name: &'static str, description: &'static str, read: fn(&PgPool) -> u64| {
                let samples = Arc::clone(&samples);
                meter
                    .u64_observable_gauge(name)
                    .with_description(description)
                    .with_callback(move |observer| {
                        for (service, pool) in lock(&samples.pools).iter() {
                            observer.observe(read(pool), &[KeyValue::new("service", *service)]);
                        }
                    })
                    .build()
            };
        let in_use = pool_gauge(
            DB_POOL_IN_USE,
            "PostgreSQL connections in use by the service's pool",
            |pool| {
                let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
                u64::from(pool.size().saturating_sub(idle))
            },
        );
        let size = pool_gauge(
            DB_POOL_SIZE,
            "The most connections the service's pool may open",
            |pool| u64::from(pool.options().get_max_connections()),
        );
        let run_gauge = |name: &'static str,
                         description: &'static str,
                         read: fn(&payment_runs::Shown) -> u64| {
            meter
                .u64_observable_gauge(name)
                .with_description(description)
                .with_callback(move |observer| {
                    payment_runs::each(|authority, shown| {
                        observer.observe(
                            read(shown),
                            &[
                                KeyValue::new("authority", authority.to_owned()),
                                KeyValue::new("phase", shown.phase),
                            ],
                        );
                    });
                })
                .build()
        };
        let run_done = run_gauge(
            PAYMENT_RUN_DONE,
            "Items done in the current phase of a payment run in progress",
            |shown| shown.done,
        );
        let run_total = run_gauge(
            PAYMENT_RUN_TOTAL,
            "Items in all in the current phase of a payment run in progress",
            |shown| shown.total,
        );

        Metrics {
            recording: Some(Arc::new(Recording {
                provider,
                scrape,
                rpc_requests,
                rpc_duration,
                dead_letters,
                samples,
                _observed: (
                    vec![outbox],
                    vec![pending, in_use, size, run_done, run_total],
                ),
            })),
        }
    }

    /// Whether anything is recorded.
    pub fn is_on(&self) -> bool {
        self.recording.is_some()
    }

    /// Counts one gRPC call of `method` of `service` (the short name, `ledger`) answered
    /// with `code` after `elapsed`.
    pub fn record_rpc(
        &self,
        service: &'static str,
        method: &'static str,
        code: Code,
        elapsed: Duration,
    ) {
        let Some(recording) = &self.recording else {
            return;
        };
        let service = KeyValue::new("service", service);
        let method = KeyValue::new("method", method);
        recording
            .rpc_duration
            .record(elapsed.as_secs_f64(), &[service.clone(), method.clone()]);
        recording.rpc_requests.add(
            1,
            &[service, method, KeyValue::new("code", code_name(code))],
        );
    }

    /// The dead-letter counter of consumer `durable` of `service`, its series started at 0.
    pub fn dead_letters(&self, service: &'static str, durable: &str) -> DeadLetterCount {
        let Some(recording) = &self.recording else {
            return DeadLetterCount::default();
        };
        let attributes: Arc<[KeyValue]> = Arc::new([
            KeyValue::new("service", service),
            KeyValue::new("durable", durable.to_owned()),
        ]);
        recording.dead_letters.add(0, &attributes);
        DeadLetterCount {
            counting: Some((recording.dead_letters.clone(), attributes)),
        }
    }

    /// Sets the age of the oldest unpublished event in `service`'s outbox (0: none waits).
    pub fn set_outbox_age(&self, service: &'static str, seconds: f64) {
        if let Some(recording) = &self.recording {
            lock(&recording.samples.outbox_age).insert(service, seconds);
        }
    }

    /// Sets the events consumer `durable` of `service` has not yet acknowledged.
    pub fn set_consumer_pending(&self, service: &'static str, durable: &str, pending: u64) {
        if let Some(recording) = &self.recording {
            lock(&recording.samples.consumer_pending)
                .insert((service, durable.to_owned()), pending);
        }
    }

    /// Reports `pool`'s connections as `service`'s, whenever metrics are collected.
    pub fn watch_pool(&self, service: &'static str, pool: PgPool) {
        if let Some(recording) = &self.recording {
            lock(&recording.samples.pools).push((service, pool));
        }
    }

    /// Every series as Prometheus text (format 0.0.4), collected now; `None` when this
    /// process serves no Prometheus text, or has shut its metrics down.
    pub fn prometheus_text(&self) -> Option<String> {
        let reader = self.recording.as_ref()?.scrape.as_ref()?;
        let mut collected = ResourceMetrics::default();
        if let Err(error) = reader.collect(&mut collected) {
            tracing::debug!(%error, "metrics not collected");
            return None;
        }
        Some(prometheus::encode(&collected))
    }

    /// Pushes the last OTLP export and stops the exporter (waiting at most 5 s, the SDK's
    /// own limit, for a collector that does not answer); no text is served afterwards.
    /// Blocks the calling thread: from async code call it on a blocking thread
    /// (`tokio::task::spawn_blocking`), or the export may wait for the runtime it blocks.
    pub fn shutdown(&self) {
        let Some(recording) = &self.recording else {
            return;
        };
        if let Err(error) = recording.provider.shutdown() {
            tracing::debug!(%error, "metrics did not shut down cleanly");
        }
    }
}

/// Counts the events one durable consumer sets aside in `dead_letter`. The default counts
/// nothing.
#[derive(Clone, Default)]
pub struct DeadLetterCount {
    counting: Option<(Counter<u64>, Arc<[KeyValue]>)>,
}

impl std::fmt::Debug for DeadLetterCount {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DeadLetterCount")
            .field("on", &self.counting.is_some())
            .finish()
    }
}

impl DeadLetterCount {
    /// One more event set aside.
    pub fn record(&self) {
        if let Some((counter, attributes)) = &self.counting {
            counter.add(1, attributes);
        }
    }
}

/// The name of a gRPC status code as the gRPC specification writes it (`INVALID_ARGUMENT`),
/// the `code` label.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A periodic reader pushing to the OTLP/gRPC collector at `endpoint`, at the interval
/// `OTEL_METRIC_EXPORT_INTERVAL` says (60 s unless set).
fn otlp_reader(
    endpoint: &str,
) -> anyhow::Result<PeriodicReader<opentelemetry_otlp::MetricExporter>> {
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .context("build the OTLP metric exporter")?;
    Ok(PeriodicReader::builder(exporter).build())
}

/// The manual reader, shared between the provider (which registers with it) and
/// [`Metrics::prometheus_text`] (which collects from it).
#[derive(Debug, Clone)]
struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: std::sync::Weak<opentelemetry_sdk::metrics::Pipeline>) {
        self.0.register_pipeline(pipeline);
    }

    fn collect(&self, metrics: &mut ResourceMetrics) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.collect(metrics)
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(
        &self,
        kind: opentelemetry_sdk::metrics::InstrumentKind,
    ) -> opentelemetry_sdk::metrics::Temporality {
        self.0.temporality(kind)
    }
}

#[cfg(test)]
mod tests;
