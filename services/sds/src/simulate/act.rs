//! What the simulation does through the services' public APIs, each step one call of the
//! flow driver (`sds::flow`) or one request: an authority set up with its own payment
//! terms and providers, a person's offer accepted and the agreement signed, a variation,
//! a notice ending an agreement, a payment run.
//!
//! What must stay true: every step is made as its user would make it (staff, the person,
//! the provider, each with their own token), so the simulation exercises what users
//! exercise and nothing else.

use anyhow::Context as _;
use chrono::NaiveDate;
use sds::flow::{self, Calendar, Platform, bearer};
use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use tokio_stream::StreamExt as _;

use super::workload::{
    AuthorityPlan, Ending, Frequency, FundPlan, NOTICE_DAYS, OtherOption, Timing, Variation,
};

fn date(day: NaiveDate) -> Option<proto::Date> {
    Some(proto::Date {
        iso: day.to_string(),
    })
}

fn pounds(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// The authority's policy, payment settings and contract defaults with its own terms, and
/// its providers registered, on its framework and with their bank accounts.
pub async fn set_up_authority(
    platform: &Platform,
    plan: &AuthorityPlan,
    start: NaiveDate,
) -> anyhow::Result<Vec<proto::Provider>> {
    flow::setup::authority(platform, &Calendar::new(start)).await?;
    let timing = match plan.timing {
        Timing::Advance => proto::payment_timing::Timing::Advance(proto::InAdvance {}),
        Timing::Arrears { lag_days } => {
            proto::payment_timing::Timing::Arrears(proto::InArrears { lag_days })
        }
    };
    let frequency = match plan.frequency {
        Frequency::FourWeekly => proto::PaymentFrequency::FourWeekly,
        Frequency::Quarterly => proto::PaymentFrequency::Quarterly,
    };
    ContractsServiceClient::new(platform.contracts.clone())
        .set_contract_defaults(bearer(
            &platform.staff(&[Role::Commissioning]),
            proto::SetContractDefaultsRequest {
                authority: plan.id.clone(),
                terms: Some(proto::ContractDefaultTerms {
                    frequency: frequency as i32,
                    timing: Some(proto::PaymentTiming {
                        timing: Some(timing),
                    }),
                    basis: proto::PaymentBasis::Scheduled as i32,
                    flex_tolerance_percent: "10".into(),
                    fee: Some(proto::AgreementFee {
                        kind: proto::ManagementFeeKind::None as i32,
                        ..proto::AgreementFee::default()
                    }),
                    notice_days: u32::try_from(NOTICE_DAYS).unwrap_or(28),
                    review_after_months: 6,
                }),
            },
        ))
        .await
        .with_context(|| format!("set {}'s contract defaults", plan.id))?;
    let mut providers = Vec::with_capacity(plan.providers);
    for number in 1..=plan.providers {
        let provider = DirectoryServiceClient::new(platform.directory.clone())
            .register_provider(bearer(
                &platform.staff(&[Role::Commissioning]),
                proto::RegisterProviderRequest {
                    details: Some(proto::ProviderDetails {
                        name: format!("Simulated Care {} {number}", plan.id),
                        kind: proto::ProviderKind::VoluntaryOrganisation as i32,
                        service_types: vec!["Care at home".into()],
                        localities: vec!["Aberdeenshire".into()],
                        capacity: Some(10_000),
                        contact_email: format!("office-{number}@{}.example", plan.id),
                        ..proto::ProviderDetails::default()
                    }),
                    request_id: format!("{}-provider-{number}", plan.id),
                },
            ))
            .await
            .with_context(|| format!("register {}'s provider {number}", plan.id))?
            .into_inner();
        flow::setup::provider_ready(platform, &provider).await?;
        providers.push(provider);
    }
    Ok(providers)
}

/// A person the simulation made, once their agreement is signed.
#[derive(Debug, Clone)]
pub struct Signed {
    pub person_id: String,
    pub provider_id: String,
    /// The agreement as last signed (a variation needs the version it varies).
    pub agreement: proto::Agreement,
}

/// The fund's person recorded, assessed and given an approved plan; their option 2 line
/// offered by `provider` and accepted today; the agreement signed by every party.
pub async fn accept(
    platform: &Platform,
    fund: &FundPlan,
    provider: &proto::Provider,
) -> anyhow::Result<Signed> {
    let calendar = Calendar::new(fund.accepted_on);
    let case_reference = fund.case_reference();
    let name = format!("Simulated Person {}", fund.number);
    let others = fund
        .others
        .iter()
        .map(|line| proto::NewPlanLine {
            support_type: proto::SupportType::SocialSupport as i32,
            amount: Some(proto::LineAmount {
                amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                    amount: pounds(line.weekly_pence),
                })),
            }),
            arrangement: Some(proto::Arrangement {
                arrangement: Some(match line.option {
                    OtherOption::DirectPayment => {
                        proto::arrangement::Arrangement::DirectPayment(proto::DirectPayment {})
                    }
                    OtherOption::AuthorityArranged => {
                        proto::arrangement::Arrangement::AuthorityArranged(
                            proto::AuthorityArranged::default(),
                        )
                    }
                }),
            }),
            start: date(calendar.plan_start()),
            end: None,
        })
        .collect();
    let born = NaiveDate::from_ymd_opt(1940 + i32::try_from(fund.number % 60).unwrap_or(0), 3, 1)
        .context("a date of birth")?;
    let person_id = flow::setup::person_with_lines(
        platform,
        &calendar,
        &flow::setup::Person {
            case_reference: &case_reference,
            name: &name,
            date_of_birth: born,
            locality: "Banchory",
        },
        others,
    )
    .await
    .with_context(|| format!("{case_reference}: the person and their plan"))?;
    let agreement = flow::choose_and_sign(platform, &calendar, &person_id, provider)
        .await
        .with_context(|| format!("{case_reference}: the offer accepted and signed"))?;
    Ok(Signed {
        person_id,
        provider_id: provider.id.clone(),
        agreement,
    })
}

