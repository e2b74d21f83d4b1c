//! S2: an authority's staff never see or change another authority's people; providers see
//! none of them; each action needs its role.

use sds_platform::Role;
use sds_proto::v1::{self as proto, EligibilityLevel};
use sds_testkit::bearer;
use tonic::Code;

use crate::support::*;

#[tokio::test]
async fn another_authoritys_staff_are_told_the_person_is_not_recorded() {
    let app = TestApp::spawn().await;
    app.set_policy(policy("fife", "2026-04-01")).await;
    let someone = app.record_person("fife", person("SW-4001")).await;
    let before = app.row_counts().await;

    let read = app
        .client()
        .get_person(bearer(
            &practitioner("angus"),
            proto::GetPersonRequest {
                id: someone.id.clone(),
            },
        ))
        .await;
    let message = assert_code(read, Code::NotFound);
    assert!(
        !message.contains("fife"),
        "the authority is not revealed: {message}"
    );

    let assessed = app
        .client()
        .record_assessment(bearer(
            &practitioner("angus"),
            proto::RecordAssessmentRequest {
                person_id: someone.id.clone(),
                outcomes: vec!["x".into()],
                needs: vec![],
                eligibility: EligibilityLevel::Critical as i32,
                assessed_on: date("2026-11-20"),
                community_resources: vec![],
            },
        ))
        .await;
    assert_code(assessed, Code::NotFound);

    let recorded_elsewhere = app
        .client()
        .record_person(bearer(
            &practitioner("angus"),
            proto::RecordPersonRequest {
                authority: "fife".into(),
                details: Some(person("SW-4001")),
            },
        ))
        .await;
    assert_code(recorded_elsewhere, Code::PermissionDenied);
    assert_eq!(
        app.row_counts().await,
        before,
        "nothing written, not even a read"
    );
}

#[tokio::test]
async fn providers_and_roles_without_casework_are_refused() {
    let app = TestApp::spawn().await;
    let someone = app.record_person("fife", person("SW-4002")).await;

    let by_provider = app
        .client()
        .get_person(bearer(
            &provider_token(),
            proto::GetPersonRequest {
                id: someone.id.clone(),
            },
        ))
        .await;
    assert_code(by_provider, Code::PermissionDenied);

    let by_finance = app
        .client()
        .record_person(bearer(
            &staff("fife", &[Role::Finance]),
            proto::RecordPersonRequest {
                authority: "fife".into(),
                details: Some(person("SW-4003")),
            },
        ))
        .await;
    assert_code(by_finance, Code::PermissionDenied);
}
