//! A person of Fife with an approved plan, as a social worker makes one through gRPC: the
//! authority's policy, the person, an eligible assessment, an indicative budget of 235.00 a
//! week, and a plan from 1 October 2026 with one option 2 line of personal care at 210.00 a
//! week whose provider is still to be chosen.

use sds_platform::Role;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::{self as proto, ClientGroup, EligibilityLevel};
use sds_testkit::{authority_staff, bearer, token_for};
use tonic::transport::Channel;

fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

fn money(amount: &str) -> Option<proto::Money> {
    Some(proto::Money {
        amount: amount.to_owned(),
    })
}

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

/// Makes the person (case reference `case_reference`) through assessment on `channel` and
/// approves their plan at version 1; returns the person's id.
pub async fn approved_option_2_plan(channel: Channel, case_reference: &str) -> String {
    let mut client = AssessmentServiceClient::new(channel);
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));
    client
        .set_policy(bearer(
            &commissioning,
            proto::SetPolicyRequest {
                details: Some(proto::PolicyDetails {
                    authority: "fife".into(),
                    effective_from: date("2026-04-01"),
                    eligibility_threshold: EligibilityLevel::Substantial as i32,
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
        .await
        .expect("policy");
    let person = client
        .record_person(bearer(
            &practitioner,
            proto::RecordPersonRequest {
                authority: "fife".into(),
                details: Some(proto::PersonDetails {
                    case_reference: case_reference.into(),
                    display_name: "Isla Ross".into(),
                    date_of_birth: date("1944-02-11"),
                    locality: "Kirkcaldy".into(),
                    client_groups: vec![ClientGroup::ElderlyFrail as i32],
                }),
            },
        ))
        .await
        .expect("person")
        .into_inner();
    let person_id = person.id.clone();
    client
        .record_assessment(bearer(
            &practitioner,
            proto::RecordAssessmentRequest {
                person_id: person_id.clone(),
                outcomes: vec!["To keep going to the lunch club".into()],
                needs: vec!["Help getting up and dressed".into()],
                eligibility: EligibilityLevel::Substantial as i32,
                assessed_on: date("2026-09-20"),
                community_resources: vec![],
            },
        ))
        .await
        .expect("eligible");
    client
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
        .expect("budget at the standard rate: 235.00");
    let line = proto::NewPlanLine {
        support_type: proto::SupportType::PersonalCare as i32,
        amount: Some(proto::LineAmount {
            amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                amount: "210.00".into(),
            })),
        }),
        arrangement: Some(proto::Arrangement {
            arrangement: Some(proto::arrangement::Arrangement::PersonDirected(
                proto::PersonDirected::default(),
            )),
        }),
        start: date("2026-10-01"),
        end: None,
    };
    client
        .draft_plan(bearer(
            &practitioner,
            proto::DraftPlanRequest {
                person_id: person_id.clone(),
                effective_from: date("2026-10-01"),
                lines: vec![line],
            },
        ))
        .await
        .expect("draft");
    let submit = |version: u32| proto::SubmitPlanRequest {
        person_id: person_id.clone(),
        version,
        over_budget_reason: "agreed at panel".into(),
    };
    let approve = |version: u32| proto::ApprovePlanRequest {
        person_id: person_id.clone(),
        version,
    };
    client
        .submit_plan(bearer(&practitioner, submit(1)))
        .await
        .expect("submit v1");
    client
        .approve_plan(bearer(&practitioner, approve(1)))
        .await
        .expect("approve v1");
    person_id
}
