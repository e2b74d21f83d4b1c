//! A person with an approved plan, made as a social worker makes one, through assessment's
//! gRPC API: for tests of services that act on plans (a package request is published only
//! for a line of an approved plan) without going through the whole flow.
//!
//! The authority gets a policy from the 1 April before `today` on which the practitioner may
//! approve plans of up to 2,000.00 a week, unless it already has one; the person is recorded
//! under a new case reference, assessed as eligible, given an indicative budget, and their
//! plan of the given lines drafted from `today`, submitted and approved.

use chrono::{Datelike, NaiveDate};
use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use tonic::transport::Channel;

use crate::{authority_staff, bearer, token_for};

fn date(day: NaiveDate) -> Option<proto::Date> {
    Some(proto::Date {
        iso: day.to_string(),
    })
}

fn money(amount: &str) -> proto::Money {
    proto::Money {
        amount: amount.to_owned(),
    }
}

fn limit(amount: Option<&str>) -> Option<proto::Limit> {
    Some(proto::Limit {
        limit: Some(match amount {
            Some(amount) => proto::limit::Limit::UpTo(money(amount)),
            None => proto::limit::Limit::Unlimited(true),
        }),
    })
}

fn roles(amount: Option<&str>) -> Option<proto::RoleLimits> {
    Some(proto::RoleLimits {
        child: limit(amount),
        adult: limit(amount),
    })
}

fn line(
    weekly: &str,
    start: NaiveDate,
    arrangement: proto::arrangement::Arrangement,
) -> proto::NewPlanLine {
    proto::NewPlanLine {
        support_type: proto::SupportType::PersonalCare as i32,
        amount: Some(proto::LineAmount {
            amount: Some(proto::line_amount::Amount::Weekly(money(weekly))),
        }),
        arrangement: Some(proto::Arrangement {
            arrangement: Some(arrangement),
        }),
        start: date(start),
        end: None,
    }
}

/// An open-ended option 2 line of personal care at `weekly` a week from `start`, its
/// provider still to be chosen.
pub fn option_2_line(weekly: &str, start: NaiveDate) -> proto::NewPlanLine {
    line(
        weekly,
        start,
        proto::arrangement::Arrangement::PersonDirected(proto::PersonDirected::default()),
    )
}

/// An open-ended option 3 line of personal care at `weekly` a week from `start`.
pub fn option_3_line(weekly: &str, start: NaiveDate) -> proto::NewPlanLine {
    line(
        weekly,
        start,
        proto::arrangement::Arrangement::AuthorityArranged(proto::AuthorityArranged::default()),
    )
}

/// The 1 April on or before `day`: the start of its financial year.
fn financial_year_start(day: NaiveDate) -> NaiveDate {
    let year = if day.month() >= 4 {
        day.year()
    } else {
        day.year() - 1
    };
    NaiveDate::from_ymd_opt(year, 4, 1).expect("1 April is a date")
}

/// Makes a person of `authority` whose plan of `lines` is approved from `today` (as assessment
/// reads today), through assessment on `channel`; returns the person's id. Panics with what
/// assessment said when a step is refused.
pub async fn approved_plan(
    channel: Channel,
    authority: &str,
    today: NaiveDate,
    lines: Vec<proto::NewPlanLine>,
) -> String {
    let mut assessment = AssessmentServiceClient::new(channel);
    let practitioner = token_for(&authority_staff(authority, &[Role::Practitioner]));
    let commissioning = token_for(&authority_staff(authority, &[Role::Commissioning]));
    let policy = assessment
        .set_policy(bearer(
            &commissioning,
            proto::SetPolicyRequest {
                details: Some(proto::PolicyDetails {
                    authority: authority.to_owned(),
                    effective_from: date(financial_year_start(today)),
                    eligibility_threshold: proto::EligibilityLevel::Substantial as i32,
                    resource_allocation: None,
                    standard_hourly_rate: Some(money("23.50")),
                    approval_limits: Some(proto::ApprovalLimits {
                        practitioner: roles(Some("2000.00")),
                        team_manager: roles(Some("4000.00")),
                        panel: roles(None),
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
        // Set already, by an earlier person of the same test.
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::FailedPrecondition | tonic::Code::AlreadyExists
            ) => {}
        Err(status) => panic!("set {authority}'s policy: {status:?}"),
    }
    let case_reference = format!("T-{}", uuid::Uuid::now_v7().simple());
    let person_id = assessment
        .record_person(bearer(
            &practitioner,
            proto::RecordPersonRequest {
                authority: authority.to_owned(),
                details: Some(proto::PersonDetails {
                    case_reference,
                    display_name: "Morag Test".into(),
                    date_of_birth: date(NaiveDate::from_ymd_opt(1950, 6, 1).expect("a date")),
                    locality: "Central".into(),
                    client_groups: vec![proto::ClientGroup::ElderlyFrail as i32],
                }),
            },
        ))
        .await
        .expect("record the person")
        .into_inner()
        .id;
    assessment
        .record_assessment(bearer(
            &practitioner,
            proto::RecordAssessmentRequest {
                person_id: person_id.clone(),
                outcomes: vec!["To stay at home".into()],
                needs: vec!["Help with personal care".into()],
                eligibility: proto::EligibilityLevel::Substantial as i32,
                assessed_on: date(today),
                community_resources: vec![],
            },
        ))
        .await
        .expect("assess the person");
    assessment
        .set_indicative_budget(bearer(
            &practitioner,
            proto::SetIndicativeBudgetRequest {
                person_id: person_id.clone(),
                method: Some(proto::set_indicative_budget_request::Method::HoursAtRates(
                    proto::HoursAtRates {
                        items: vec![proto::HoursItem {
                            description: "personal care".into(),
                            hours_per_week: "40".into(),
                            hourly_rate: None,
                        }],
                    },
                )),
                set_on: None,
            },
        ))
        .await
        .expect("set the indicative budget");
    let version = assessment
        .draft_plan(bearer(
            &practitioner,
            proto::DraftPlanRequest {
                person_id: person_id.clone(),
                effective_from: date(today),
                lines,
            },
        ))
        .await
        .expect("draft the plan")
        .into_inner()
        .version;
    assessment
        .submit_plan(bearer(
            &practitioner,
            proto::SubmitPlanRequest {
                person_id: person_id.clone(),
                version,
                over_budget_reason: "agreed at panel".into(),
            },
        ))
        .await
        .expect("submit the plan");
    assessment
        .approve_plan(bearer(
            &practitioner,
            proto::ApprovePlanRequest {
                person_id: person_id.clone(),
                version,
            },
        ))
        .await
        .expect("approve the plan");
    person_id
}
