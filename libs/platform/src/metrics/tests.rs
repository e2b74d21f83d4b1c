use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue as ProtoKeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as ProtoValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as NumberValue;

use super::*;

/// One series of Prometheus text: its name and labels.
type Series = (String, BTreeMap<String, String>);

/// The samples of Prometheus text, and the `# TYPE` of each metric.
struct Scraped {
    samples: BTreeMap<Series, String>,
    types: BTreeMap<String, String>,
}

impl Scraped {
    fn parse(text: &str) -> Scraped {
        let mut samples = BTreeMap::new();
        let mut types = BTreeMap::new();
        for line in text.lines() {
            if let Some(typed) = line.strip_prefix("# TYPE ") {
                let (name, kind) = typed.split_once(' ').expect("a name and a type");
                types.insert(name.to_owned(), kind.to_owned());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("a series and a value");
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.strip_suffix('}').expect("closed labels")),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|label| !label.is_empty())
                .map(|label| {
                    let (key, value) = label.split_once('=').expect("key=value");
                    (key.to_owned(), value.trim_matches('"').to_owned())
                })
                .collect();
            samples.insert((name.to_owned(), labels), value.to_owned());
        }
        Scraped { samples, types }
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<&str> {
        let labels = labels
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        self.samples
            .get(&(name.to_owned(), labels))
            .map(String::as_str)
    }

    fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.samples.keys().map(|(name, _)| name.as_str()).collect();
        names.dedup();
        names
    }
}

fn prometheus_only() -> Metrics {
    Metrics::start(
        &MetricsExport {
            prometheus: true,
            otlp_endpoint: None,
        },
        "sds",
    )
}

fn scrape(metrics: &Metrics) -> Scraped {
    Scraped::parse(&metrics.prometheus_text().expect("Prometheus text"))
}

#[test]
fn rpc_calls_are_counted_by_service_method_and_code_and_timed_in_buckets() {
    let metrics = prometheus_only();
    metrics.record_rpc(
        "ledger",
        "CreateTransfers",
        Code::Ok,
        Duration::from_millis(3),
    );
    metrics.record_rpc(
        "ledger",
        "CreateTransfers",
        Code::Ok,
        Duration::from_millis(40),
    );
    metrics.record_rpc(
        "ledger",
        "CreateTransfers",
        Code::InvalidArgument,
        Duration::from_millis(1),
    );
    metrics.record_rpc(
        "directory",
        "GetProvider",
        Code::NotFound,
        Duration::from_secs(40),
    );

    let scraped = scrape(&metrics);

    assert_eq!(scraped.types[RPC_REQUESTS], "counter");
    assert_eq!(scraped.types[RPC_DURATION], "histogram");
    let requests = |service, method, code| {
        scraped.value(
            RPC_REQUESTS,
            &[("service", service), ("method", method), ("code", code)],
        )
    };
    assert_eq!(requests("ledger", "CreateTransfers", "OK"), Some("2"));
    assert_eq!(
        requests("ledger", "CreateTransfers", "INVALID_ARGUMENT"),
        Some("1")
    );
    assert_eq!(requests("directory", "GetProvider", "NOT_FOUND"), Some("1"));
    let bucket = |le| {
        scraped.value(
            "sds_rpc_duration_seconds_bucket",
            &[
                ("service", "ledger"),
                ("method", "CreateTransfers"),
                ("le", le),
            ],
        )
    };
    assert_eq!(bucket("0.001"), Some("1"));
    assert_eq!(bucket("0.0025"), Some("1"));
    assert_eq!(bucket("0.005"), Some("2"));
    assert_eq!(bucket("0.025"), Some("2"));
    assert_eq!(bucket("0.05"), Some("3"));
    assert_eq!(bucket("30"), Some("3"));
    assert_eq!(bucket("+Inf"), Some("3"));
    let directory = [("service", "directory"), ("method", "GetProvider")];
    assert_eq!(
        scraped.value(
            "sds_rpc_duration_seconds_bucket",
            &[directory[0], directory[1], ("le", "30")]
        ),
        Some("0"),
        "40 s is beyond the last bound"
    );
    assert_eq!(
        scraped.value("sds_rpc_duration_seconds_count", &directory),
        Some("1")
    );
    assert_eq!(
        scraped.value("sds_rpc_duration_seconds_sum", &directory),
        Some("40")
    );
}

