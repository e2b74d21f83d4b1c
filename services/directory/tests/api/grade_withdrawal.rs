//! WithdrawGrades and ListGradeHistory: a grade recorded in error is withdrawn with a
//! reason by commissioning staff, stays in the history, and the previous inspection's grade
//! is current again.

use sds_proto::v1::{self as proto, KeyQuestion};
use sds_testkit::bearer;
use tonic::Code;

use crate::support::*;

const REASON: &str = "inspection year keyed as 2026 instead of 2016";

fn withdrawal(
    provider_id: &str,
    inspected_on: &str,
    key_questions: &[KeyQuestion],
) -> proto::WithdrawGradesRequest {
    proto::WithdrawGradesRequest {
        provider_id: provider_id.to_owned(),
        inspected_on: date(inspected_on),
        key_questions: key_questions
            .iter()
            .map(|question| *question as i32)
            .collect(),
        reason: REASON.into(),
        expected_version: None,
    }
}

/// A provider graded at two inspections: 2024 (3 and 4) and a later one (6 and 5).
async fn graded_twice(app: &TestApp) -> proto::Provider {
    let provider = app.commissioning_registers(details("Kintore Care")).await;
    app.record_grades(
        &provider.id,
        vec![
            grade(KeyQuestion::Setting, 3, "2024-04-01"),
            grade(KeyQuestion::Leadership, 4, "2024-04-01"),
        ],
    )
    .await;
    app.record_grades(
        &provider.id,
        vec![
            grade(KeyQuestion::Setting, 6, "2025-10-01"),
            grade(KeyQuestion::Leadership, 5, "2025-10-01"),
        ],
    )
    .await
}

fn current_grades(provider: &proto::Provider) -> Vec<(i32, u32, String)> {
    provider
        .grades
        .iter()
        .map(|grade| {
            let on = grade.inspected_on.as_ref().expect("dated");
            (grade.key_question, grade.grade, on.iso.clone())
        })
        .collect()
}

