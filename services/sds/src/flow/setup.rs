//! What the flow needs in place, made through the services' APIs: the authority's policy,
//! contract defaults and payment settings; a person with an approved plan whose option 2
//! line's provider is still to be chosen; a provider on the authority's framework with its
//! bank account entered.
//!
//! Each step can be run again: a policy already set from the same day is left as it is, and
//! the other settings are the same values set again.

use anyhow::Context as _;
use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;

use super::{Calendar, Platform, bearer, date, money};

fn limit(amount: Option<&str>) -> Option<proto::Limit> {
    Some(proto::Limit {
        limit: Some(match amount {
            Some(amount) => proto::limit::Limit::UpTo(proto::Money {
                amount: amount.to_owned(),
            }),
            None => proto::limit::Limit::Unlimited(true),
        }),
    })
}

fn roles(child: Option<&str>, adult: Option<&str>) -> Option<proto::RoleLimits> {
    Some(proto::RoleLimits {
        child: limit(child),
        adult: limit(adult),
    })
}

/// The authority's policy from the calendar's financial year, its contract defaults (four
/// weekly, in advance, the scheduled amounts, no fee) and its paying account.
pub async fn authority(platform: &Platform, calendar: &Calendar) -> anyhow::Result<()> {
    let authority = platform.authority.as_str().to_owned();
    let commissioning = platform.staff(&[Role::Commissioning]);
    let policy = AssessmentServiceClient::new(platform.assessment.clone())
        .set_policy(bearer(
            &commissioning,
            proto::SetPolicyRequest {
                details: Some(proto::PolicyDetails {
                    authority: authority.clone(),
                    effective_from: date(calendar.policy_from()),
                    eligibility_threshold: proto::EligibilityLevel::Substantial as i32,
                    resource_allocation: None,
                    standard_hourly_rate: money("23.50"),
                    approval_limits: Some(proto::ApprovalLimits {
                        practitioner: roles(Some("275.00"), Some("375.00")),
                        team_manager: roles(Some("600.00"), Some("800.00")),
                        panel: roles(None, None),
                    }),
                    backdating_days: 90,
                    review_interval: Some(
                        proto::policy_details::ReviewInterval::ReviewIntervalMonths(12),
                    ),
                    sending_location: "100".into(),
                }),
            },
        ))
        .await;
    match policy {
        Ok(_) => {}
        // A policy is never changed once set: one from the same day is already there.
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::FailedPrecondition | tonic::Code::AlreadyExists
            ) => {}
        Err(status) => return Err(status).context("set the authority's policy"),
    }
    ContractsServiceClient::new(platform.contracts.clone())
        .set_contract_defaults(bearer(
            &commissioning,
            proto::SetContractDefaultsRequest {
                authority: authority.clone(),
                terms: Some(proto::ContractDefaultTerms {
                    frequency: proto::PaymentFrequency::FourWeekly as i32,
                    timing: Some(proto::PaymentTiming {
                        timing: Some(proto::payment_timing::Timing::Advance(proto::InAdvance {})),
                    }),
                    basis: proto::PaymentBasis::Scheduled as i32,
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
        .context("set the contract defaults")?;
    PaymentsServiceClient::new(platform.payments.clone())
        .set_payment_settings(bearer(
            &platform.staff(&[Role::Finance]),
            proto::SetPaymentSettingsRequest {
                authority,
                anchor_date: date(super::ANCHOR),
                journal_codes: None,
                paying_account: Some(proto::PayingAccount {
                    name: "HSCP self-directed support".into(),
                    account: Some(proto::BankAccount {
                        sort_code: "80-22-60".into(),
                        account_number: "10203040".into(),
                        account_name: "Council SDS account".into(),
                    }),
                    service_user_number: "123456".into(),
                }),
                contribution_arrears_periods: 0,
            },
        ))
        .await
        .context("set the payment settings")?;
    Ok(())
}

/// Who the flow is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person<'a> {
    pub case_reference: &'a str,
    pub name: &'a str,
    pub date_of_birth: chrono::NaiveDate,
    pub locality: &'a str,
    pub client_group: proto::ClientGroup,
}

/// Records the person, assesses them as eligible, sets an indicative budget of ten hours
/// at the standard rate (235.00 a week) and approves a plan from the calendar's plan start
/// with one option 2 line of personal care at 210.00 a week, its provider to be chosen.
/// Returns the person's id.
pub async fn person_with_plan(
    platform: &Platform,
    calendar: &Calendar,
    person: &Person<'_>,
) -> anyhow::Result<String> {
    person_with_lines(platform, calendar, person, Vec::new()).await
}

/// [`person_with_plan`], with `others` after the option 2 line (line 1): lines of other
/// options, which make the plan a mix (option 4). The flow only ever chooses line 1.
pub async fn person_with_lines(
    platform: &Platform,
    calendar: &Calendar,
    person: &Person<'_>,
    others: Vec<proto::NewPlanLine>,
) -> anyhow::Result<String> {
    let weekly = proto::LineAmount {
        amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
            amount: "210.00".into(),
        })),
    };
    person_with_first_line(platform, calendar, person, weekly, others).await
}

