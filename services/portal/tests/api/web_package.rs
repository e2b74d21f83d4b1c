//! A provider with one active package paid on actuals, made through every service's public
//! gRPC API as their users would: the provider registered and on Fife's framework, Fife's
//! contract defaults (monthly in arrears, 14 days after each month, paid on actuals) and
//! payment settings, a person's approved plan of personal care at 210.00 a week from
//! 1 October 2026 with the provider chosen on it, the agreement contracts drafts from that
//! choice signed by every party, the schedule payments makes from it, and a payment run for
//! 14 December 2026 (run ahead on 28 November, as finance may) that sends the provider a
//! remittance. The agreement is signed on 28 November, after October's due day (14
//! November), so October is paid with November on 14 December: 1,830.00 (61 days at 30.00).

#![allow(dead_code)]

use std::time::Duration;

use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_testkit::{authority_staff, bearer, provider_org, token_for, wait_until};
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;

use crate::web_person::{person_token, person_with_an_approved_plan};
use crate::web_support::Platform;

/// How long one hop of events between services may take.
const HOP: Duration = Duration::from_secs(30);

/// The name the person is recorded with, which no provider page may show.
pub const PERSON_NAME: &str = "Morag Innes";

/// Every service of `sds serve` (the portal included), on the web tests' clock.
pub async fn whole_platform() -> Platform {
    Platform::start(vec![
        sds_directory::component(),
        sds_assessment::component(),
        sds_contracts::component(),
        sds_ledger::component(),
        sds_payments::component(),
    ])
    .await
}

/// What the set-up made.
pub struct ActivePackage {
    pub provider_id: String,
    pub person_id: String,
    pub agreement_id: String,
}

impl ActivePackage {
    pub fn provider_token(&self) -> String {
        token_for(&provider_org(&self.provider_id))
    }

    pub fn person_token(&self) -> String {
        person_token(&self.person_id)
    }
}

fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

/// Makes the package on `platform` (see the module's documentation).
pub async fn active_package_on_actuals(platform: &Platform) -> ActivePackage {
    let channel = platform.process.channel().await;
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    let finance = token_for(&authority_staff("fife", &[Role::Finance]));
    let provider_id = register_on_framework(platform, &channel, &commissioning).await;
    let provider = token_for(&provider_org(&provider_id));
    set_terms(&channel, &commissioning, &finance, &provider_id).await;

    let person_id = person_with_an_approved_plan(platform, PERSON_NAME).await;
    AssessmentServiceClient::new(channel.clone())
        .record_provider_choice(bearer(
            &practitioner,
            proto::RecordProviderChoiceRequest {
                person_id: person_id.clone(),
                version: 1,
                line_number: 1,
                provider: provider_id.clone(),
                holding_model: proto::FundHoldingModel::Provider as i32,
                holder: String::new(),
            },
        ))
        .await
        .expect("the person's choice of provider is recorded");

    let contracts = ContractsServiceClient::new(channel.clone());
    let agreement = wait_until(HOP, "contracts drafts the agreement", || {
        let mut contracts = contracts.clone();
        let practitioner = practitioner.clone();
        let person_id = person_id.clone();
        async move {
            contracts
                .list_agreements(bearer(
                    &practitioner,
                    proto::ListAgreementsRequest {
                        authority: "fife".into(),
                        person_id,
                        page: None,
                    },
                ))
                .await
                .ok()?
                .into_inner()
                .agreements
                .into_iter()
                .next()
        }
    })
    .await;
    for token in [person_token(&person_id), provider.clone(), practitioner] {
        sign(&contracts, &agreement, &token).await;
    }

    let payments = PaymentsServiceClient::new(channel);
    wait_until(HOP, "payments makes the schedule", || {
        let mut payments = payments.clone();
        let request = bearer(
            &provider,
            proto::GetScheduleRequest {
                agreement_id: agreement.id.clone(),
                until: None,
            },
        );
        async move { payments.get_schedule(request).await.ok().map(|_| ()) }
    })
    .await;
    run_payments(payments, &finance, "2026-12-14").await;
    ActivePackage {
        provider_id,
        person_id,
        agreement_id: agreement.id,
    }
}