/// The option 2 line varied and the agreement's variation signed by every party.
pub async fn vary(
    platform: &Platform,
    signed: &Signed,
    variation: &Variation,
) -> anyhow::Result<proto::Agreement> {
    flow::vary_and_sign(
        platform,
        &signed.person_id,
        &signed.agreement,
        &signed.provider_id,
        variation.from,
        &pounds(variation.weekly_pence),
    )
    .await
}

/// Notice given by the practitioner that the agreement ends on the ending's last day.
pub async fn end(platform: &Platform, signed: &Signed, ending: &Ending) -> anyhow::Result<()> {
    ContractsServiceClient::new(platform.contracts.clone())
        .end_agreement(bearer(
            &platform.staff(&[Role::Practitioner]),
            proto::EndAgreementRequest {
                agreement_id: signed.agreement.id.clone(),
                last_day: date(ending.last_day),
                reason: "the person moved away".into(),
            },
        ))
        .await
        .context("give notice ending the agreement")?;
    Ok(())
}

/// The authority's payment run of `day`, as finance staff ask for it; returns how many
/// instalments it paid.
pub async fn run_payments(platform: &Platform, day: NaiveDate) -> anyhow::Result<u64> {
    let mut progress = PaymentsServiceClient::new(platform.payments.clone())
        .run_payments(bearer(
            &platform.staff(&[Role::Finance]),
            proto::RunPaymentsRequest {
                authority: platform.authority.as_str().to_owned(),
                run_date: date(day),
            },
        ))
        .await
        .with_context(|| format!("start {}'s run of {day}", platform.authority.as_str()))?
        .into_inner();
    while let Some(step) = progress.next().await {
        let step = step.with_context(|| format!("the run of {day}"))?;
        if let Some(summary) = step.completed {
            return Ok(summary.instalments);
        }
    }
    anyhow::bail!("the run of {day} ended without a summary")
}
