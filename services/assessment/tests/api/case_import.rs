//! ImportCaseRecords: the case system's rows become people with approved plans, recorded
//! as imported without any policy; the same rows again change and publish nothing; a
//! changed line makes a new version published as `plan.varied`; a bad row rejects only its
//! person; and only the authority's commissioning staff may import.

use prost::Message as _;
use sds_platform::Role;
use sds_proto::v1::{self as proto, Event, PlanStatus};
use sds_testkit::bearer;
use tonic::Code;

use crate::support::*;

const PROVIDER: &str = KNOWN_PROVIDER_NUMBER;
const HOLDER: &str = "0192f0c1-7d2e-7b3a-9c4d-5e6f70819203";

fn row(line: u32, case_reference: &str, option: &str, weekly: &str) -> proto::CaseRecordRow {
    proto::CaseRecordRow {
        source_line: line,
        case_reference: case_reference.into(),
        display_name: format!("Person {case_reference}"),
        date_of_birth: "1948-05-17".into(),
        locality: "Garioch".into(),
        client_groups: "elderly_frail;dementia".into(),
        eligibility: "substantial".into(),
        support_type: "personal_care".into(),
        option: option.into(),
        weekly_amount: weekly.into(),
        start_date: "2026-10-01".into(),
        end_date: String::new(),
        provider: String::new(),
        holding_model: String::new(),
        holder: String::new(),
    }
}

fn option_2(line: u32, case_reference: &str, weekly: &str) -> proto::CaseRecordRow {
    proto::CaseRecordRow {
        support_type: "day_support".into(),
        provider: PROVIDER.into(),
        holding_model: "third_party".into(),
        holder: HOLDER.into(),
        ..row(line, case_reference, "2", weekly)
    }
}

/// Two people: SW-1 with an option 1 and an option 2 line, SW-2 with an option 3 line.
fn two_people() -> Vec<proto::CaseRecordRow> {
    vec![
        row(2, "SW-1", "1", "120.00"),
        option_2(3, "SW-1", "80.50"),
        proto::CaseRecordRow {
            provider: PROVIDER.into(),
            ..row(4, "SW-2", "3", "300.00")
        },
    ]
}

