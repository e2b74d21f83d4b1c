//! What every test needs: the assessment service spawned on a fresh database with a clock
//! the test sets, a client, tokens for the usual callers, example messages, and ways to
//! look at what was written.

use chrono::NaiveDate;
use sds_assessment::SCHEMA;
use sds_platform::{ManualClock, Role};
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::{self as proto, ClientGroup, EligibilityLevel};
use sds_testkit::{TestProcess, TestSettings, authority_staff, bearer, provider_org, token_for};
use sqlx::PgPool;
use tonic::transport::Channel;
use tonic::{Code, Status};

pub type Client = AssessmentServiceClient<Channel>;

/// The day the tests live on.
pub const TODAY: &str = "2026-11-28";

pub fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
}

pub struct TestApp {
    pub pool: PgPool,
    pub clock: ManualClock,
    client: Client,
    _process: TestProcess,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let clock = ManualClock::on(day(TODAY));
        let process = TestProcess::start_with(
            vec![sds_assessment::component()],
            TestSettings {
                clock: Some(clock.clock()),
                ..TestSettings::default()
            },
        )
        .await;
        let client = AssessmentServiceClient::new(process.channel().await);
        let pool = process.pool(SCHEMA);
        // What the directory's provider.registered would leave: the index is filled only
        // from events, and a test of its own (providers.rs) sends them through NATS.
        directory_published(&pool, KNOWN_PROVIDER_ID, Some(KNOWN_PROVIDER_NUMBER), 1).await;
        TestApp {
            pool,
            clock,
            client,
            _process: process,
        }
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// A person of `authority` whose plan (one option 3 line) is approved, made as a
    /// practitioner makes one; returns their id.
    pub async fn person_with_plan(&self, authority: &str) -> String {
        sds_testkit::plans::approved_plan(
            self._process.channel().await,
            authority,
            day(TODAY),
            vec![sds_testkit::plans::option_3_line("210.00", day(TODAY))],
        )
        .await
    }

    pub async fn record_person(
        &self,
        authority: &str,
        details: proto::PersonDetails,
    ) -> proto::Person {
        self.client()
            .record_person(bearer(
                &practitioner(authority),
                proto::RecordPersonRequest {
                    authority: authority.to_owned(),
                    details: Some(details),
                },
            ))
            .await
            .expect("record a person")
            .into_inner()
    }

    pub async fn set_policy(&self, details: proto::PolicyDetails) -> proto::Policy {
        let authority = details.authority.clone();
        self.client()
            .set_policy(bearer(
                &commissioning(&authority),
                proto::SetPolicyRequest {
                    details: Some(details),
                },
            ))
            .await
            .expect("set a policy")
            .into_inner()
    }

    /// Rows in each table, to show that a refused request wrote nothing (the audit trail
    /// included).
    pub async fn row_counts(&self) -> RowCounts {
        let (people, policies, assessments, audit): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM policy), \
                    (SELECT count(*) FROM assessment), (SELECT count(*) FROM person_audit)",
        )
        .fetch_one(&self.pool)
        .await
        .expect("count rows");
        RowCounts {
            people,
            policies,
            assessments,
            audit,
        }
    }

    /// The person's audit trail: (actor, action), oldest first.
    pub async fn audit_of(&self, person_id: &str) -> Vec<(String, String)> {
        sqlx::query_as(
            "SELECT actor, action FROM person_audit WHERE person_id = $1::uuid ORDER BY position",
        )
        .bind(person_id)
        .fetch_all(&self.pool)
        .await
        .expect("read audit")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub people: i64,
    pub policies: i64,
    pub assessments: i64,
    pub audit: i64,
}

// ---- callers ----------------------------------------------------------------------------

pub fn staff(authority: &str, roles: &[Role]) -> String {
    token_for(&authority_staff(authority, roles))
}

pub fn practitioner(authority: &str) -> String {
    staff(authority, &[Role::Practitioner])
}

pub fn commissioning(authority: &str) -> String {
    staff(authority, &[Role::Commissioning])
}

