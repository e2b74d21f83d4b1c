//! RecordGrades: Care Inspectorate grades, recorded by commissioning staff only.

use sds_proto::v1::{self as proto, KeyQuestion};
use sds_testkit::bearer;
use tonic::Code;

use crate::support::*;

/// A provider that registered itself and runs an inspected service: commissioning staff
/// record its grades (only a record with a service number may call itself a registered
/// care service, and a provider cannot give itself one).
fn inspected_provider(name: &str) -> proto::ProviderDetails {
    proto::ProviderDetails {
        kind: proto::ProviderKind::VoluntaryOrganisation as i32,
        ..details(name)
    }
}

#[tokio::test]
async fn commissioning_staff_record_grades_and_the_minimum_grade_is_the_lowest() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(inspected_provider("Turriff Care"))
        .await;

    let graded = app
        .record_grades(
            &provider.id,
            vec![
                grade(KeyQuestion::SupportWellbeing, 5, "2025-09-15"),
                grade(KeyQuestion::Leadership, 4, "2025-09-15"),
                grade(KeyQuestion::StaffTeam, 6, "2025-09-15"),
            ],
        )
        .await;

    assert_eq!(graded.min_grade, 4);
    assert_eq!(graded.version, 2);
    let recorded: Vec<(i32, u32)> = graded
        .grades
        .iter()
        .map(|grade| (grade.key_question, grade.grade))
        .collect();
    assert_eq!(
        recorded,
        vec![
            (KeyQuestion::SupportWellbeing as i32, 5),
            (KeyQuestion::StaffTeam as i32, 6),
            (KeyQuestion::Leadership as i32, 4),
        ]
    );
}

#[tokio::test]
async fn a_later_inspection_replaces_the_current_grade_and_an_earlier_one_does_not() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(inspected_provider("Ellon Care"))
        .await;
    app.record_grades(
        &provider.id,
        vec![grade(KeyQuestion::SupportWellbeing, 3, "2024-05-01")],
    )
    .await;

    let after_reinspection = app
        .record_grades(
            &provider.id,
            vec![grade(KeyQuestion::SupportWellbeing, 5, "2025-05-01")],
        )
        .await;
    let after_late_paperwork = app
        .record_grades(
            &provider.id,
            vec![grade(KeyQuestion::SupportWellbeing, 2, "2023-01-10")],
        )
        .await;

    assert_eq!(after_reinspection.min_grade, 5);
    assert_eq!(
        after_late_paperwork.min_grade, 5,
        "an older inspection is history, not current"
    );
    assert_eq!(after_late_paperwork.grades.len(), 1);
    assert_eq!(
        after_late_paperwork.grades[0].inspected_on,
        date("2025-05-01")
    );
    assert_eq!(app.row_counts().await.grades, 3);
}

#[tokio::test]
async fn a_provider_cannot_record_grades_even_for_itself() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(inspected_provider("Inverurie Care"))
        .await;
    let before = app.row_counts().await;

    let result = app
        .client()
        .record_grades(bearer(
            &token,
            proto::RecordGradesRequest {
                provider_id: provider.id.clone(),
                grades: vec![grade(KeyQuestion::SupportWellbeing, 6, "2025-01-01")],
            },
        ))
        .await;

    let message = assert_code(result, Code::PermissionDenied);
    assert!(message.contains("Care Inspectorate"), "{message}");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn grades_from_an_inspection_after_today_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    let provider = app
        .commissioning_registers(inspected_provider("Crystal Ball Care"))
        .await;
    let before = app.row_counts().await;
    let mut from_the_future = grade(proto::KeyQuestion::StaffTeam, 6, "2025-01-01");
    from_the_future.inspected_on = days_from_today(1);

    let refused = app
        .client()
        .record_grades(bearer(
            &commissioning("aberdeenshire"),
            proto::RecordGradesRequest {
                provider_id: provider.id.clone(),
                grades: vec![
                    grade(proto::KeyQuestion::Leadership, 5, "2025-01-01"),
                    from_the_future,
                ],
            },
        ))
        .await;

    let message = assert_invalid(refused, "grades[1].inspected_on");
    assert!(message.contains("is after today"), "{message}");
    assert_eq!(app.row_counts().await, before);
}
