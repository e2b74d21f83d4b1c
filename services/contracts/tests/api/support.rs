//! What every test needs: the contracts service spawned on a fresh database (with the
//! directory beside it, which contracts asks before an agreement becomes active), clients,
//! tokens for the usual callers, example messages, and ways to look at what was written.

use sds_contracts::SCHEMA;
use sds_platform::Role;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::{self as proto, RateComponent};
use sds_testkit::{
    PrivateNats, TestProcess, TestSettings, authority_staff, bearer, provider_org, token_for,
};
use sqlx::PgPool;
use tonic::transport::Channel;
use tonic::{Code, Status};

pub type Client = ContractsServiceClient<Channel>;

/// The provider most tests price.
pub const PROVIDER_ID: &str = "0192f0c1-0000-7000-8000-00000000c5a1";
/// Another provider, who may not see or change the first one's cards.
pub const OTHER_PROVIDER_ID: &str = "0192f0c1-0000-7000-8000-00000000c5a2";

/// The day every test runs on.
pub const TODAY: &str = "2026-11-28";

pub struct TestApp {
    pub pool: PgPool,
    client: Client,
    pub directory: DirectoryServiceClient<Channel>,
    // Dropped after the process, which relays to it and consumes from it.
    _process: TestProcess,
    pub nats: PrivateNats,
    /// The service's clock, which tests move on.
    pub clock: sds_platform::ManualClock,
}