/// Registers a care service in Fife, waits until assessment knows it (a plan's choice names
/// it), and puts it on Fife's framework (contracts needs that before it signs).
async fn register_on_framework(
    platform: &Platform,
    channel: &Channel,
    commissioning: &str,
) -> String {
    let mut directory = DirectoryServiceClient::new(channel.clone());
    let provider_id = directory
        .register_provider(bearer(
            commissioning,
            proto::RegisterProviderRequest {
                details: Some(proto::ProviderDetails {
                    name: "Kingdom Home Support".into(),
                    kind: proto::ProviderKind::RegisteredCareService as i32,
                    care_inspectorate_number: "CS2004071234".into(),
                    service_types: vec!["Support services".into()],
                    localities: vec!["Fife".into()],
                    capacity: Some(40),
                    ..proto::ProviderDetails::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .expect("register the provider")
        .into_inner()
        .id;
    let index = platform.process.pool(sds_assessment::SCHEMA);
    wait_until(HOP, "assessment's index has the provider", || {
        let index = index.clone();
        let provider_id = provider_id.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM known_provider WHERE provider_id = $1::uuid",
            )
            .bind(provider_id)
            .fetch_one(&index)
            .await
            .ok()
            .filter(|count| *count > 0)
        }
    })
    .await;
    directory
        .set_framework_status(bearer(
            commissioning,
            proto::SetFrameworkStatusRequest {
                provider_id: provider_id.clone(),
                authority: "fife".into(),
                status: proto::FrameworkStatus::OnFramework as i32,
            },
        ))
        .await
        .expect("the provider is on the framework");
    provider_id
}

/// Fife's contract defaults (monthly, in arrears 14 days after each month, on actuals), its
/// payment settings and the provider's bank account.
async fn set_terms(channel: &Channel, commissioning: &str, finance: &str, provider_id: &str) {
    ContractsServiceClient::new(channel.clone())
        .set_contract_defaults(bearer(
            commissioning,
            proto::SetContractDefaultsRequest {
                authority: "fife".into(),
                terms: Some(proto::ContractDefaultTerms {
                    frequency: proto::PaymentFrequency::Monthly as i32,
                    timing: Some(proto::PaymentTiming {
                        timing: Some(proto::payment_timing::Timing::Arrears(proto::InArrears {
                            lag_days: 14,
                        })),
                    }),
                    basis: proto::PaymentBasis::Actuals as i32,
                    flex_tolerance_percent: "10".into(),
                    fee: Some(proto::AgreementFee {
                        kind: proto::ManagementFeeKind::None as i32,
                        ..proto::AgreementFee::default()
                    }),
                    notice_days: 28,
                    review_after_months: 6,
                }),
            },
        ))
        .await
        .expect("contract defaults");
    let mut payments = PaymentsServiceClient::new(channel.clone());
    payments
        .set_payment_settings(bearer(
            finance,
            proto::SetPaymentSettingsRequest {
                authority: "fife".into(),
                anchor_date: date("2026-04-06"),
                journal_codes: None,
                paying_account: Some(proto::PayingAccount {
                    name: "Fife HSCP".into(),
                    account: Some(proto::BankAccount {
                        sort_code: "80-22-60".into(),
                        account_number: "10203040".into(),
                        account_name: "Fife Council SDS".into(),
                    }),
                    service_user_number: "123456".into(),
                }),
                contribution_arrears_periods: 0,
            },
        ))
        .await
        .expect("payment settings");
    payments
        .set_payee_bank_account(bearer(
            finance,
            proto::SetPayeeBankAccountRequest {
                authority: "fife".into(),
                payee_id: provider_id.to_owned(),
                account: Some(proto::BankAccount {
                    sort_code: "40-11-62".into(),
                    account_number: "41234567".into(),
                    account_name: "Kingdom Home Support".into(),
                }),
            },
        ))
        .await
        .expect("the provider's bank account");
}

/// Signs the agreement's awaiting version as `token`'s party. The provider's framework
/// status reaches contracts by event; a signature before it arrives is refused as not yet
/// allowed, and given again.
async fn sign(
    contracts: &ContractsServiceClient<Channel>,
    agreement: &proto::Agreement,
    token: &str,
) {
    wait_until(HOP, "a party signs", || {
        let mut contracts = contracts.clone();
        let request = bearer(
            token,
            proto::SignAgreementRequest {
                agreement_id: agreement.id.clone(),
                version: agreement.version,
                capacity: 0,
            },
        );
        async move {
            match contracts.sign_agreement(request).await {
                Ok(_) => Some(()),
                Err(status) if status.code() == tonic::Code::FailedPrecondition => None,
                Err(status) => panic!("a party signs: {status:?}"),
            }
        }
    })
    .await;
}

/// Runs Fife's payments for `run_date` to the end.
async fn run_payments(mut payments: PaymentsServiceClient<Channel>, finance: &str, run_date: &str) {
    let mut progress = payments
        .run_payments(bearer(
            finance,
            proto::RunPaymentsRequest {
                authority: "fife".into(),
                run_date: date(run_date),
            },
        ))
        .await
        .expect("the run starts")
        .into_inner();
    while let Some(step) = progress.next().await {
        let step = step.expect("the run progresses");
        if let Some(summary) = step.completed {
            assert_eq!(
                summary.instalments, 1,
                "the run pays one instalment: {summary:?}"
            );
            return;
        }
    }
    panic!("the run of {run_date} ended without a summary");
}
