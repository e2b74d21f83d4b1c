//! What every test needs: the directory spawned on a fresh database, a client, tokens for
//! the usual callers, example messages, and ways to look at what was written.

use prost::Message as _;
use sds_directory::SCHEMA;
use sds_directory::domain::ChangeName;
use sds_platform::{AuthorityId, OrgKind, Principal, Role};
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::{self as proto, Event};
use sds_testkit::{TestProcess, TestSettings, authority_staff, bearer, provider_org, token_for};
use sds_vocabulary::NamedEnum as _;
use sds_vocabulary::named_enum::WireEnum as _;
use sqlx::PgPool;
use tonic::transport::Channel;
use tonic::{Code, Status};
use uuid::Uuid;

pub type Client = DirectoryServiceClient<Channel>;

/// The directory, serving on its own database, composed as `sds serve` composes it.
pub struct TestApp {
    pub pool: PgPool,
    /// Where the web listener serves the open data feed.
    pub web: std::net::SocketAddr,
    client: Client,
    channel: Channel,
    _process: TestProcess,
    // Dropped after the process that relays to it and consumes from it.
    _nats: Option<sds_testkit::PrivateNats>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(TestSettings::default()).await
    }

    /// The directory reading "today" from `clock` (a test's [`sds_platform::ManualClock`]).
    pub async fn spawn_with_clock(clock: sds_platform::Clock) -> TestApp {
        Self::spawn_with(TestSettings {
            clock: Some(clock),
            ..TestSettings::default()
        })
        .await
    }

    /// The directory with assessment beside it, as package requests need: a request is
    /// published only for a line of a plan assessment holds. On a NATS of its own, since
    /// assessment consumes the directory's events and the shared server's durable consumers
    /// would hand them to another test's process.
    pub async fn spawn_with_assessment() -> TestApp {
        let nats = sds_testkit::PrivateNats::start().await;
        let mut app = Self::spawn_of(
            vec![sds_directory::component(), sds_assessment::component()],
            TestSettings {
                nats_url: Some(nats.url()),
                ..TestSettings::default()
            },
        )
        .await;
        app._nats = Some(nats);
        app
    }

    /// The directory alone, its calls to assessment going where `SDS_ASSESSMENT_URL` says.
    pub async fn spawn_with_assessment_at(url: &str) -> TestApp {
        Self::spawn_of(
            vec![sds_directory::component()],
            TestSettings {
                environment: vec![("SDS_ASSESSMENT_URL", url.to_owned())],
                ..TestSettings::default()
            },
        )
        .await
    }

    /// The directory with settings of the test's own (`SDS_*` as the environment gives them).
    pub async fn spawn_with_environment(environment: Vec<(&'static str, String)>) -> TestApp {
        Self::spawn_with(TestSettings {
            environment,
            ..TestSettings::default()
        })
        .await
    }

    async fn spawn_with(settings: TestSettings) -> TestApp {
        Self::spawn_of(vec![sds_directory::component()], settings).await
    }

    async fn spawn_of(components: Vec<sds_runtime::Component>, settings: TestSettings) -> TestApp {
        let process = TestProcess::start_with(components, settings).await;
        let channel = process.channel().await;
        let client = DirectoryServiceClient::new(channel.clone());
        TestApp {
            pool: process.pool(SCHEMA),
            web: process.web(),
            client,
            channel,
            _process: process,
            _nats: None,
        }
    }

    /// A person of Aberdeenshire whose plan, approved from today, has line 1 of option 3 at
    /// 100.00 a week and line 2 of option 2 at 250.00 a week, its provider still to be
    /// chosen (needs [`TestApp::spawn_with_assessment`]); returns their id.
    pub async fn person_with_plan(&self) -> String {
        let today = chrono::Utc::now().date_naive();
        sds_testkit::plans::approved_plan(
            self.channel(),
            "aberdeenshire",
            today,
            vec![
                sds_testkit::plans::option_3_line("100.00", today),
                sds_testkit::plans::option_2_line("250.00", today),
            ],
        )
        .await
    }

    /// The process's gRPC channel, for the other services it runs.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// A client for one call (calls take `&mut self`; clones share the connection).
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Registers a new provider organisation under its own id; returns it with its token.
    pub async fn provider_registers_itself(
        &self,
        details: proto::ProviderDetails,
    ) -> (proto::Provider, String) {
        let token = new_provider_token();
        let provider = self
            .client()
            .register_provider(bearer(
                &token,
                proto::RegisterProviderRequest {
                    details: Some(details),
                    request_id: String::new(),
                },
            ))
            .await
            .expect("provider registers itself")
            .into_inner();
        (provider, token)
    }

    /// Registers a provider through commissioning staff of `aberdeenshire`.
    pub async fn commissioning_registers(
        &self,
        details: proto::ProviderDetails,
    ) -> proto::Provider {
        self.client()
            .register_provider(bearer(
                &commissioning("aberdeenshire"),
                proto::RegisterProviderRequest {
                    details: Some(details),
                    request_id: String::new(),
                },
            ))
            .await
            .expect("commissioning staff register a provider")
            .into_inner()
    }

    pub async fn get(&self, id: &str) -> proto::Provider {
        self.client()
            .get_provider(bearer(
                &commissioning("aberdeenshire"),
                proto::GetProviderRequest { id: id.to_owned() },
            ))
            .await
            .expect("get provider")
            .into_inner()
    }

    pub async fn record_grades(
        &self,
        provider_id: &str,
        grades: Vec<proto::Grade>,
    ) -> proto::Provider {
        self.client()
            .record_grades(bearer(
                &commissioning("aberdeenshire"),
                proto::RecordGradesRequest {
                    provider_id: provider_id.to_owned(),
                    grades,
                },
            ))
            .await
            .expect("record grades")
            .into_inner()
    }

    pub async fn set_framework_status(
        &self,
        provider_id: &str,
        authority: &str,
        status: proto::FrameworkStatus,
    ) -> proto::Provider {
        self.client()
            .set_framework_status(bearer(
                &commissioning(authority),
                proto::SetFrameworkStatusRequest {
                    provider_id: provider_id.to_owned(),
                    authority: authority.to_owned(),
                    status: status as i32,
                },
            ))
            .await
            .expect("set framework status")
            .into_inner()
    }

    pub async fn search(
        &self,
        request: proto::SearchProvidersRequest,
    ) -> proto::SearchProvidersResponse {
        self.client()
            .search_providers(bearer(&any_provider_token(), request))
            .await
            .expect("search providers")
            .into_inner()
    }

    /// How many rows each table holds, to show that a refused request wrote nothing.
    pub async fn row_counts(&self) -> RowCounts {
        let (providers, checks, grades, frameworks, changes, outbox): (
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM provider), (SELECT count(*) FROM provider_check), \
                        (SELECT count(*) FROM grade), (SELECT count(*) FROM framework_membership), \
                        (SELECT count(*) FROM provider_change), (SELECT count(*) FROM outbox)",
        )
        .fetch_one(&self.pool)
        .await
        .expect("count rows");
        RowCounts {
            providers,
            checks,
            grades,
            frameworks,
            changes,
            outbox,
        }
    }

    /// The events in the outbox, in the order they were written.
    pub async fn outbox_events(&self) -> Vec<OutboxEvent> {
        let rows: Vec<(String, String, Vec<u8>)> =
            sqlx::query_as("SELECT subject, event_type, payload FROM outbox ORDER BY position")
                .fetch_all(&self.pool)
                .await
                .expect("read outbox");
        rows.into_iter()
            .map(|(subject, event_type, payload)| OutboxEvent {
                subject,
                event_type,
                event: Event::decode(payload.as_slice())
                    .expect("outbox payload is an sds.v1.Event"),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub providers: i64,
    pub checks: i64,
    pub grades: i64,
    pub frameworks: i64,
    pub changes: i64,
    pub outbox: i64,
}

#[derive(Debug)]
pub struct OutboxEvent {
    pub subject: String,
    pub event_type: String,
    pub event: Event,
}

impl OutboxEvent {
    /// The provider the event carries.
    pub fn provider(&self) -> &proto::Provider {
        match &self.event.body {
            Some(proto::event::Body::ProviderRegistered(body)) => body.provider.as_ref(),
            Some(proto::event::Body::ProviderUpdated(body)) => body.provider.as_ref(),
            _ => None,
        }
        .expect("event carries a provider")
    }

    /// The `change` of a `provider.updated` by name, empty for other events.
    pub fn change(&self) -> &str {
        match &self.event.body {
            Some(proto::event::Body::ProviderUpdated(body)) => {
                ChangeName::from_wire("change", body.change).map_or("", ChangeName::name)
            }
            _ => "",
        }
    }
}

// ---- callers ----------------------------------------------------------------------------

/// Commissioning staff of `authority`.
pub fn commissioning(authority: &str) -> String {
    token_for(&authority_staff(authority, &[Role::Commissioning]))
}

/// The token of provider `id`.
pub fn provider_token(id: &str) -> String {
    token_for(&provider_org(id))
}

/// The token of a provider organisation not yet in the directory.
pub fn new_provider_token() -> String {
    provider_token(&Uuid::now_v7().to_string())
}

/// Some provider organisation, for calls any organisation may make.
pub fn any_provider_token() -> String {
    new_provider_token()
}

/// An ISF holder organisation (a charity holding funds for an authority).
pub fn holder_token() -> String {
    token_for(&Principal {
        org_id: "aberdeenshire-isf-charity".into(),
        org_kind: OrgKind::Holder,
        roles: vec![],
        authorities: vec![AuthorityId::parse("authority", "aberdeenshire").expect("valid")],
        person_id: None,
    })
}

// ---- messages ---------------------------------------------------------------------------

/// A voluntary organisation offering day support in Aberdeenshire.
pub fn details(name: &str) -> proto::ProviderDetails {
    proto::ProviderDetails {
        name: name.to_owned(),
        kind: proto::ProviderKind::VoluntaryOrganisation as i32,
        service_types: vec!["Day support".into()],
        localities: vec!["Aberdeenshire".into()],
        capacity: Some(10),
        ..proto::ProviderDetails::default()
    }
}

pub fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

/// The date `days` from today (negative: in the past), as the directory's clock sees it.
pub fn days_from_today(days: i64) -> Option<proto::Date> {
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(days);
    date(&day.format("%Y-%m-%d").to_string())
}

pub fn grade(key_question: proto::KeyQuestion, value: u32, inspected_on: &str) -> proto::Grade {
    proto::Grade {
        key_question: key_question as i32,
        grade: value,
        inspected_on: date(inspected_on),
    }
}

pub fn flat_weekly_fee(amount: &str) -> proto::ManagementFeePolicy {
    proto::ManagementFeePolicy {
        kind: proto::ManagementFeeKind::FlatWeekly as i32,
        flat_weekly: Some(proto::Money {
            amount: amount.to_owned(),
        }),
        ..proto::ManagementFeePolicy::default()
    }
}

// ---- assertions -------------------------------------------------------------------------

/// Asserts `InvalidArgument` with a message that starts by naming `field`.
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) -> String {
    let status = result.expect_err("the request should have been refused");
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "expected InvalidArgument naming {field}, got {status:?}"
    );
    assert!(
        status.message().starts_with(&format!("{field} ")),
        "message should name {field}: {}",
        status.message()
    );
    status.message().to_owned()
}

pub fn assert_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> String {
    let status = result.expect_err("the request should have been refused");
    assert_eq!(status.code(), code, "unexpected status {status:?}");
    status.message().to_owned()
}