impl TestApp {
    /// The service on a fresh database and a NATS of its own: the service consumes plan
    /// events, and durables shared between test processes would take each other's events.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Vec::new()).await
    }

    /// [`TestApp::spawn`] with further `SDS_*` settings.
    pub async fn spawn_with(environment: Vec<(&'static str, String)>) -> TestApp {
        let nats = PrivateNats::start().await;
        let clock = sds_platform::ManualClock::on(TODAY.parse().expect("a date"));
        let process = TestProcess::start_with(
            vec![sds_directory::component(), sds_contracts::component()],
            TestSettings {
                nats_url: Some(nats.url()),
                clock: Some(clock.clock()),
                environment,
                ..TestSettings::default()
            },
        )
        .await;
        let channel = process.channel().await;
        let client = ContractsServiceClient::new(channel.clone());
        let directory = DirectoryServiceClient::new(channel);
        let pool = process.pool(SCHEMA);
        TestApp {
            pool,
            client,
            directory,
            _process: process,
            nats,
            clock,
        }
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    pub async fn set_defaults(
        &self,
        authority: &str,
        terms: proto::ContractDefaultTerms,
    ) -> Result<proto::ContractDefaults, Status> {
        self.client()
            .set_contract_defaults(bearer(
                &commissioning(authority),
                proto::SetContractDefaultsRequest {
                    authority: authority.to_owned(),
                    terms: Some(terms),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn set_card(
        &self,
        token: &str,
        request: proto::SetRateCardRequest,
    ) -> Result<proto::RateCard, Status> {
        self.client()
            .set_rate_card(bearer(token, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn uplift(
        &self,
        token: &str,
        request: proto::ScheduleUpliftRequest,
    ) -> Result<proto::RateCard, Status> {
        self.client()
            .schedule_uplift(bearer(token, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn get_card(&self, token: &str, id: &str) -> Result<proto::RateCard, Status> {
        self.client()
            .get_rate_card(bearer(
                token,
                proto::GetRateCardRequest {
                    rate_card_id: id.to_owned(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Rows in each table, to show that a refused request wrote nothing.
    pub async fn row_counts(&self) -> RowCounts {
        let (defaults, cards, versions, components): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM contract_defaults), (SELECT count(*) FROM rate_card), \
                    (SELECT count(*) FROM rate_card_version), \
                    (SELECT count(*) FROM rate_card_component)",
        )
        .fetch_one(&self.pool)
        .await
        .expect("count rows");
        RowCounts {
            defaults,
            cards,
            versions,
            components,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub defaults: i64,
    pub cards: i64,
    pub versions: i64,
    pub components: i64,
}

// ---- callers ----------------------------------------------------------------------------

pub fn staff(authority: &str, roles: &[Role]) -> String {
    token_for(&authority_staff(authority, roles))
}

pub fn commissioning(authority: &str) -> String {
    staff(authority, &[Role::Commissioning])
}

pub fn practitioner(authority: &str) -> String {
    staff(authority, &[Role::Practitioner])
}

pub fn provider(id: &str) -> String {
    token_for(&provider_org(id))
}

// ---- example messages -------------------------------------------------------------------

pub fn money(amount: &str) -> Option<proto::Money> {
    Some(proto::Money {
        amount: amount.to_owned(),
    })
}

pub fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

/// Four-weekly, 14 days in arrears on actuals, 10% tolerance, a 7.5% fee within the
/// budget, 28 days' notice, reviewed after 6 months.
pub fn terms() -> proto::ContractDefaultTerms {
    proto::ContractDefaultTerms {
        frequency: proto::PaymentFrequency::FourWeekly as i32,
        timing: Some(proto::PaymentTiming {
            timing: Some(proto::payment_timing::Timing::Arrears(proto::InArrears {
                lag_days: 14,
            })),
        }),
        basis: proto::PaymentBasis::Actuals as i32,
        flex_tolerance_percent: "10".into(),
        fee: Some(proto::AgreementFee {
            kind: proto::ManagementFeeKind::Percentage as i32,
            percentage: "7.5".into(),
            placement: proto::FeePlacement::WithinBudget as i32,
            ..proto::AgreementFee::default()
        }),
        notice_days: 28,
        review_after_months: 6,
    }
}

pub fn amount(component: RateComponent, hourly: &str) -> proto::RateAmount {
    proto::RateAmount {
        component: component as i32,
        hourly: money(hourly),
    }
}

/// 12.60 wage, 3.15 on-costs, 2.10 travel, 0.52 training, 4.00 overheads, 2.00
/// management and 1.00 surplus: 25.37 an hour.
pub fn components() -> Vec<proto::RateAmount> {
    vec![
        amount(RateComponent::CareWorkerWage, "12.60"),
        amount(RateComponent::OnCosts, "3.15"),
        amount(RateComponent::Travel, "2.10"),
        amount(RateComponent::Training, "0.52"),
        amount(RateComponent::Overheads, "4.00"),
        amount(RateComponent::Management, "2.00"),
        amount(RateComponent::Surplus, "1.00"),
    ]
}

pub fn card_request(effective_from: &str) -> proto::SetRateCardRequest {
    proto::SetRateCardRequest {
        provider_id: PROVIDER_ID.into(),
        service_type: "Care at home".into(),
        effective_from: date(effective_from),
        components: components(),
    }
}

/// The hourly rate of each version, oldest first.
pub fn rates(card: &proto::RateCard) -> Vec<(u32, String, String, String)> {
    card.versions
        .iter()
        .map(|version| {
            (
                version.version,
                version.effective_from.clone().unwrap_or_default().iso,
                version.hourly_rate.clone().unwrap_or_default().amount,
                version.cause.clone(),
            )
        })
        .collect()
}

/// The component's hourly amount in a version.
pub fn component_of(version: &proto::RateCardVersion, component: RateComponent) -> String {
    version
        .components
        .iter()
        .find(|amount| amount.component == component as i32)
        .and_then(|amount| amount.hourly.clone())
        .map(|hourly| hourly.amount)
        .unwrap_or_default()
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
        message.starts_with(&format!("{field} ")),
        "expected the message to name {field}: {message}"
    );
    message
}

/// A capacity by its name as the wire number: "" for unspecified, and 99 (a number no
/// capacity has) for a name that is none, such as "cousin".
pub fn capacity_number(name: &str) -> i32 {
    use sds_vocabulary::NamedEnum as _;
    use sds_vocabulary::named_enum::WireEnum as _;
    if name.is_empty() {
        return 0;
    }
    sds_contracts::domain::Capacity::from_name(name).map_or(99, |capacity| capacity.wire_number())
}