#[test]
fn gauges_show_the_latest_sample_and_a_finished_payment_run_shows_nothing() {
    let metrics = prometheus_only();
    metrics.set_outbox_age("directory", 12.5);
    metrics.set_outbox_age("directory", 0.0);
    metrics.set_outbox_age("ledger", 3.25);
    metrics.set_consumer_pending("portal", "portal-plans", 7);
    // An authority no other test uses: runs are kept once per OS process.
    let run = PaymentRunGauges::new("gauge-test-shire");
    run.show("planning", 10, 40);
    run.show("posting", 5, 90);

    let scraped = scrape(&metrics);
    assert_eq!(scraped.types[OUTBOX_OLDEST_UNPUBLISHED], "gauge");
    assert_eq!(
        scraped.value(OUTBOX_OLDEST_UNPUBLISHED, &[("service", "directory")]),
        Some("0")
    );
    assert_eq!(
        scraped.value(OUTBOX_OLDEST_UNPUBLISHED, &[("service", "ledger")]),
        Some("3.25")
    );
    assert_eq!(
        scraped.value(
            CONSUMER_PENDING,
            &[("service", "portal"), ("durable", "portal-plans")]
        ),
        Some("7")
    );
    let shire = |phase| [("authority", "gauge-test-shire"), ("phase", phase)];
    assert_eq!(
        scraped.value(PAYMENT_RUN_DONE, &shire("posting")),
        Some("5")
    );
    assert_eq!(
        scraped.value(PAYMENT_RUN_TOTAL, &shire("posting")),
        Some("90")
    );
    assert_eq!(
        scraped.value(PAYMENT_RUN_DONE, &shire("planning")),
        None,
        "only the current phase is shown"
    );

    // A later run of the same authority is not removed by the end of the earlier one.
    let later = PaymentRunGauges::new("gauge-test-shire");
    later.show("planning", 1, 2);
    drop(run);
    let scraped = scrape(&metrics);
    assert_eq!(
        scraped.value(PAYMENT_RUN_DONE, &shire("planning")),
        Some("1")
    );
    drop(later);
    let scraped = scrape(&metrics);
    assert!(
        !scraped
            .samples
            .keys()
            .any(|(_, labels)| labels.get("authority").map(String::as_str)
                == Some("gauge-test-shire")),
        "a run that ended shows nothing"
    );
}

#[test]
fn a_consumers_dead_letters_are_counted_from_zero() {
    let metrics = prometheus_only();
    let labels = [("service", "portal"), ("durable", "portal-remittances")];
    let dead_letters = metrics.dead_letters("portal", "portal-remittances");
    assert_eq!(
        scrape(&metrics).value(CONSUMER_DEAD_LETTERS, &labels),
        Some("0")
    );

    dead_letters.record();
    dead_letters.clone().record();

    let scraped = scrape(&metrics);
    assert_eq!(scraped.types[CONSUMER_DEAD_LETTERS], "counter");
    assert_eq!(scraped.value(CONSUMER_DEAD_LETTERS, &labels), Some("2"));
}

#[test]
fn metrics_that_go_nowhere_are_off_and_record_nothing() {
    let metrics = Metrics::start(&MetricsExport::default(), "sds");
    assert!(!metrics.is_on());
    metrics.record_rpc("ledger", "GetFund", Code::Ok, Duration::from_millis(1));
    metrics.dead_letters("ledger", "ledger-x").record();
    assert_eq!(metrics.prometheus_text(), None);
    metrics.shutdown();
}

