//! What the simulation does through the services' public APIs, each step one call of the
//! flow driver (`sds::flow`) or one request: an authority set up with its own payment
//! terms and management fee, its providers each with a rate card, and its third-party
//! holder; the cards' Scottish Living Wage uplift; a person's offer accepted with the fund
//! held as drawn and the agreement signed, a variation, a notice ending an agreement, a
//! payment run. The fund's further steps are in [`super::steps`] and
//! [`super::ledger_steps`].
//!
//! What must stay true: every step is made as its user would make it (staff, the person,
//! the provider, each with their own token), so the simulation exercises what users
//! exercise and nothing else.

use anyhow::Context as _;
use chrono::{Datelike as _, NaiveDate};
use sds::flow::{self, Calendar, Platform, bearer};
use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use tokio_stream::StreamExt as _;

use super::terms::FLEX_TOLERANCE_PERCENT;
use super::workload::{
    AuthorityPlan, Ending, FIRST_WEEKLY_PENCE, FeeKind, Frequency, FundPlan, Held, NOTICE_DAYS,
    OtherOption, Timing, Variation,
};

pub(super) fn date(day: NaiveDate) -> Option<proto::Date> {
    Some(proto::Date {
        iso: day.to_string(),
    })
}

pub(super) fn pounds(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// What an authority has in place for the run.
#[derive(Debug, Clone)]
pub struct AuthoritySetup {
    pub providers: Vec<proto::Provider>,
    /// Its third-party holder, registered in the directory as an organisation holding
    /// ISFs, on its framework and with its bank account.
    pub holder: proto::Provider,
    /// Each provider's rate card for care at home, in provider order.
    pub cards: Vec<String>,
}

/// The management fee of `kind` as the simulation agrees it (a percentage on top of the
/// budget, or within it when `within`).
pub fn fee(kind: FeeKind, within: bool) -> proto::AgreementFee {
    let money = |amount: &str| {
        Some(proto::Money {
            amount: amount.to_owned(),
        })
    };
    let none = proto::AgreementFee::default();
    match kind {
        FeeKind::None => proto::AgreementFee {
            kind: proto::ManagementFeeKind::None as i32,
            ..none
        },
        FeeKind::FlatWeekly => proto::AgreementFee {
            kind: proto::ManagementFeeKind::FlatWeekly as i32,
            flat_weekly: money("12.50"),
            ..none
        },
        FeeKind::Percentage => proto::AgreementFee {
            kind: proto::ManagementFeeKind::Percentage as i32,
            percentage: "7.5".into(),
            placement: if within {
                proto::FeePlacement::WithinBudget
            } else {
                proto::FeePlacement::OnTop
            } as i32,
            ..none
        },
        FeeKind::AdminHours => proto::AgreementFee {
            kind: proto::ManagementFeeKind::AdminHours as i32,
            admin_hours_per_week: "1.5".into(),
            admin_hourly_rate: money("18.00"),
            ..none
        },
        FeeKind::IncludedInHourlyRate => proto::AgreementFee {
            kind: proto::ManagementFeeKind::IncludedInHourlyRate as i32,
            ..none
        },
    }
}

/// The components of every simulated rate card from the financial year before the run: a
/// care worker's wage and what goes on it, 21.00 an hour in all.
fn card_components() -> Vec<proto::RateAmount> {
    [
        (proto::RateComponent::CareWorkerWage, "12.60"),
        (proto::RateComponent::OnCosts, "3.15"),
        (proto::RateComponent::Overheads, "3.00"),
        (proto::RateComponent::Management, "2.25"),
    ]
    .into_iter()
    .map(|(component, hourly)| proto::RateAmount {
        component: component as i32,
        hourly: Some(proto::Money {
            amount: hourly.to_owned(),
        }),
    })
    .collect()
}

/// The hourly rate [`card_components`] add up to, which a line of hours names in the plan.
pub const CARD_HOURLY_RATE: &str = "21.00";

/// What every simulated provider and holder is: a voluntary organisation giving care at
/// home across Aberdeenshire.
fn simulated_organisation() -> proto::ProviderDetails {
    proto::ProviderDetails {
        kind: proto::ProviderKind::VoluntaryOrganisation as i32,
        service_types: vec!["Care at home".into()],
        localities: vec!["Aberdeenshire".into()],
        ..proto::ProviderDetails::default()
    }
}

/// Registers an organisation in the directory and makes it ready to be contracted and paid.
async fn register_ready(
    platform: &Platform,
    details: proto::ProviderDetails,
    request_id: String,
) -> anyhow::Result<proto::Provider> {
    let provider = DirectoryServiceClient::new(platform.directory.clone())
        .register_provider(bearer(
            &platform.staff(&[Role::Commissioning]),
            proto::RegisterProviderRequest {
                details: Some(details),
                request_id,
            },
        ))
        .await?
        .into_inner();
    flow::setup::provider_ready(platform, &provider).await?;
    Ok(provider)
}

/// The authority's policy, payment settings and contract defaults with its own terms; its
/// providers registered, on its framework, with their bank accounts and each a rate card
/// from 1 April of the year before `start`; its third-party holder likewise.
pub async fn set_up_authority(
    platform: &Platform,
    plan: &AuthorityPlan,
    start: NaiveDate,
) -> anyhow::Result<AuthoritySetup> {
    flow::setup::authority(platform, &Calendar::new(start)).await?;
    let timing = match plan.timing {
        Timing::Advance => proto::payment_timing::Timing::Advance(proto::InAdvance {}),
        Timing::Arrears { lag_days } => {
            proto::payment_timing::Timing::Arrears(proto::InArrears { lag_days })
        }
    };
    // An authority paying in arrears pays on the delivery its providers report.
    let basis = match plan.timing {
        Timing::Advance => proto::PaymentBasis::Scheduled,
        Timing::Arrears { .. } => proto::PaymentBasis::Actuals,
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
                    basis: basis as i32,
                    flex_tolerance_percent: FLEX_TOLERANCE_PERCENT.to_string(),
                    fee: Some(fee(plan.fee, false)),
                    notice_days: u32::try_from(NOTICE_DAYS).unwrap_or(28),
                    review_after_months: 6,
                }),
            },
        ))
        .await
        .with_context(|| format!("set {}'s contract defaults", plan.id))?;
    let mut providers = Vec::with_capacity(plan.providers);
    for number in 1..=plan.providers {
        let provider = register_ready(
            platform,
            proto::ProviderDetails {
                name: format!("Simulated Care {} {number}", plan.id),
                capacity: Some(10_000),
                contact_email: format!("office-{number}@{}.example", plan.id),
                ..simulated_organisation()
            },
            format!("{}-provider-{number}", plan.id),
        )
        .await
        .with_context(|| format!("register {}'s provider {number}", plan.id))?;
        providers.push(provider);
    }
    let card_from = NaiveDate::from_ymd_opt(start.year() - 1, 4, 1).unwrap_or(start);
    let mut cards = Vec::with_capacity(providers.len());
    for provider in &providers {
        let card = ContractsServiceClient::new(platform.contracts.clone())
            .set_rate_card(bearer(
                &platform.staff(&[Role::Commissioning]),
                proto::SetRateCardRequest {
                    provider_id: provider.id.clone(),
                    service_type: "Care at home".into(),
                    effective_from: date(card_from),
                    components: card_components(),
                },
            ))
            .await
            .with_context(|| format!("set {}'s rate card", plan.id))?
            .into_inner();
        cards.push(card.id);
    }
    let holder = register_ready(
        platform,
        proto::ProviderDetails {
            name: format!("Simulated ISF Holder {}", plan.id),
            capacity: Some(100_000),
            holds_isfs: true,
            contact_email: format!("isf@{}.example", plan.id),
            ..simulated_organisation()
        },
        format!("{}-holder", plan.id),
    )
    .await
    .with_context(|| format!("register {}'s third-party holder", plan.id))?;
    Ok(AuthoritySetup {
        providers,
        holder,
        cards,
    })
}