/// [`person_with_lines`] with the option 2 line's amount given (hours at a rate, say, for a
/// line priced on the provider's rate card).
pub async fn person_with_first_line(
    platform: &Platform,
    calendar: &Calendar,
    person: &Person<'_>,
    first: proto::LineAmount,
    others: Vec<proto::NewPlanLine>,
) -> anyhow::Result<String> {
    let practitioner = platform.staff(&[Role::Practitioner]);
    let mut assessment = AssessmentServiceClient::new(platform.assessment.clone());
    let recorded = assessment
        .record_person(bearer(
            &practitioner,
            proto::RecordPersonRequest {
                authority: platform.authority.as_str().to_owned(),
                details: Some(proto::PersonDetails {
                    case_reference: person.case_reference.into(),
                    display_name: person.name.into(),
                    date_of_birth: date(person.date_of_birth),
                    locality: person.locality.into(),
                    client_groups: vec![person.client_group as i32],
                }),
            },
        ))
        .await
        .context("record the person")?
        .into_inner();
    let person_id = recorded.id;
    assessment
        .record_assessment(bearer(
            &practitioner,
            proto::RecordAssessmentRequest {
                person_id: person_id.clone(),
                outcomes: vec!["To keep going to the lunch club".into()],
                needs: vec!["Help getting up and dressed".into()],
                eligibility: proto::EligibilityLevel::Substantial as i32,
                assessed_on: date(calendar.assessed_on()),
                community_resources: vec![],
            },
        ))
        .await
        .context("assess the person")?;
    assessment
        .set_indicative_budget(bearer(
            &practitioner,
            proto::SetIndicativeBudgetRequest {
                person_id: person_id.clone(),
                method: Some(proto::set_indicative_budget_request::Method::HoursAtRates(
                    proto::HoursAtRates {
                        items: vec![proto::HoursItem {
                            description: "personal care".into(),
                            hours_per_week: "10".into(),
                            hourly_rate: None,
                        }],
                    },
                )),
                set_on: None,
            },
        ))
        .await
        .context("set the indicative budget")?;
    let line = proto::NewPlanLine {
        support_type: proto::SupportType::PersonalCare as i32,
        amount: Some(first),
        arrangement: Some(proto::Arrangement {
            arrangement: Some(proto::arrangement::Arrangement::PersonDirected(
                proto::PersonDirected::default(),
            )),
        }),
        start: date(calendar.plan_start()),
        end: None,
    };
    let draft = assessment
        .draft_plan(bearer(
            &practitioner,
            proto::DraftPlanRequest {
                person_id: person_id.clone(),
                effective_from: date(calendar.plan_start()),
                lines: std::iter::once(line).chain(others).collect(),
            },
        ))
        .await
        .context("draft the plan")?
        .into_inner();
    approve(&mut assessment, &practitioner, &person_id, draft.version).await?;
    Ok(person_id)
}

/// The person's plan as it stands: its latest version, draft or approved.
pub async fn latest_plan(
    assessment: &mut AssessmentServiceClient<tonic::transport::Channel>,
    practitioner: &str,
    person_id: &str,
) -> anyhow::Result<proto::Plan> {
    Ok(assessment
        .get_plan(bearer(
            practitioner,
            proto::GetPlanRequest {
                person_id: person_id.to_owned(),
                version: 0,
            },
        ))
        .await
        .context("read the plan")?
        .into_inner())
}

/// Submits and approves version `version` of the person's plan.
pub async fn approve(
    assessment: &mut AssessmentServiceClient<tonic::transport::Channel>,
    practitioner: &str,
    person_id: &str,
    version: u32,
) -> anyhow::Result<proto::Plan> {
    assessment
        .submit_plan(bearer(
            practitioner,
            proto::SubmitPlanRequest {
                person_id: person_id.to_owned(),
                version,
                over_budget_reason: "agreed at panel".into(),
            },
        ))
        .await
        .context("submit the plan")?;
    Ok(assessment
        .approve_plan(bearer(
            practitioner,
            proto::ApprovePlanRequest {
                person_id: person_id.to_owned(),
                version,
            },
        ))
        .await
        .context("approve the plan")?
        .into_inner())
}

/// Puts the provider on the authority's framework and enters its bank account, so that an
/// agreement with it can start and be paid.
pub async fn provider_ready(platform: &Platform, provider: &proto::Provider) -> anyhow::Result<()> {
    DirectoryServiceClient::new(platform.directory.clone())
        .set_framework_status(bearer(
            &platform.staff(&[Role::Commissioning]),
            proto::SetFrameworkStatusRequest {
                provider_id: provider.id.clone(),
                authority: platform.authority.as_str().to_owned(),
                status: proto::FrameworkStatus::OnFramework as i32,
            },
        ))
        .await
        .context("put the provider on the framework")?;
    let name = provider
        .details
        .as_ref()
        .map(|details| details.name.clone())
        .unwrap_or_default();
    PaymentsServiceClient::new(platform.payments.clone())
        .set_payee_bank_account(bearer(
            &platform.staff(&[Role::Finance]),
            proto::SetPayeeBankAccountRequest {
                authority: platform.authority.as_str().to_owned(),
                payee_id: provider.id.clone(),
                account: Some(proto::BankAccount {
                    sort_code: "40-11-62".into(),
                    account_number: "41234567".into(),
                    account_name: name,
                }),
            },
        ))
        .await
        .context("enter the provider's bank account")?;
    Ok(())
}