#[test]
fn label_values_are_escaped_as_the_text_format_says() {
    let metrics = prometheus_only();
    metrics.set_consumer_pending("portal", "odd\"name\\with\nbreak", 1);
    let text = metrics.prometheus_text().expect("text");
    assert!(
        text.lines()
            .any(|line| line.starts_with("sds_consumer_pending{")
                && line.contains(r#"durable="odd\"name\\with\nbreak""#)
                && line.contains(r#"service="portal""#)
                && line.ends_with("} 1")),
        "{text}"
    );
    assert!(
        text.contains("# HELP sds_consumer_pending Events in the stream"),
        "{text}"
    );
}

#[test]
fn every_grpc_code_has_its_specification_name() {
    assert_eq!(code_name(Code::Ok), "OK");
    assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
    assert_eq!(code_name(Code::Unauthenticated), "UNAUTHENTICATED");
    assert_eq!(code_name(Code::ResourceExhausted), "RESOURCE_EXHAUSTED");
    for number in 0..=16 {
        let name = code_name(Code::from_i32(number));
        assert!(
            name.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
            "{name}"
        );
    }
}

/// An OTLP/gRPC metrics collector on a free loopback port, keeping every export.
#[derive(Clone, Default)]
struct Collector {
    received: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        lock(&self.received).push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

fn proto_attributes(attributes: &[ProtoKeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|attribute| {
            let value = match attribute
                .value
                .as_ref()
                .and_then(|value| value.value.as_ref())
            {
                Some(ProtoValue::StringValue(text)) => text.clone(),
                other => format!("{other:?}"),
            };
            (attribute.key.clone(), value)
        })
        .collect()
}

#[tokio::test]
async fn the_otlp_export_pushes_the_series_the_prometheus_text_shows() {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind the collector");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let collector = Collector::default();
    let serving = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(MetricsServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let metrics = Metrics::start(
        &MetricsExport {
            prometheus: true,
            otlp_endpoint: Some(endpoint),
        },
        "sds",
    );
    metrics.record_rpc("ledger", "GetFund", Code::Ok, Duration::from_millis(2));
    metrics.record_rpc("ledger", "GetFund", Code::Ok, Duration::from_millis(2));
    metrics.record_rpc(
        "ledger",
        "GetFund",
        Code::NotFound,
        Duration::from_millis(2),
    );
    metrics.set_outbox_age("ledger", 4.5);
    let text = metrics.prometheus_text().expect("text");

    // The last export is pushed at shutdown; it blocks, so not on the runtime's thread.
    let stopping = metrics.clone();
    tokio::task::spawn_blocking(move || stopping.shutdown())
        .await
        .expect("shut down");

    let received = lock(&collector.received).clone();
    assert!(!received.is_empty(), "nothing was exported");
    let exported: Vec<_> = received
        .iter()
        .flat_map(|request| &request.resource_metrics)
        .flat_map(|resource| &resource.scope_metrics)
        .flat_map(|scope| &scope.metrics)
        .collect();
    let last = |name: &str| {
        exported
            .iter()
            .rev()
            .find(|metric| metric.name == name)
            .unwrap_or_else(|| panic!("{name} was not exported: {exported:?}"))
    };
    let Some(Data::Sum(requests)) = &last(RPC_REQUESTS).data else {
        panic!("{RPC_REQUESTS} is not a sum");
    };
    assert!(requests.is_monotonic);
    let mut counted: Vec<(String, i64)> = requests
        .data_points
        .iter()
        .map(|point| {
            let attributes = proto_attributes(&point.attributes);
            let value = match point.value {
                Some(NumberValue::AsInt(value)) => value,
                other => panic!("an integer count, not {other:?}"),
            };
            assert_eq!(attributes["service"], "ledger");
            assert_eq!(attributes["method"], "GetFund");
            (attributes["code"].clone(), value)
        })
        .collect();
    counted.sort();
    assert_eq!(counted, [("NOT_FOUND".to_owned(), 1), ("OK".to_owned(), 2)]);
    let Some(Data::Histogram(duration)) = &last(RPC_DURATION).data else {
        panic!("{RPC_DURATION} is not a histogram");
    };
    assert_eq!(duration.data_points[0].count, 3);
    assert_eq!(
        duration.data_points[0].explicit_bounds,
        RPC_DURATION_BUCKETS
    );
    let Some(Data::Gauge(outbox)) = &last(OUTBOX_OLDEST_UNPUBLISHED).data else {
        panic!("{OUTBOX_OLDEST_UNPUBLISHED} is not a gauge");
    };
    assert_eq!(
        outbox.data_points[0].value,
        Some(NumberValue::AsDouble(4.5))
    );

    // The Prometheus text said the same.
    let scraped = Scraped::parse(&text);
    assert_eq!(
        scraped.value(
            RPC_REQUESTS,
            &[("service", "ledger"), ("method", "GetFund"), ("code", "OK")]
        ),
        Some("2")
    );
    assert!(scraped.names().contains(&"sds_rpc_duration_seconds_count"));
    assert_eq!(metrics.prometheus_text(), None, "shut down");
    serving.abort();
}