async fn history(
    app: &TestApp,
    provider_id: &str,
    token: &str,
) -> Result<proto::ListGradeHistoryResponse, tonic::Status> {
    app.client()
        .list_grade_history(bearer(
            token,
            proto::ListGradeHistoryRequest {
                provider_id: provider_id.to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_withdrawn_grade_stops_counting_and_the_previous_inspection_is_current_again() {
    let app = TestApp::spawn().await;
    let graded = graded_twice(&app).await;
    assert_eq!(graded.min_grade, 5);

    let after = app
        .client()
        .withdraw_grades(bearer(
            &commissioning("aberdeenshire"),
            withdrawal(&graded.id, "2025-10-01", &[KeyQuestion::Setting]),
        ))
        .await
        .expect("withdraw")
        .into_inner();

    assert_eq!(after.version, graded.version + 1);
    assert_eq!(
        current_grades(&after),
        vec![
            (KeyQuestion::Setting as i32, 3, "2024-04-01".to_owned()),
            (KeyQuestion::Leadership as i32, 5, "2025-10-01".to_owned()),
        ]
    );
    assert_eq!(
        after.min_grade, 3,
        "the minimum grade follows the current grades"
    );
    assert_eq!(app.get(&graded.id).await, after);

    let events = app.outbox_events().await;
    let last = events.last().expect("an event");
    assert_eq!(last.change(), "grade_withdrawn");
    assert_eq!(last.provider().min_grade, 3);
    assert_eq!(last.event.aggregate_version, after.version);
}

#[tokio::test]
async fn the_history_keeps_every_grade_with_who_withdrew_it_and_why() {
    let app = TestApp::spawn().await;
    let graded = graded_twice(&app).await;
    app.client()
        .withdraw_grades(bearer(
            &commissioning("aberdeenshire"),
            withdrawal(&graded.id, "2025-10-01", &[]),
        ))
        .await
        .expect("withdraw the whole inspection");

    let entries = history(&app, &graded.id, &commissioning("fife"))
        .await
        .expect("authority staff read the history")
        .entries;
    let summary: Vec<(u32, bool, bool)> = entries
        .iter()
        .map(|entry| {
            (
                entry.grade.as_ref().unwrap().grade,
                entry.current,
                entry.withdrawal.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (6, false, true),
            (5, false, true),
            (3, true, false),
            (4, true, false)
        ],
        "newest inspection first, every grade kept"
    );
    let withdrawal = entries[0].withdrawal.as_ref().unwrap();
    assert_eq!(withdrawal.reason, REASON);
    assert!(!withdrawal.withdrawn_by.is_empty());
    assert!(!entries[0].recorded_by.is_empty());
    let current = app.get(&graded.id).await;
    assert_eq!(current.min_grade, 3);
}

#[tokio::test]
async fn withdrawing_again_changes_nothing_and_recording_the_grade_again_brings_it_back() {
    let app = TestApp::spawn().await;
    let graded = graded_twice(&app).await;
    let request = || withdrawal(&graded.id, "2025-10-01", &[KeyQuestion::Leadership]);
    let first = app
        .client()
        .withdraw_grades(bearer(&commissioning("aberdeenshire"), request()))
        .await
        .unwrap()
        .into_inner();
    let before_retry = app.row_counts().await;

    let retried = app
        .client()
        .withdraw_grades(bearer(&commissioning("aberdeenshire"), request()))
        .await
        .expect("a retry is harmless")
        .into_inner();

    assert_eq!(retried, first);
    assert_eq!(app.row_counts().await, before_retry, "no version, no event");

    let restored = app
        .record_grades(
            &graded.id,
            vec![grade(KeyQuestion::Leadership, 5, "2025-10-01")],
        )
        .await;
    assert_eq!(restored.version, first.version + 1);
    assert!(
        current_grades(&restored).contains(&(
            KeyQuestion::Leadership as i32,
            5,
            "2025-10-01".to_owned()
        )),
        "{restored:?}"
    );
}

#[tokio::test]
async fn the_import_does_not_bring_a_withdrawn_grade_back() {
    let app = TestApp::spawn().await;
    let service = |grade_value: u32| proto::CareInspectorateService {
        service_number: "CS2019000123".into(),
        service_name: "Banchory Homecare".into(),
        service_type: "Support Service".into(),
        council_area: "Aberdeenshire".into(),
        grades: vec![grade(KeyQuestion::StaffTeam, grade_value, "2025-02-03")],
        source_line: 2,
        ..proto::CareInspectorateService::default()
    };
    let import = |grade_value: u32| {
        let mut client = app.client();
        async move {
            client
                .import_care_inspectorate_services(bearer(
                    &commissioning("aberdeenshire"),
                    proto::ImportCareInspectorateServicesRequest {
                        services: vec![service(grade_value)],
                    },
                ))
                .await
                .expect("import")
                .into_inner()
        }
    };
    import(2).await;
    let id = app
        .search(proto::SearchProvidersRequest {
            text: "Banchory".into(),
            ..proto::SearchProvidersRequest::default()
        })
        .await
        .providers[0]
        .id
        .clone();
    app.client()
        .withdraw_grades(bearer(
            &commissioning("aberdeenshire"),
            withdrawal(&id, "2025-02-03", &[]),
        ))
        .await
        .expect("withdraw");

    let again = import(2).await;
    let regraded = import(5).await;

    assert_eq!(again.unchanged, 1);
    assert_eq!(
        regraded.unchanged, 1,
        "a withdrawn entry is not rewritten by the import"
    );
    assert!(app.get(&id).await.grades.is_empty());
    let history = app
        .client()
        .list_grade_history(bearer(
            &commissioning("aberdeenshire"),
            proto::ListGradeHistoryRequest { provider_id: id },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.entries.len(), 1);
    assert_eq!(
        history.entries[0].grade.as_ref().unwrap().grade,
        2,
        "the withdrawal keeps the value it was about"
    );
}

#[tokio::test]
async fn corrections_and_withdrawals_keep_every_earlier_state_in_the_audit_trail() {
    let app = TestApp::spawn().await;
    let provider = app.commissioning_registers(details("Alford Care")).await;
    app.record_grades(
        &provider.id,
        vec![grade(KeyQuestion::Leadership, 2, "2025-01-10")],
    )
    .await;
    app.client()
        .withdraw_grades(bearer(
            &commissioning("aberdeenshire"),
            withdrawal(&provider.id, "2025-01-10", &[]),
        ))
        .await
        .unwrap();
    app.record_grades(
        &provider.id,
        vec![grade(KeyQuestion::Leadership, 6, "2025-01-10")],
    )
    .await;
    app.record_grades(
        &provider.id,
        vec![grade(KeyQuestion::Leadership, 3, "2025-01-10")],
    )
    .await;

    let trail: Vec<(i16, Option<String>)> = sqlx::query_as(
        "SELECT grade, withdrawn_reason FROM grade_audit WHERE provider_id = $1::uuid ORDER BY position",
    )
    .bind(&provider.id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        trail,
        vec![
            (2, None),
            (2, Some(REASON.to_owned())),
            (6, None),
            (3, None),
        ]
    );
    let rewritten = sqlx::query("DELETE FROM grade_audit")
        .execute(&app.pool)
        .await;
    assert!(rewritten.is_err(), "the trail is append-only");
}

#[tokio::test]
async fn only_commissioning_staff_withdraw_and_a_grade_the_provider_lacks_is_not_found() {
    let app = TestApp::spawn().await;
    let graded = graded_twice(&app).await;
    let before = app.row_counts().await;
    let provider_itself = provider_token(&graded.id);

    for token in [
        provider_itself.clone(),
        any_provider_token(),
        holder_token(),
    ] {
        let refused = app
            .client()
            .withdraw_grades(bearer(&token, withdrawal(&graded.id, "2025-10-01", &[])))
            .await;
        assert_code(refused, Code::PermissionDenied);
    }
    let wrong_date = app
        .client()
        .withdraw_grades(bearer(
            &commissioning("aberdeenshire"),
            withdrawal(&graded.id, "2025-10-02", &[]),
        ))
        .await;
    let message = assert_code(wrong_date, Code::NotFound);
    assert!(message.contains("2025-10-01, 2024-04-01"), "{message}");
    let wrong_question = app
        .client()
        .withdraw_grades(bearer(
            &commissioning("aberdeenshire"),
            withdrawal(&graded.id, "2025-10-01", &[KeyQuestion::StaffTeam]),
        ))
        .await;
    assert_code(wrong_question, Code::NotFound);
    assert_eq!(app.row_counts().await, before, "refusals write nothing");

    assert!(history(&app, &graded.id, &provider_itself).await.is_ok());
    assert_code(
        history(&app, &graded.id, &any_provider_token()).await,
        Code::PermissionDenied,
    );
}

#[tokio::test]
async fn a_withdrawal_without_a_reason_or_with_a_stale_version_is_refused() {
    let app = TestApp::spawn().await;
    let graded = graded_twice(&app).await;
    let before = app.row_counts().await;
    let no_reason = proto::WithdrawGradesRequest {
        reason: " ".into(),
        ..withdrawal(&graded.id, "2025-10-01", &[])
    };
    let message = assert_invalid(
        app.client()
            .withdraw_grades(bearer(&commissioning("aberdeenshire"), no_reason))
            .await,
        "reason",
    );
    assert!(message.contains("say why"), "{message}");
    let unknown_question = proto::WithdrawGradesRequest {
        key_questions: vec![99],
        ..withdrawal(&graded.id, "2025-10-01", &[])
    };
    assert_invalid(
        app.client()
            .withdraw_grades(bearer(&commissioning("aberdeenshire"), unknown_question))
            .await,
        "key_questions[0]",
    );
    let stale = proto::WithdrawGradesRequest {
        expected_version: Some(graded.version - 1),
        ..withdrawal(&graded.id, "2025-10-01", &[])
    };
    assert_code(
        app.client()
            .withdraw_grades(bearer(&commissioning("aberdeenshire"), stale))
            .await,
        Code::Aborted,
    );
    assert_eq!(app.row_counts().await, before);
}
