//! What the services export as traces, captured by an in-process OTLP receiver: RPC spans
//! follow OpenTelemetry's RPC conventions, and one trace follows a change from the RPC that
//! makes it, through the relay's publish (a span of its own that links to the change), to
//! the consumer of another service that reacts.
//!
//! The tracing subscriber is global to the process, so this file holds one test and is a
//! test binary of its own.

mod support;

use std::time::Duration;

use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::{ProviderDetails, ProviderKind, RegisterProviderRequest};
use sds_testkit::{
    ExportedSpan, OtlpReceiver, PrivateNats, SpanKind, StatusCode, TestProcess, bearer,
    provider_org, token_for, wait_until,
};
use support::spans::{export_spans_to, flush};
use support::{PortalInbox, platform_with_stand_in};

const REGISTER_PROVIDER: &str = "sds.v1.DirectoryService/RegisterProvider";
const SERVICE_NAME: &str = "sds-traces-test";

/// Every service of `sds serve` plus a portal stand-in consuming provider events, composed
/// by the same build as `sds serve`, on a private NATS.
struct ProviderChangeFlow {
    process: TestProcess,
    _nats: PrivateNats,
}

impl ProviderChangeFlow {
    async fn start() -> Self {
        let (process, nats) = platform_with_stand_in(PortalInbox::default()).await;
        Self {
            process,
            _nats: nats,
        }
    }

    async fn stop(self) {
        self.process.shutdown().await;
    }
}

/// A W3C `traceparent` as a caller would send it: a fresh trace, sampled.
fn callers_traceparent() -> (String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    (format!("00-{trace_id}-{span_id}-01"), trace_id)
}

fn with_status_code(spans: &[ExportedSpan], code: tonic::Code) -> &ExportedSpan {
    spans
        .iter()
        .find(|span| span.int_attribute("rpc.grpc.status_code") == Some(code as i64))
        .unwrap_or_else(|| panic!("no {REGISTER_PROVIDER} span with status {code:?}: {spans:#?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn rpc_spans_follow_the_conventions_and_one_trace_leads_from_a_registration_to_the_service_that_reacts()
 {
    let receiver = OtlpReceiver::start().await;
    let provider = export_spans_to(&receiver, SERVICE_NAME);
    let flow = ProviderChangeFlow::start().await;
    let mut client = DirectoryServiceClient::new(flow.process.channel().await);
    let token = token_for(&provider_org(&uuid::Uuid::now_v7().to_string()));
    let (traceparent, callers_trace_id) = callers_traceparent();

    let mut registration = bearer(
        &token,
        RegisterProviderRequest {
            details: Some(ProviderDetails {
                name: "Garioch Gardening Group".into(),
                kind: ProviderKind::CommunityGroup as i32,
                localities: vec!["Aberdeenshire".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        },
    );
    registration.metadata_mut().insert(
        "traceparent",
        traceparent.parse().expect("traceparent is valid metadata"),
    );
    client
        .register_provider(registration)
        .await
        .expect("register");
    let refused = client
        .register_provider(bearer(
            &token,
            RegisterProviderRequest {
                details: None,
                request_id: String::new(),
            },
        ))
        .await
        .expect_err("a registration without details is refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);

    let (registrations, publishes, handled) =
        wait_until(
            Duration::from_secs(30),
            "both registrations, the relay's publish and the portal's handling are exported",
            || async {
                flush(&provider).await;
                let registrations = receiver.spans_named(REGISTER_PROVIDER);
                let publishes = receiver.spans_named("SDS_EVENTS publish");
                let handled = receiver.spans_named("event.handle");
                (registrations.len() >= 2 && !publishes.is_empty() && !handled.is_empty())
                    .then_some((registrations, publishes, handled))
            },
        )
        .await;

    // The RPC spans: named for the method, with the RPC attributes and the gRPC status.
    let registered = with_status_code(&registrations, tonic::Code::Ok);
    let refused = with_status_code(&registrations, tonic::Code::InvalidArgument);
    for span in [registered, refused] {
        assert_eq!(span.service_name, SERVICE_NAME);
        assert_eq!(span.kind(), SpanKind::Server);
        assert_eq!(span.string_attribute("rpc.system"), Some("grpc"));
        assert_eq!(
            span.string_attribute("rpc.service"),
            Some("sds.v1.DirectoryService")
        );
        assert_eq!(
            span.string_attribute("rpc.method"),
            Some("RegisterProvider")
        );
        // Neither is the server's fault: a refused request is not an error of the server.
        assert_ne!(span.status_code(), StatusCode::Error, "{span:#?}");
    }
    assert_eq!(
        registered.trace_id(),
        callers_trace_id,
        "the RPC continues the caller's trace"
    );

    // The relay's publish is a trace of its own that links to the registration's.
    let publish = publishes
        .iter()
        .find(|span| span.linked_trace_ids().contains(&callers_trace_id))
        .unwrap_or_else(|| panic!("no publish span links to the registration: {publishes:#?}"));
    assert!(publish.is_root());
    assert_eq!(publish.kind(), SpanKind::Producer);
    assert_eq!(publish.string_attribute("messaging.system"), Some("nats"));
    assert_eq!(
        publish.string_attribute("messaging.destination.name"),
        Some("SDS_EVENTS")
    );
    assert_eq!(
        publish.int_attribute("messaging.batch.message_count"),
        Some(1)
    );

    // The portal handles the event in the registration's trace, as its consumer side.
    assert!(
        handled
            .iter()
            .any(|span| span.trace_id() == callers_trace_id
                && span.kind() == SpanKind::Consumer
                && span.string_attribute("event_type") == Some("provider.registered")),
        "no event.handle span in the registration's trace: {handled:#?}"
    );

    flow.stop().await;
}
