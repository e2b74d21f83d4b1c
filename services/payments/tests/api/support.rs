//! What every test needs: the payments service spawned on a fresh database and a NATS of
//! its own, a clock the test moves, tokens for the usual callers, agreement events as
//! contracts publishes them, and ways to look at what was written.

#![allow(dead_code)]

use std::time::Duration;

use prost::Message as _;
use sds_payments::SCHEMA;
use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_proto::v1::{self as proto, Event};
use sds_testkit::{
    PrivateNats, TestProcess, TestSettings, authority_staff, bearer, provider_org, token_for,
    wait_until,
};
use sqlx::PgPool;
use tonic::transport::Channel;
use tonic::{Code, Status};

pub type Client = PaymentsServiceClient<Channel>;

pub const AUTHORITY: &str = "fife";
pub const OTHER_AUTHORITY: &str = "angus";
pub const TODAY: &str = "2026-11-28";
pub const AGREEMENT: &str = "0192f0c1-0000-7000-8000-0000000000d1";
pub const PERSON: &str = "0192f0c1-0000-7000-8000-0000000000a1";
pub const HOLDER: &str = "0192f0c1-0000-7000-8000-0000000000b1";
pub const PROVIDER: &str = "0192f0c1-0000-7000-8000-0000000000c1";
pub const OTHER_PROVIDER: &str = "0192f0c1-0000-7000-8000-0000000000c2";

pub struct TestApp {
    pub pool: PgPool,
    client: Client,
    pub ledger: sds_proto::v1::ledger_service_client::LedgerServiceClient<Channel>,
    pub assessment: sds_proto::v1::assessment_service_client::AssessmentServiceClient<Channel>,
    // Dropped after the process, which relays to it and consumes from it.
    _process: TestProcess,
    pub nats: PrivateNats,
    pub clock: sds_platform::ManualClock,
}

