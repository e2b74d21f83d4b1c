//! RecordAssessment: outcomes in the person's words, needs, and the eligibility decision
//! against the threshold of the policy in effect on the day of the assessment.

use sds_proto::v1::{self as proto, EligibilityLevel};
use sds_testkit::bearer;
use tonic::Code;

use crate::support::*;

fn assessment(person_id: &str, eligibility: EligibilityLevel) -> proto::RecordAssessmentRequest {
    proto::RecordAssessmentRequest {
        person_id: person_id.to_owned(),
        outcomes: vec!["I want to be part of my community".into()],
        needs: vec!["Help with washing and dressing each morning".into()],
        eligibility: eligibility as i32,
        assessed_on: date("2026-11-20"),
        community_resources: vec![],
    }
}

#[tokio::test]
async fn eligibility_is_decided_against_the_threshold_with_a_reason() {
    let app = TestApp::spawn().await;
    app.set_policy(policy("fife", "2026-04-01")).await;
    let person = app.record_person("fife", person("SW-3003")).await;

    let eligible = app
        .client()
        .record_assessment(bearer(
            &practitioner("fife"),
            assessment(&person.id, EligibilityLevel::Critical),
        ))
        .await
        .expect("assessment")
        .into_inner();

    assert!(eligible.eligible);
    assert!(
        eligible.decision_reason.contains("critical"),
        "{}",
        eligible.decision_reason
    );
    assert_eq!(eligible.outcomes, ["I want to be part of my community"]);
    let trail = app.audit_of(&person.id).await;
    assert_eq!(trail.last().unwrap().1, "assessment.recorded");
}

#[tokio::test]
async fn someone_not_eligible_is_pointed_to_community_resources() {
    let app = TestApp::spawn().await;
    app.set_policy(policy("fife", "2026-04-01")).await;
    let person = app.record_person("fife", person("SW-3004")).await;
    let before = app.row_counts().await;

    let without = app
        .client()
        .record_assessment(bearer(
            &practitioner("fife"),
            assessment(&person.id, EligibilityLevel::Moderate),
        ))
        .await;
    let message = assert_invalid(without, "community_resources");
    assert!(message.contains("not eligible"), "{message}");
    assert_eq!(app.row_counts().await, before);

    let with = app
        .client()
        .record_assessment(bearer(
            &practitioner("fife"),
            proto::RecordAssessmentRequest {
                community_resources: vec!["Kirkcaldy lunch club".into()],
                ..assessment(&person.id, EligibilityLevel::Moderate)
            },
        ))
        .await
        .expect("recorded with the resources")
        .into_inner();
    assert!(!with.eligible);
    assert_eq!(with.community_resources, ["Kirkcaldy lunch club"]);
}

#[tokio::test]
async fn an_assessment_needs_a_policy_in_effect_on_its_date() {
    let app = TestApp::spawn().await;
    app.set_policy(policy("fife", "2026-11-25")).await;
    let person = app.record_person("fife", person("SW-3005")).await;

    let result = app
        .client()
        .record_assessment(bearer(
            &practitioner("fife"),
            assessment(&person.id, EligibilityLevel::Critical),
        ))
        .await;

    let message = assert_code(result, Code::FailedPrecondition);
    assert!(
        message.contains("no policy in effect on 2026-11-20"),
        "{message}"
    );
}

#[tokio::test]
async fn what_counts_as_the_future_follows_the_platform_clock() {
    let app = TestApp::spawn().await;
    app.set_policy(policy("fife", "2026-04-01")).await;
    let person = app.record_person("fife", person("SW-3006")).await;
    let in_january = || proto::RecordAssessmentRequest {
        assessed_on: date("2027-01-05"),
        ..assessment(&person.id, EligibilityLevel::Critical)
    };
    let early = app
        .client()
        .record_assessment(bearer(&practitioner("fife"), in_january()))
        .await;
    assert_invalid(early, "assessed_on");

    app.clock.set(
        sds_platform::ManualClock::on(day("2027-01-10"))
            .clock()
            .now(),
    );
    let later = app
        .client()
        .record_assessment(bearer(&practitioner("fife"), in_january()))
        .await;
    assert!(later.is_ok(), "{later:?}");
}
