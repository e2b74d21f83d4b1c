//! What every test needs: the portal spawned on a fresh database and a NATS of its own (a
//! durable consumer shared between test processes would take another test's events),
//! events as the other services publish them, subscriptions, and tokens.

#![allow(dead_code)]

use std::time::Duration;

use prost::Message as _;
use sds_events::EventType;
use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1::portal_service_client::PortalServiceClient;
use sds_proto::v1::{self as proto, Event};
use sds_testkit::{
    PrivateNats, TestProcess, TestSettings, authority_staff, bearer, provider_org, token_for,
    wait_until,
};
use sds_vocabulary::NamedEnum as _;
use sqlx::PgPool;
use tonic::Status;
use tonic::transport::Channel;
use uuid::Uuid;

pub type Client = PortalServiceClient<Channel>;
pub type Notifications = tonic::Streaming<proto::Notification>;

pub const AUTHORITY: &str = "aberdeenshire";

/// How long a test waits for something that should happen in milliseconds.
const DEADLINE: Duration = Duration::from_secs(15);

pub struct TestApp {
    pub pool: PgPool,
    /// Where the portal's web pages are served.
    pub web: std::net::SocketAddr,
    client: Client,
    // Dropped before the NATS it relays to and consumes from.
    _process: TestProcess,
    pub nats: PrivateNats,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with_environment(vec![]).await
    }

    /// The portal with further `SDS_*` settings.
    pub async fn spawn_with_environment(environment: Vec<(&'static str, String)>) -> TestApp {
        let nats = PrivateNats::start().await;
        let process = TestProcess::start_with(
            vec![sds_portal::component()],
            TestSettings {
                nats_url: Some(nats.url()),
                environment,
                ..TestSettings::default()
            },
        )
        .await;
        let client = PortalServiceClient::new(process.channel().await);
        TestApp {
            pool: process.pool(sds_portal::SCHEMA),
            web: process.web(),
            client,
            _process: process,
            nats,
        }
    }

    /// A client whose calls carry no token.
    pub fn client_without_token(&self) -> Client {
        self.client.clone()
    }

    pub async fn subscribe(&self, token: &str, after: &str) -> Result<Notifications, Status> {
        self.client
            .clone()
            .subscribe(bearer(
                token,
                proto::SubscribeRequest {
                    after: after.to_owned(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Waits until the relay has provisioned the events stream.
    pub async fn wait_for_the_events_stream(&self) {
        let jetstream =
            async_nats::jetstream::new(async_nats::connect(self.nats.url()).await.unwrap());
        wait_until(DEADLINE, "the events stream exists", || async {
            jetstream.get_stream("SDS_EVENTS").await.ok().map(|_| ())
        })
        .await;
    }

    /// Publishes `event` under `message_id` (its event id unless given), as a relay does.
    pub async fn publish(&self, event: &Event, message_id: Option<&str>) {
        self.wait_for_the_events_stream().await;
        let jetstream =
            async_nats::jetstream::new(async_nats::connect(self.nats.url()).await.unwrap());
        publish_to(&jetstream, event, message_id).await;
    }

    /// Publishes `event` and waits until the portal has handled it (its inbox row).
    pub async fn deliver(&self, event: &Event) {
        self.publish(event, None).await;
        let event_id = Uuid::parse_str(&event.event_id).unwrap();
        wait_until(DEADLINE, "the portal has handled the event", || async {
            let handled: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM inbox WHERE event_id = $1)")
                    .bind(event_id)
                    .fetch_one(&self.pool)
                    .await
                    .ok()?;
            handled.then_some(())
        })
        .await;
    }

    /// How many notifications are kept for the organisation, whatever its kind.
    pub async fn kept_for(&self, org_id: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM notification WHERE subscriber_id = $1::uuid")
            .bind(org_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Rows in the tables subscribing could write, to show a refusal wrote nothing.
    pub async fn row_counts(&self) -> (i64, i64) {
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM subscriber), (SELECT count(*) FROM notification)",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}

/// Publishes `event` on an existing connection, once the events stream exists.
pub async fn publish_to(
    jetstream: &async_nats::jetstream::Context,
    event: &Event,
    message_id: Option<&str>,
) {
    sds_testkit::publish_event(
        jetstream,
        &format!("sds.{}.{}", event.authority, event.event_type),
        message_id.unwrap_or(&event.event_id),
        event.encode_to_vec().into(),
    )
    .await;
}

/// The next notification on the stream, within the deadline.
pub async fn next(stream: &mut Notifications) -> proto::Notification {
    tokio::time::timeout(DEADLINE, stream.message())
        .await
        .expect("a notification within the deadline")
        .expect("the stream carries on")
        .expect("the stream stays open")
}

/// The next `count` notifications.
pub async fn next_n(stream: &mut Notifications, count: usize) -> Vec<proto::Notification> {
    let mut received = Vec::with_capacity(count);
    for _ in 0..count {
        received.push(next(stream).await);
    }
    received
}

pub fn seqs(notifications: &[proto::Notification]) -> Vec<u64> {
    notifications
        .iter()
        .map(|notification| notification.seq)
        .collect()
}

// ---- callers ----------------------------------------------------------------------------

pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}

pub fn provider(id: &str) -> String {
    token_for(&provider_org(id))
}

pub fn holder(id: &str) -> String {
    token_for(&Principal {
        org_id: id.to_owned(),
        org_kind: OrgKind::Holder,
        roles: vec![],
        authorities: vec![],
        person_id: None,
    })
}

pub fn person(id: &str) -> String {
    token_for(&Principal {
        org_id: id.to_owned(),
        org_kind: OrgKind::Person,
        roles: vec![],
        authorities: vec![],
        person_id: Some(id.to_owned()),
    })
}

pub fn commissioning(authority: &str) -> String {
    token_for(&authority_staff(authority, &[Role::Commissioning]))
}

// ---- events -----------------------------------------------------------------------------

/// An envelope as a relay publishes it: a fresh event id, the type following the body.
pub fn event(authority: &str, aggregate_id: &str, version: u64, body: proto::event::Body) -> Event {
    let event_type = EventType::of(&body);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    Event {
        event_id: new_id(),
        event_type: event_type.name().to_owned(),
        authority: authority.to_owned(),
        aggregate_type: event_type.aggregate_type().to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        aggregate_version: version,
        occurred_at: Some(prost_types::Timestamp {
            seconds: i64::try_from(now.as_secs()).unwrap(),
            nanos: 0,
        }),
        body: Some(body),
        ..Event::default()
    }
}

pub fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

pub fn money(amount: &str) -> Option<proto::Money> {
    Some(proto::Money {
        amount: amount.to_owned(),
    })
}

/// `remittance.issued` paying a provider `total`; its number tells notifications apart.
pub fn remittance(provider_id: &str, number: &str, total: &str) -> Event {
    event(
        AUTHORITY,
        number,
        1,
        proto::event::Body::RemittanceIssued(proto::RemittanceIssued {
            number: number.to_owned(),
            run_id: new_id(),
            run_date: date("2026-11-30"),
            payee_kind: proto::PayeeKind::Provider as i32,
            payee_id: provider_id.to_owned(),
            items: 3,
            total: money(total),
        }),
    )
}

/// The remittance number a notification carries, if it is one.
pub fn remittance_number(notification: &proto::Notification) -> Option<&str> {
    match &notification.body {
        Some(proto::notification::Body::RemittanceIssued(issued)) => Some(&issued.number),
        _ => None,
    }
}

/// `provider.registered` (version 1) or `provider.updated` (later versions).
pub fn provider_published(
    id: &str,
    version: u64,
    service_types: &[&str],
    localities: &[&str],
    status: proto::CareServiceStatus,
) -> Event {
    let provider = proto::Provider {
        id: id.to_owned(),
        details: Some(proto::ProviderDetails {
            name: "Deeside Care".into(),
            service_types: service_types
                .iter()
                .map(|text| (*text).to_owned())
                .collect(),
            localities: localities.iter().map(|text| (*text).to_owned()).collect(),
            ..proto::ProviderDetails::default()
        }),
        version,
        care_service_status: status as i32,
        ..proto::Provider::default()
    };
    let body = if version == 1 {
        proto::event::Body::ProviderRegistered(proto::ProviderRegistered {
            provider: Some(provider),
        })
    } else {
        proto::event::Body::ProviderUpdated(proto::ProviderUpdated {
            provider: Some(provider),
            change: proto::ProviderChangeKind::Details as i32,
        })
    };
    event("national", id, version, body)
}

/// `package.requested` for a weekly budget.
pub fn package_requested(request_id: &str, locality: &str, service_types: &[&str]) -> Event {
    event(
        AUTHORITY,
        request_id,
        1,
        proto::event::Body::PackageRequested(proto::PackageRequested {
            request_id: request_id.to_owned(),
            content: Some(proto::PackageRequestContent {
                needs_summary: "Help to get up and dressed each morning".into(),
                service_types: service_types
                    .iter()
                    .map(|text| (*text).to_owned())
                    .collect(),
                locality: locality.to_owned(),
                amount: Some(proto::package_request_content::Amount::WeeklyBudget(
                    proto::Money {
                        amount: "240.00".into(),
                    },
                )),
                start_date: date("2027-01-04"),
                closing_date: date("2026-12-18"),
            }),
        }),
    )
}
