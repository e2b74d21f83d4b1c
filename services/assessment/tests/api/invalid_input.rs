//! Bad input for every RPC: `InvalidArgument` naming the field, and nothing written.

use sds_proto::v1::{self as proto, EligibilityLevel};
use sds_testkit::bearer;

use crate::support::*;

#[tokio::test]
async fn bad_people_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let cases: Vec<(proto::PersonDetails, &str)> = vec![
        (
            proto::PersonDetails {
                case_reference: "".into(),
                ..person("x")
            },
            "details.case_reference",
        ),
        (
            proto::PersonDetails {
                case_reference: "SW 1".into(),
                ..person("x")
            },
            "details.case_reference",
        ),
        (
            proto::PersonDetails {
                display_name: " ".into(),
                ..person("SW-1")
            },
            "details.display_name",
        ),
        (
            proto::PersonDetails {
                display_name: "Mo\u{202e}rag".into(),
                ..person("SW-1")
            },
            "details.display_name",
        ),
        (
            proto::PersonDetails {
                date_of_birth: date("1948-13-01"),
                ..person("SW-1")
            },
            "details.date_of_birth",
        ),
        (
            proto::PersonDetails {
                date_of_birth: date("2026-11-29"),
                ..person("SW-1")
            },
            "details.date_of_birth",
        ),
        (
            proto::PersonDetails {
                date_of_birth: None,
                ..person("SW-1")
            },
            "details.date_of_birth",
        ),
        (
            proto::PersonDetails {
                locality: "".into(),
                ..person("SW-1")
            },
            "details.locality",
        ),
        (
            proto::PersonDetails {
                client_groups: vec![],
                ..person("SW-1")
            },
            "details.client_groups",
        ),
        (
            proto::PersonDetails {
                client_groups: vec![99],
                ..person("SW-1")
            },
            "details.client_groups[0]",
        ),
        (
            proto::PersonDetails {
                client_groups: vec![0],
                ..person("SW-1")
            },
            "details.client_groups[0]",
        ),
    ];
    for (details, field) in cases {
        let result = app
            .client()
            .record_person(bearer(
                &practitioner("fife"),
                proto::RecordPersonRequest {
                    authority: "fife".into(),
                    details: Some(details),
                },
            ))
            .await;
        assert_invalid(result, field);
    }
    let bad_authority = app
        .client()
        .record_person(bearer(
            &practitioner("fife"),
            proto::RecordPersonRequest {
                authority: "Fife Council".into(),
                details: Some(person("SW-1")),
            },
        ))
        .await;
    assert_invalid(bad_authority, "authority");
    let bad_id = app
        .client()
        .get_person(bearer(
            &practitioner("fife"),
            proto::GetPersonRequest { id: "42".into() },
        ))
        .await;
    assert_invalid(bad_id, "id");
    assert_eq!(app.row_counts().await.people, 0);
    assert_eq!(app.row_counts().await.audit, 0);
}

#[tokio::test]
async fn bad_policies_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let with = |change: fn(&mut proto::PolicyDetails)| {
        let mut details = policy("fife", "2026-04-01");
        change(&mut details);
        details
    };
    let cases: Vec<(proto::PolicyDetails, &str)> = vec![
        (
            with(|p| p.eligibility_threshold = EligibilityLevel::NoRisk as i32),
            "details.eligibility_threshold",
        ),
        (
            with(|p| p.eligibility_threshold = 0),
            "details.eligibility_threshold",
        ),
        (
            with(|p| p.effective_from = date("2026-02-30")),
            "details.effective_from",
        ),
        (
            with(|p| p.standard_hourly_rate = money("23.505")),
            "details.standard_hourly_rate",
        ),
        (
            with(|p| p.standard_hourly_rate = money("-1.00")),
            "details.standard_hourly_rate",
        ),
        (
            with(|p| p.approval_limits = None),
            "details.approval_limits",
        ),
        (
            with(|p| p.approval_limits.as_mut().unwrap().panel = None),
            "details.approval_limits.panel",
        ),
        (
            with(|p| {
                p.approval_limits
                    .as_mut()
                    .unwrap()
                    .team_manager
                    .as_mut()
                    .unwrap()
                    .adult = Some(proto::Limit {
                    limit: Some(proto::limit::Limit::UpTo(proto::Money {
                        amount: "300.00".into(),
                    })),
                })
            }),
            "details.approval_limits.team_manager.adult",
        ),
        (
            with(|p| p.backdating_days = 4000),
            "details.backdating_days",
        ),
        (
            with(|p| p.review_interval = None),
            "details.review_interval",
        ),
        (
            with(|p| {
                p.review_interval = Some(
                    proto::policy_details::ReviewInterval::ReviewIntervalMonths(0),
                )
            }),
            "details.review_interval",
        ),
        (
            with(|p| p.sending_location = "S 100".into()),
            "details.sending_location",
        ),
        (
            with(|p| p.resource_allocation.as_mut().unwrap().price_per_point = None),
            "details.resource_allocation.price_per_point",
        ),
        (
            with(|p| p.resource_allocation.as_mut().unwrap().questions[0].code = "".into()),
            "details.resource_allocation.questions[0].code",
        ),
    ];
    for (details, field) in cases {
        let result = app
            .client()
            .set_policy(bearer(
                &commissioning("fife"),
                proto::SetPolicyRequest {
                    details: Some(details),
                },
            ))
            .await;
        assert_invalid(result, field);
    }
    assert_eq!(app.row_counts().await.policies, 0);
}

#[tokio::test]
async fn bad_assessments_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    app.set_policy(policy("fife", "2026-04-01")).await;
    let someone = app.record_person("fife", person("SW-5001")).await;
    let before = app.row_counts().await;
    let base = || proto::RecordAssessmentRequest {
        person_id: someone.id.clone(),
        outcomes: vec!["To stay at home".into()],
        needs: vec![],
        eligibility: EligibilityLevel::Critical as i32,
        assessed_on: date("2026-11-20"),
        community_resources: vec![],
    };
    let cases: Vec<(proto::RecordAssessmentRequest, &str)> = vec![
        (
            proto::RecordAssessmentRequest {
                person_id: "nobody".into(),
                ..base()
            },
            "person_id",
        ),
        (
            proto::RecordAssessmentRequest {
                outcomes: vec![],
                ..base()
            },
            "outcomes",
        ),
        (
            proto::RecordAssessmentRequest {
                outcomes: vec!["x".repeat(1001)],
                ..base()
            },
            "outcomes[0]",
        ),
        (
            proto::RecordAssessmentRequest {
                eligibility: 0,
                ..base()
            },
            "eligibility",
        ),
        (
            proto::RecordAssessmentRequest {
                assessed_on: date("2026-11-29"),
                ..base()
            },
            "assessed_on",
        ),
        (
            proto::RecordAssessmentRequest {
                assessed_on: date("20-11-2026"),
                ..base()
            },
            "assessed_on",
        ),
    ];
    for (request, field) in cases {
        let result = app
            .client()
            .record_assessment(bearer(&practitioner("fife"), request))
            .await;
        assert_invalid(result, field);
    }
    assert_eq!(app.row_counts().await, before);
}