async fn import(
    app: &TestApp,
    token: &str,
    rows: Vec<proto::CaseRecordRow>,
) -> Result<proto::ImportCaseRecordsResponse, tonic::Status> {
    app.client()
        .import_case_records(bearer(
            token,
            proto::ImportCaseRecordsRequest {
                authority: "fife".into(),
                rows,
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn imported(
    app: &TestApp,
    rows: Vec<proto::CaseRecordRow>,
) -> proto::ImportCaseRecordsResponse {
    import(app, &commissioning("fife"), rows)
        .await
        .expect("import")
}

async fn events(app: &TestApp) -> Vec<(String, Event)> {
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT subject, payload FROM outbox ORDER BY position")
            .fetch_all(&app.pool)
            .await
            .expect("read outbox");
    rows.into_iter()
        .map(|(subject, payload)| {
            (
                subject,
                Event::decode(payload.as_slice()).expect("an sds.v1.Event"),
            )
        })
        .collect()
}

async fn person_id(app: &TestApp, case_reference: &str) -> String {
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM person WHERE case_reference = $1")
        .bind(case_reference)
        .fetch_one(&app.pool)
        .await
        .expect("the person is recorded");
    id.to_string()
}

async fn plan(app: &TestApp, person_id: &str) -> proto::Plan {
    app.client()
        .get_plan(bearer(
            &practitioner("fife"),
            proto::GetPlanRequest {
                person_id: person_id.into(),
                version: 0,
            },
        ))
        .await
        .expect("get the plan")
        .into_inner()
}

fn counts(response: &proto::ImportCaseRecordsResponse) -> (u64, u64, u64, u64) {
    (
        response.people_imported,
        response.people_updated,
        response.people_unchanged,
        response.people_rejected,
    )
}

#[tokio::test]
async fn new_people_are_imported_with_plans_approved_as_imported_and_one_plan_approved_each() {
    // No policy is set: the import records the case system's decisions as they stand.
    let app = TestApp::spawn().await;

    let response = imported(&app, two_people()).await;

    assert_eq!(counts(&response), (2, 0, 0, 0));
    assert!(response.rejected.is_empty());
    let first = plan(&app, &person_id(&app, "SW-1").await).await;
    assert_eq!(first.version, 1);
    assert_eq!(first.status, PlanStatus::Approved as i32);
    assert_eq!(first.approved_as, "panel");
    assert_eq!(first.approved_on, date(TODAY));
    assert_eq!(first.effective_from, date("2026-10-01"));
    assert_eq!(first.option, 4, "an option 1 and an option 2 line");
    assert_eq!(first.lines.len(), 2);
    assert_eq!(
        first.lines[1].pending, "",
        "the option 2 choice is complete"
    );
    assert_eq!(first.weekly_cost, money("200.50"));
    let second = plan(&app, &person_id(&app, "SW-2").await).await;
    assert_eq!(second.option, 3);
    let events = events(&app).await;
    assert_eq!(events.len(), 2);
    for (subject, event) in &events {
        assert_eq!(subject, "sds.fife.plan.approved");
        assert_eq!(event.aggregate_version, 1);
        assert!(matches!(
            event.body,
            Some(proto::event::Body::PlanApproved(_))
        ));
    }
}

#[tokio::test]
async fn importing_the_same_rows_again_changes_nothing_and_publishes_nothing() {
    let app = TestApp::spawn().await;
    imported(&app, two_people()).await;
    let before = app.row_counts().await;
    let events_before = events(&app).await.len();

    let again = imported(&app, two_people()).await;

    assert_eq!(counts(&again), (0, 0, 2, 0));
    assert_eq!(
        app.row_counts().await,
        before,
        "not even the audit trail grows"
    );
    assert_eq!(events(&app).await.len(), events_before);
    assert_eq!(plan(&app, &person_id(&app, "SW-1").await).await.version, 1);
}

#[tokio::test]
async fn a_changed_line_makes_a_new_approved_version_published_as_plan_varied() {
    let app = TestApp::spawn().await;
    imported(&app, two_people()).await;
    let mut rows = two_people();
    rows[1].weekly_amount = "95.00".into();

    let response = imported(&app, rows).await;

    assert_eq!(counts(&response), (0, 1, 1, 0));
    let someone = person_id(&app, "SW-1").await;
    let varied = plan(&app, &someone).await;
    assert_eq!(varied.version, 2);
    assert_eq!(varied.previous_version, 1);
    assert_eq!(varied.status, PlanStatus::Approved as i32);
    assert_eq!(varied.weekly_cost, money("215.00"));
    let numbers: Vec<u32> = varied.lines.iter().map(|line| line.number).collect();
    assert_eq!(numbers, vec![1, 3], "the unchanged line keeps its number");
    let events = events(&app).await;
    assert_eq!(events.len(), 3);
    let (subject, event) = &events[2];
    assert_eq!(subject, "sds.fife.plan.varied");
    assert_eq!(event.aggregate_id, someone);
    assert_eq!(event.aggregate_version, 2);
}

#[tokio::test]
async fn a_bad_row_rejects_only_its_person_with_each_bad_row_and_the_others_import() {
    let app = TestApp::spawn().await;
    let mut rows = two_people();
    rows[1].holder = String::new();
    rows.push(proto::CaseRecordRow {
        weekly_amount: "12.345".into(),
        ..row(5, "SW-1", "1", "")
    });
    rows.push(proto::CaseRecordRow {
        end_date: "2026-09-30".into(),
        ..row(6, "SW-3", "1", "10.00")
    });
    rows.push(proto::CaseRecordRow {
        provider: String::new(),
        ..option_2(7, "SW-4", "10.00")
    });
    rows.push(row(8, "SW-5", "1", "0.00"));
    rows.push(proto::CaseRecordRow {
        eligibility: "severe".into(),
        ..row(9, "SW-6", "1", "10.00")
    });
    rows.push(proto::CaseRecordRow {
        start_date: "2026-02-30".into(),
        ..row(10, "SW-7", "1", "10.00")
    });
    rows.push(proto::CaseRecordRow {
        provider: "Acme Care".into(),
        ..row(11, "SW-8", "3", "10.00")
    });

    let response = imported(&app, rows).await;

    assert_eq!(counts(&response), (1, 0, 0, 7));
    let lines: Vec<u32> = response.rejected.iter().map(|bad| bad.line).collect();
    assert_eq!(
        lines,
        vec![3, 5, 6, 7, 8, 9, 10, 11],
        "the bad rows, not line 2"
    );
    let reasons: Vec<&str> = response
        .rejected
        .iter()
        .map(|bad| bad.reason.as_str())
        .collect();
    for (reason, field) in reasons.iter().zip([
        "holder",
        "weekly_amount",
        "end_date",
        "provider",
        "weekly_amount",
        "eligibility",
        "start_date",
        "provider",
    ]) {
        assert!(reason.starts_with(field), "{reason:?} names {field}");
    }
    let people: Vec<String> = sqlx::query_scalar("SELECT case_reference FROM person")
        .fetch_all(&app.pool)
        .await
        .expect("read people");
    assert_eq!(
        people,
        vec!["SW-2".to_owned()],
        "nothing of a rejected person"
    );
    assert_eq!(events(&app).await.len(), 1);
}

#[tokio::test]
async fn only_the_authoritys_commissioning_staff_may_import_and_a_refusal_writes_nothing() {
    let app = TestApp::spawn().await;

    for token in [
        practitioner("fife"),
        staff("fife", &[Role::Panel]),
        commissioning("angus"),
        provider_token(),
    ] {
        assert_code(
            import(&app, &token, two_people()).await,
            Code::PermissionDenied,
        );
    }
    let too_many = (0..5001)
        .map(|line| row(line + 2, "SW-1", "1", "1.00"))
        .collect();
    assert_code(
        import(&app, &commissioning("fife"), too_many).await,
        Code::InvalidArgument,
    );

    assert_eq!(app.row_counts().await.people, 0);
    assert!(events(&app).await.is_empty());
}

#[tokio::test]
async fn a_changed_name_alone_updates_the_person_without_a_new_plan_version_or_event() {
    let app = TestApp::spawn().await;
    imported(&app, two_people()).await;
    let mut rows = two_people();
    for row in rows.iter_mut().filter(|row| row.case_reference == "SW-1") {
        row.display_name = "Morag Innes".into();
    }

    let response = imported(&app, rows).await;

    assert_eq!(counts(&response), (0, 1, 1, 0));
    let someone = person_id(&app, "SW-1").await;
    assert_eq!(plan(&app, &someone).await.version, 1);
    assert_eq!(events(&app).await.len(), 2, "only the two first approvals");
    let actions: Vec<String> = app
        .audit_of(&someone)
        .await
        .into_iter()
        .map(|(_, action)| action)
        .collect();
    assert!(
        actions.contains(&"person.updated".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn rows_of_one_person_that_disagree_on_their_details_reject_that_person() {
    let app = TestApp::spawn().await;
    let mut rows = two_people();
    rows[1].date_of_birth = "1948-05-18".into();
    rows.push(proto::CaseRecordRow {
        locality: "Mearns".into(),
        ..row(5, "SW-1", "1", "5.00")
    });

    let response = imported(&app, rows).await;

    assert_eq!(counts(&response), (1, 0, 0, 1));
    assert_eq!(response.rejected.len(), 2, "every disagreeing row");
    assert_eq!(response.rejected[1].line, 5);
    assert!(response.rejected[1].reason.starts_with("locality differs"));
    assert_eq!(response.rejected[0].line, 3);
    assert!(
        response.rejected[0]
            .reason
            .starts_with("date_of_birth differs from line 2"),
        "{}",
        response.rejected[0].reason
    );
}

#[tokio::test]
async fn a_person_whose_plan_has_an_open_draft_is_rejected_on_their_first_line_and_keeps_it() {
    let app = TestApp::spawn().await;
    let someone = app.record_person("fife", person("SW-1")).await;
    app.client()
        .draft_plan(bearer(
            &practitioner("fife"),
            proto::DraftPlanRequest {
                person_id: someone.id.clone(),
                effective_from: date("2026-12-01"),
                lines: vec![proto::NewPlanLine {
                    support_type: proto::SupportType::PersonalCare as i32,
                    amount: Some(proto::LineAmount {
                        amount: Some(proto::line_amount::Amount::Weekly(
                            money("100.00").expect("money"),
                        )),
                    }),
                    arrangement: Some(proto::Arrangement {
                        arrangement: Some(proto::arrangement::Arrangement::DirectPayment(
                            proto::DirectPayment {},
                        )),
                    }),
                    start: date("2026-12-01"),
                    end: None,
                }],
            },
        ))
        .await
        .expect("draft a plan");

    let response = imported(&app, two_people()).await;

    assert_eq!(counts(&response), (1, 0, 0, 1));
    assert_eq!(response.rejected[0].line, 2);
    assert!(
        response.rejected[0].reason.contains("version 1 draft"),
        "{}",
        response.rejected[0].reason
    );
    let kept = plan(&app, &someone.id).await;
    assert_eq!(kept.status, PlanStatus::Draft as i32);
    let name: String =
        sqlx::query_scalar("SELECT display_name FROM person WHERE case_reference = 'SW-1'")
            .fetch_one(&app.pool)
            .await
            .expect("read the person");
    assert_eq!(
        name, "Morag Innes",
        "the rejected person's details are not written"
    );
}

/// The stored plan of a person, as comparable text: every column of its versions and lines
/// but the person's id and the timestamps.
async fn stored_plan(app: &TestApp, case_reference: &str) -> Vec<String> {
    let versions: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws('|', v.version, v.authority, v.effective_from, v.recorded_on, v.status, \
             v.submitted_on, v.approved_on, v.approved_as, v.approved_weekly, v.rejected_on, \
             v.rejection_reason, v.over_budget_reason, v.review_due, v.recorded_by, \
             v.updated_by, v.previous_version, v.ends_plan) \
         FROM plan_version v JOIN person p ON p.id = v.person_id \
         WHERE p.case_reference = $1 ORDER BY v.version",
    )
    .bind(case_reference)
    .fetch_all(&app.pool)
    .await
    .expect("read versions");
    let lines: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws('|', l.version, l.number, l.support_type, l.amount_kind, l.amount, \
             l.hours_per_week, l.hourly_rate, l.weekly, l.arrangement, l.provider, \
             l.holding_model, l.holder, l.start_date, l.end_date) \
         FROM plan_line l JOIN person p ON p.id = l.person_id \
         WHERE p.case_reference = $1 ORDER BY l.version, l.number",
    )
    .bind(case_reference)
    .fetch_all(&app.pool)
    .await
    .expect("read lines");
    versions.into_iter().chain(lines).collect()
}

#[tokio::test]
async fn a_new_person_is_written_as_a_person_recorded_before_the_import_is() {
    // New people are written set-based; someone already recorded goes through the
    // one-person path. Both must leave the same plan rows and the same event.
    let app = TestApp::spawn().await;
    let earlier = app.record_person("fife", person("SW-3")).await;
    let same_lines_for = |case_reference: &str, first_line: u32| {
        vec![
            row(first_line, case_reference, "1", "120.00"),
            option_2(first_line + 1, case_reference, "80.50"),
        ]
    };
    let rows = [same_lines_for("SW-1", 2), same_lines_for("SW-3", 4)].concat();

    let response = imported(&app, rows).await;

    assert_eq!(counts(&response), (1, 1, 0, 0));
    let fresh = stored_plan(&app, "SW-1").await;
    assert_eq!(fresh.len(), 3, "one version and two lines: {fresh:?}");
    assert_eq!(fresh, stored_plan(&app, "SW-3").await);
    let new_id = person_id(&app, "SW-1").await;
    let actions = |trail: Vec<(String, String)>| -> Vec<String> {
        trail.into_iter().map(|(_, action)| action).collect()
    };
    assert_eq!(
        actions(app.audit_of(&new_id).await),
        ["person.imported", "plan.imported"]
    );
    assert_eq!(
        actions(app.audit_of(&earlier.id).await)[1..],
        ["person.updated", "plan.imported"]
    );
    let plans: Vec<proto::Plan> = events(&app)
        .await
        .into_iter()
        .map(|(_, event)| match event.body {
            Some(proto::event::Body::PlanApproved(approved)) => approved.plan.expect("the plan"),
            other => panic!("expected plan.approved, got {other:?}"),
        })
        .collect();
    assert_eq!(plans.len(), 2);
    let (mut first, mut second) = (plans[0].clone(), plans[1].clone());
    first.person_id.clear();
    second.person_id.clear();
    assert_eq!(first, second);
}

#[tokio::test]
async fn two_imports_of_the_same_new_people_at_once_record_each_person_and_plan_once() {
    let app = TestApp::spawn().await;
    let rows: Vec<proto::CaseRecordRow> = (0..40)
        .map(|index| option_2(index + 2, &format!("SW-{index}"), "80.50"))
        .collect();

    let (one, other) = tokio::join!(imported(&app, rows.clone()), imported(&app, rows));

    assert_eq!(one.people_imported + other.people_imported, 40);
    assert_eq!(one.people_unchanged + other.people_unchanged, 40);
    assert_eq!(one.people_rejected + other.people_rejected, 0);
    assert_eq!(app.row_counts().await.people, 40);
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM plan_version")
        .fetch_one(&app.pool)
        .await
        .expect("count versions");
    assert_eq!(versions, 40);
    assert_eq!(events(&app).await.len(), 40, "one plan.approved each");
}

#[tokio::test]
async fn a_row_naming_a_provider_the_directory_has_not_published_rejects_its_person() {
    let app = TestApp::spawn().await;
    let mut rows = two_people();
    rows.push(proto::CaseRecordRow {
        provider: "CS2099000002".into(),
        ..option_2(5, "SW-9", "60.00")
    });

    let response = imported(&app, rows).await;

    assert_eq!(counts(&response), (2, 0, 0, 1));
    assert_eq!(response.rejected.len(), 1);
    assert_eq!(response.rejected[0].line, 5);
    assert!(
        response.rejected[0]
            .reason
            .starts_with("provider \"CS2099000002\" is not in the provider directory"),
        "{}",
        response.rejected[0].reason
    );
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT provider FROM plan_line WHERE provider IS NOT NULL")
            .fetch_all(&app.pool)
            .await
            .expect("read lines");
    assert_eq!(
        stored,
        [KNOWN_PROVIDER_ID, KNOWN_PROVIDER_ID],
        "the Care Inspectorate number is stored as the directory id it resolves to"
    );
}

#[tokio::test]
async fn an_amount_beyond_what_a_line_may_cost_rejects_only_its_person() {
    let app = TestApp::spawn().await;
    let mut rows = two_people();
    rows.push(row(5, "SW-9", "1", "999999999999.99"));

    let response = imported(&app, rows).await;

    assert_eq!(counts(&response), (2, 0, 0, 1));
    assert_eq!(response.rejected[0].line, 5);
    assert!(
        response.rejected[0]
            .reason
            .starts_with("weekly_amount is 999999999999.99, more than 100000.00 a week"),
        "{}",
        response.rejected[0].reason
    );
}

#[tokio::test]
async fn a_person_with_more_rows_than_a_plan_has_lines_is_rejected_on_their_first_line() {
    let app = TestApp::spawn().await;
    let mut rows = two_people();
    rows.extend((0..101).map(|index| row(10 + index, "SW-9", "1", "1.00")));

    let response = imported(&app, rows).await;

    assert_eq!(counts(&response), (2, 0, 0, 1));
    assert_eq!(response.rejected.len(), 1);
    assert_eq!(response.rejected[0].line, 10);
    assert_eq!(
        response.rejected[0].reason,
        "case_reference SW-9 has 101 rows; a plan has at most 100 lines"
    );
}