/// A provider the directory has published (every test app knows it).
pub const KNOWN_PROVIDER_ID: &str = "0192f0c1-0000-7000-8000-00000000c5a1";
/// Its Care Inspectorate number: one no other suite registers, since every test process's
/// provider consumer shares one durable on the shared test NATS and may index what other
/// suites' directories publish.
pub const KNOWN_PROVIDER_NUMBER: &str = "CS2026112801";

/// Records in the service's provider index what a directory event about this provider
/// would record, through the same code the consumer runs.
pub async fn directory_published(pool: &PgPool, id: &str, number: Option<&str>, version: u64) {
    let id = sds_directory::domain::ProviderId::parse("id", id).expect("a provider id");
    let number = number.map(|number| {
        sds_directory::domain::CareInspectorateNumber::parse("number", number)
            .expect("a Care Inspectorate number")
    });
    let mut connection = pool.acquire().await.expect("a connection");
    sds_assessment::providers::remember(&mut connection, id, number.as_ref(), version)
        .await
        .expect("record the provider");
}

pub fn provider_token() -> String {
    token_for(&provider_org(&uuid::Uuid::now_v7().to_string()))
}

// ---- messages ---------------------------------------------------------------------------

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

pub fn person(case_reference: &str) -> proto::PersonDetails {
    proto::PersonDetails {
        case_reference: case_reference.to_owned(),
        display_name: "Morag Innes".into(),
        date_of_birth: date("1948-05-17"),
        locality: "Garioch".into(),
        client_groups: vec![
            ClientGroup::ElderlyFrail as i32,
            ClientGroup::Dementia as i32,
        ],
    }
}

fn up_to(amount: &str) -> Option<proto::Limit> {
    Some(proto::Limit {
        limit: Some(proto::limit::Limit::UpTo(proto::Money {
            amount: amount.to_owned(),
        })),
    })
}

fn unlimited() -> Option<proto::Limit> {
    Some(proto::Limit {
        limit: Some(proto::limit::Limit::Unlimited(true)),
    })
}

/// Substantial threshold, a small RAS, practitioners 275/375, team managers 600/800, the
/// panel unlimited, 90 days of backdating, reviews after 12 months.
pub fn policy(authority: &str, effective_from: &str) -> proto::PolicyDetails {
    proto::PolicyDetails {
        authority: authority.to_owned(),
        effective_from: date(effective_from),
        eligibility_threshold: EligibilityLevel::Substantial as i32,
        resource_allocation: Some(proto::ResourceAllocation {
            questions: vec![
                proto::RasQuestion {
                    code: "personal_care".into(),
                    label: "Personal care".into(),
                    max_score: 10,
                },
                proto::RasQuestion {
                    code: "community".into(),
                    label: "Being part of the community".into(),
                    max_score: 10,
                },
            ],
            price_per_point: money("12.50"),
            bands: vec![],
            weekly_cap: money("400.00"),
        }),
        standard_hourly_rate: money("23.50"),
        approval_limits: Some(proto::ApprovalLimits {
            practitioner: Some(proto::RoleLimits {
                child: up_to("275.00"),
                adult: up_to("375.00"),
            }),
            team_manager: Some(proto::RoleLimits {
                child: up_to("600.00"),
                adult: up_to("800.00"),
            }),
            panel: Some(proto::RoleLimits {
                child: unlimited(),
                adult: unlimited(),
            }),
        }),
        backdating_days: 90,
        review_interval: Some(proto::policy_details::ReviewInterval::ReviewIntervalMonths(
            12,
        )),
        sending_location: "100".into(),
    }
}

// ---- assertions -------------------------------------------------------------------------

/// The call failed with `code`; returns its message.
pub fn assert_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> String {
    let status = result.expect_err("the call should fail");
    assert_eq!(status.code(), code, "unexpected status {status:?}");
    status.message().to_owned()
}

/// The call failed with `InvalidArgument` naming `field` first; returns its message.
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) -> String {
    let message = assert_code(result, Code::InvalidArgument);
    assert!(
        message.starts_with(&format!("{field} ")) || message.starts_with(&format!("{field}:")),
        "expected the message to name {field}: {message}"
    );
    message
}