impl TestApp {
    /// The service on a fresh database and a NATS of its own: durables shared between test
    /// processes would take each other's events.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_components(vec![sds_payments::component()]).await
    }

    /// Payments with the ledger beside it, which runs post to, and the authority ready to
    /// pay: its paying account and its payees' bank accounts entered.
    pub async fn spawn_with_ledger() -> TestApp {
        let app = TestApp::spawn_ledger_unprepared().await;
        app.prepare_banking().await;
        app
    }

    /// Payments with the ledger beside it (and assessment, which remittances read people's
    /// case references from), and no bank details entered.
    pub async fn spawn_ledger_unprepared() -> TestApp {
        TestApp::spawn_components(vec![
            sds_assessment::component(),
            sds_ledger::component(),
            sds_payments::component(),
        ])
        .await
    }

    /// Payments alone, with further `SDS_*` settings.
    pub async fn spawn_with_environment(environment: Vec<(&'static str, String)>) -> TestApp {
        TestApp::spawn_configured(vec![sds_payments::component()], environment).await
    }

    async fn spawn_components(components: Vec<sds_runtime::Component>) -> TestApp {
        TestApp::spawn_configured(components, Vec::new()).await
    }

    async fn spawn_configured(
        components: Vec<sds_runtime::Component>,
        environment: Vec<(&'static str, String)>,
    ) -> TestApp {
        let nats = PrivateNats::start().await;
        let clock = sds_platform::ManualClock::on(TODAY.parse().expect("a date"));
        let process = TestProcess::start_with(
            components,
            TestSettings {
                nats_url: Some(nats.url()),
                clock: Some(clock.clock()),
                environment,
                ..TestSettings::default()
            },
        )
        .await;
        let channel = process.channel().await;
        let client = PaymentsServiceClient::new(channel.clone());
        let ledger =
            sds_proto::v1::ledger_service_client::LedgerServiceClient::new(channel.clone());
        let assessment =
            sds_proto::v1::assessment_service_client::AssessmentServiceClient::new(channel);
        let pool = process.pool(SCHEMA);
        TestApp {
            pool,
            client,
            ledger,
            assessment,
            _process: process,
            nats,
            clock,
        }
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    pub async fn preview(
        &self,
        token: &str,
        request: proto::PreviewScheduleRequest,
    ) -> Result<proto::PreviewScheduleResponse, Status> {
        self.client()
            .preview_schedule(bearer(token, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn schedule(
        &self,
        token: &str,
        agreement_id: &str,
    ) -> Result<proto::Schedule, Status> {
        self.schedule_until(token, agreement_id, None).await
    }

    pub async fn schedule_until(
        &self,
        token: &str,
        agreement_id: &str,
        until: Option<&str>,
    ) -> Result<proto::Schedule, Status> {
        self.client()
            .get_schedule(bearer(
                token,
                proto::GetScheduleRequest {
                    agreement_id: agreement_id.to_owned(),
                    until: until.map(date),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Publishes `event` as the relay would, with its event id as the message id unless
    /// `message_id` says otherwise (a redelivery past the dedup window uses another).
    pub async fn publish(&self, event: &Event, message_id: Option<&str>) {
        let jetstream =
            async_nats::jetstream::new(async_nats::connect(self.nats.url()).await.unwrap());
        sds_testkit::publish_event(
            &jetstream,
            &format!("sds.{}.{}", event.authority, event.event_type),
            message_id.unwrap_or(&event.event_id),
            event.encode_to_vec().into(),
        )
        .await;
    }

    /// Publishes `event` and waits until the consumer has handled it.
    pub async fn deliver(&self, event: &Event) {
        let before = self.handled().await;
        self.publish(event, None).await;
        self.wait_for_handled(before + 1).await;
    }

    /// How many agreement events the consumer has handled (its inbox rows).
    pub async fn handled(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM inbox WHERE consumer = 'payments-agreements'")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn wait_for_handled(&self, count: i64) {
        wait_until(
            Duration::from_secs(15),
            "the agreement events are handled",
            || async { (self.handled().await >= count).then_some(()) },
        )
        .await;
    }

    pub async fn changes(&self) -> Vec<proto::ScheduleChanged> {
        self.events_of("schedule.changed")
            .await
            .into_iter()
            .map(|event| match event.body {
                Some(proto::event::Body::ScheduleChanged(changed)) => changed,
                other => panic!("not a schedule change: {other:?}"),
            })
            .collect()
    }

    pub async fn events_of(&self, event_type: &str) -> Vec<Event> {
        let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY position",
        )
        .bind(event_type)
        .fetch_all(&self.pool)
        .await
        .expect("read the outbox");
        payloads
            .iter()
            .map(|payload| Event::decode(payload.as_slice()).expect("an event"))
            .collect()
    }

    /// Rows in every table payments writes, to show that a refusal wrote nothing.
    pub async fn row_counts(&self) -> Vec<(String, i64)> {
        let mut counts = Vec::new();
        for table in [
            "payment_run",
            "instalment_payment",
            "fund_link",
            "fund_payee",
            "schedule",
            "schedule_version",
            "schedule_line",
            "schedule_end",
            "authority_settings",
            "payee_bank_account",
            "remittance",
            "run_held",
            "actual_report",
            "actual_line",
            "variance_alert",
            "contribution_version",
            "contribution_due",
            "contribution_receipt",
            "contribution_arrears",
            "outbox",
        ] {
            let count: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                    .fetch_one(&self.pool)
                    .await
                    .unwrap();
            counts.push((table.to_owned(), count));
        }
        counts
    }
}

/// Moves the service's clock to noon on `day`.
pub fn on(app: &TestApp, day: &str) {
    app.clock.set(
        day.parse::<chrono::NaiveDate>()
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc(),
    );
}

pub fn date(iso: &str) -> proto::Date {
    proto::Date {
        iso: iso.to_owned(),
    }
}

pub fn money(amount: &str) -> proto::Money {
    proto::Money {
        amount: amount.to_owned(),
    }
}

pub fn finance(authority: &str) -> String {
    token_for(&authority_staff(authority, &[Role::Finance]))
}

pub fn practitioner(authority: &str) -> String {
    token_for(&authority_staff(authority, &[Role::Practitioner]))
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

pub fn assert_refused(result: Result<impl std::fmt::Debug, Status>, code: Code, words: &str) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), code, "{}", status.message());
    assert!(
        status.message().contains(words),
        "{:?} does not contain {words:?}",
        status.message()
    );
}

pub use crate::agreements::*;
