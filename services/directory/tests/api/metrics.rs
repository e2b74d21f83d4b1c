//! The metrics operators expect (deploy/k8s/README.md, "Metrics"), scraped as Prometheus
//! scrapes them from a process's metrics listener: calls counted by service, method and
//! status, their durations, the outbox's lag, the consumers' backlog and dead letters, and
//! the pools.

use std::time::Duration;

use sds_directory::SCHEMA;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::{self as proto};
use sds_testkit::{PrivateNats, Scrape, TestProcess, TestSettings, bearer, scrape, wait_until};
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);

/// `components` on `nats`, serving metrics on a port of their own and sampling every
/// 100 ms.
async fn process_with_metrics(
    components: Vec<sds_runtime::Component>,
    nats: &PrivateNats,
) -> TestProcess {
    TestProcess::start_with(
        components,
        TestSettings {
            nats_url: Some(nats.url()),
            environment: vec![
                ("SDS_METRICS_ADDR", "127.0.0.1:0".to_owned()),
                ("SDS_METRICS_SAMPLE_MS", "100".to_owned()),
            ],
            ..TestSettings::default()
        },
    )
    .await
}

async fn register(
    client: &mut DirectoryServiceClient<Channel>,
    details: proto::ProviderDetails,
) -> Result<proto::Provider, tonic::Status> {
    client
        .register_provider(bearer(
            &new_provider_token(),
            proto::RegisterProviderRequest {
                details: Some(details),
                request_id: String::new(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Waits until a scrape satisfies `check`, and returns what `check` found.
async fn scrape_until<T>(
    process: &TestProcess,
    what: &str,
    check: impl Fn(&Scrape) -> Option<T>,
) -> T {
    let addr = process.metrics_addr.expect("the process serves metrics");
    wait_until(DEADLINE, what, || async { check(&scrape(addr).await) }).await
}

#[tokio::test]
async fn the_metrics_port_serves_each_named_series_with_the_calls_counted_by_method_and_status() {
    let nats = PrivateNats::start().await;
    let process = process_with_metrics(
        vec![sds_directory::component(), sds_assessment::component()],
        &nats,
    )
    .await;
    let channel = process.channel().await;
    let mut client = DirectoryServiceClient::new(channel.clone());

    register(&mut client, details("First Provider"))
        .await
        .expect("registered");
    register(&mut client, details("Second Provider"))
        .await
        .expect("registered");
    let mut spoilt = details("Spoilt Provider");
    spoilt.capacity = Some(-3);
    assert_code(register(&mut client, spoilt).await, Code::InvalidArgument);
    assert_code(
        client
            .get_provider(proto::GetProviderRequest {
                id: "anything".to_owned(),
            })
            .await,
        Code::Unauthenticated,
    );
    // Health is not counted.
    HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health answers");

    // The samples settle: the events are published and the assessment consumer of provider
    // events has taken them.
    let scraped = scrape_until(
        &process,
        "the outbox is published and assessment has caught up",
        |scraped| {
            let published = scraped.value(
                "sds_outbox_oldest_unpublished_seconds",
                &[("service", "directory")],
            ) == Some(0.0);
            let caught_up = scraped.value(
                "sds_consumer_pending",
                &[
                    ("service", "assessment"),
                    ("durable", "assessment-providers"),
                ],
            ) == Some(0.0);
            (published && caught_up).then(|| scraped.clone())
        },
    )
    .await;

    assert_eq!(
        scraped.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    for (name, kind) in [
        ("sds_rpc_requests_total", "counter"),
        ("sds_rpc_duration_seconds", "histogram"),
        ("sds_outbox_oldest_unpublished_seconds", "gauge"),
        ("sds_consumer_pending", "gauge"),
        ("sds_consumer_dead_letters", "counter"),
        ("sds_db_pool_in_use", "gauge"),
        ("sds_db_pool_size", "gauge"),
    ] {
        assert_eq!(
            scraped.types.get(name).map(String::as_str),
            Some(kind),
            "{name}"
        );
    }

    // Each call once, under its service, method and status; health nowhere.
    let mut calls: Vec<(String, String, String, f64)> = scraped
        .series("sds_rpc_requests_total")
        .into_iter()
        .map(|(labels, count)| {
            assert_eq!(labels.len(), 3, "{labels:?}");
            (
                labels["service"].clone(),
                labels["method"].clone(),
                labels["code"].clone(),
                count,
            )
        })
        .collect();
    calls.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    let expected = [
        ("directory", "GetProvider", "UNAUTHENTICATED", 1.0),
        ("directory", "RegisterProvider", "INVALID_ARGUMENT", 1.0),
        ("directory", "RegisterProvider", "OK", 2.0),
    ];
    assert_eq!(
        calls,
        expected.map(|(service, method, code, count)| (
            service.to_owned(),
            method.to_owned(),
            code.to_owned(),
            count
        ))
    );
    let register_calls = [("service", "directory"), ("method", "RegisterProvider")];
    assert_eq!(
        scraped.value("sds_rpc_duration_seconds_count", &register_calls),
        Some(3.0)
    );
    assert_eq!(
        scraped.value(
            "sds_rpc_duration_seconds_bucket",
            &[register_calls[0], register_calls[1], ("le", "+Inf")]
        ),
        Some(3.0)
    );
    let sum = scraped
        .value("sds_rpc_duration_seconds_sum", &register_calls)
        .expect("a sum");
    assert!(sum > 0.0 && sum < 30.0, "{sum}");
    let buckets = scraped.series("sds_rpc_duration_seconds_bucket");
    assert_eq!(
        buckets.len(),
        2 * 15,
        "14 bounds and +Inf for each of the two methods: {buckets:?}"
    );

    // The outbox of each service, every consumer of assessment, and both pools.
    for service in ["directory", "assessment"] {
        assert_eq!(
            scraped.value(
                "sds_outbox_oldest_unpublished_seconds",
                &[("service", service)]
            ),
            Some(0.0),
            "{service}"
        );
        assert_eq!(
            scraped.value("sds_db_pool_size", &[("service", service)]),
            Some(10.0),
            "{service}"
        );
        let in_use = scraped
            .value("sds_db_pool_in_use", &[("service", service)])
            .expect("connections in use");
        assert!((0.0..=10.0).contains(&in_use), "{service}: {in_use}");
    }
    for durable in [
        "assessment-variance",
        "assessment-providers",
        "assessment-package-choices",
    ] {
        let labels = [("service", "assessment"), ("durable", durable)];
        assert_eq!(
            scraped.value("sds_consumer_dead_letters", &labels),
            Some(0.0),
            "{durable}"
        );
        assert!(
            scraped.value("sds_consumer_pending", &labels).is_some(),
            "{durable}"
        );
    }
    // No payment run in progress, so no run series.
    assert!(scraped.series("sds_payment_run_done").is_empty());
    assert!(scraped.series("sds_payment_run_total").is_empty());
    process.shutdown().await;
}

#[tokio::test]
async fn the_outbox_lag_grows_while_nats_is_down_and_returns_to_zero_once_it_is_back() {
    let mut nats = PrivateNats::start().await;
    let process = process_with_metrics(vec![sds_directory::component()], &nats).await;
    let mut client = DirectoryServiceClient::new(process.channel().await);
    let lag = |scraped: &Scrape| {
        scraped.value(
            "sds_outbox_oldest_unpublished_seconds",
            &[("service", "directory")],
        )
    };
    scrape_until(&process, "the outbox lag is sampled", |scraped| {
        (lag(scraped) == Some(0.0)).then_some(())
    })
    .await;

    nats.stop();
    register(&mut client, details("Registered During The Outage"))
        .await
        .expect("a registration is taken while NATS is away");
    let waiting = scrape_until(&process, "the event is waiting", |scraped| {
        lag(scraped).filter(|seconds| *seconds > 0.0)
    })
    .await;
    scrape_until(&process, "the lag grows", |scraped| {
        lag(scraped).filter(|seconds| *seconds > waiting)
    })
    .await;
    let unpublished: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&process.pool(SCHEMA))
            .await
            .expect("count unpublished events");
    assert_eq!(unpublished, 1);

    nats.resume().await;
    scrape_until(&process, "the lag is back to 0", |scraped| {
        (lag(scraped) == Some(0.0)).then_some(())
    })
    .await;
    process.shutdown().await;
}