/// Each of the authority's rate cards uplifted from `day` (1 April) for the Scottish Living
/// Wage: the care worker's wage to 13.45 an hour, the other components as they were.
pub async fn uplift(platform: &Platform, cards: &[String], day: NaiveDate) -> anyhow::Result<()> {
    for card in cards {
        ContractsServiceClient::new(platform.contracts.clone())
            .schedule_uplift(bearer(
                &platform.staff(&[Role::Commissioning]),
                proto::ScheduleUpliftRequest {
                    rate_card_id: card.clone(),
                    effective_from: date(day),
                    uplift: Some(proto::schedule_uplift_request::Uplift::NewValues(
                        proto::NewRateValues {
                            components: vec![proto::RateAmount {
                                component: proto::RateComponent::CareWorkerWage as i32,
                                hourly: Some(proto::Money {
                                    amount: "13.45".into(),
                                }),
                            }],
                        },
                    )),
                },
            ))
            .await
            .with_context(|| format!("uplift rate card {card} from {day}"))?;
    }
    Ok(())
}

/// A person the simulation made, once their agreement is signed.
#[derive(Debug, Clone)]
pub struct Signed {
    pub person_id: String,
    pub provider_id: String,
    /// The third-party holder's id, when a third party holds the fund.
    pub holder_id: Option<String>,
    /// The agreement as last signed (a variation needs the version it varies).
    pub agreement: proto::Agreement,
}

/// The fund's person recorded, assessed and given an approved plan; their option 2 line
/// offered by `provider` and accepted today; the agreement signed by every party.
pub async fn accept(
    platform: &Platform,
    fund: &FundPlan,
    provider: &proto::Provider,
    holder: &proto::Provider,
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
    let first = proto::LineAmount {
        amount: Some(if fund.terms.hours {
            proto::line_amount::Amount::HoursAtRate(proto::HoursAtRate {
                hours_per_week: "10".into(),
                hourly_rate: Some(proto::Money {
                    amount: CARD_HOURLY_RATE.into(),
                }),
            })
        } else {
            proto::line_amount::Amount::Weekly(proto::Money {
                amount: pounds(FIRST_WEEKLY_PENCE),
            })
        }),
    };
    let person_id = flow::setup::person_with_first_line(
        platform,
        &calendar,
        &flow::setup::Person {
            case_reference: &case_reference,
            name: &name,
            date_of_birth: born,
            locality: fund.person.locality,
            client_group: fund.person.client_group,
        },
        first,
        others,
    )
    .await
    .with_context(|| format!("{case_reference}: the person and their plan"))?;
    let holding = match fund.held {
        Held::Provider => flow::Holding::Provider,
        Held::ThirdParty => flow::Holding::ThirdParty {
            holder_id: holder.id.clone(),
        },
        Held::Authority => flow::Holding::Authority,
    };
    let agreement = flow::choose_and_sign_held(platform, &calendar, &person_id, provider, &holding)
        .await
        .with_context(|| format!("{case_reference}: the offer accepted and signed"))?;
    let holder_id = (fund.held == Held::ThirdParty).then(|| holder.id.clone());
    Ok(Signed {
        person_id,
        provider_id: provider.id.clone(),
        holder_id,
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
