//! Budgets and support plans: set the indicative budget, draft, submit (a reason when over
//! budget), approve within devolved limits or be told who can, reject and draft again; the
//! approval publishes `plan.approved` through the outbox.

use prost::Message as _;
use sds_platform::Role;
use sds_proto::v1::{self as proto, Event, PlanStatus, SupportType};
use sds_testkit::bearer;
use tonic::Code;

use crate::support::*;

fn weekly(amount: &str) -> Option<proto::LineAmount> {
    Some(proto::LineAmount {
        amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
            amount: amount.to_owned(),
        })),
    })
}

fn line(
    amount: Option<proto::LineAmount>,
    arrangement: proto::arrangement::Arrangement,
) -> proto::NewPlanLine {
    proto::NewPlanLine {
        support_type: SupportType::PersonalCare as i32,
        amount,
        arrangement: Some(proto::Arrangement {
            arrangement: Some(arrangement),
        }),
        start: date("2026-12-01"),
        end: None,
    }
}

fn option_2_pending() -> proto::arrangement::Arrangement {
    proto::arrangement::Arrangement::PersonDirected(proto::PersonDirected::default())
}

fn option_3() -> proto::arrangement::Arrangement {
    proto::arrangement::Arrangement::AuthorityArranged(proto::AuthorityArranged::default())
}

/// An adult in fife (with fife's example policy) and their budget set by hand.
async fn person_with_budget(app: &TestApp, budget: &str, born: &str) -> proto::Person {
    app.set_policy(policy("fife", "2026-04-01")).await;
    let someone = app
        .record_person(
            "fife",
            proto::PersonDetails {
                date_of_birth: date(born),
                ..person("SW-7001")
            },
        )
        .await;
    app.client()
        .set_indicative_budget(bearer(
            &practitioner("fife"),
            proto::SetIndicativeBudgetRequest {
                person_id: someone.id.clone(),
                method: Some(proto::set_indicative_budget_request::Method::ByHand(
                    proto::BudgetByHand {
                        weekly: money(budget),
                        reason: "agreed at the planning meeting".into(),
                    },
                )),
                set_on: None,
            },
        ))
        .await
        .expect("budget");
    someone
}

async fn draft(
    app: &TestApp,
    person_id: &str,
    lines: Vec<proto::NewPlanLine>,
) -> Result<proto::Plan, tonic::Status> {
    app.client()
        .draft_plan(bearer(
            &practitioner("fife"),
            proto::DraftPlanRequest {
                person_id: person_id.to_owned(),
                effective_from: date("2026-12-01"),
                lines,
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn submit(
    app: &TestApp,
    person_id: &str,
    version: u32,
    reason: &str,
) -> Result<proto::Plan, tonic::Status> {
    app.client()
        .submit_plan(bearer(
            &practitioner("fife"),
            proto::SubmitPlanRequest {
                person_id: person_id.to_owned(),
                version,
                over_budget_reason: reason.to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn approve(
    app: &TestApp,
    token: &str,
    person_id: &str,
    version: u32,
) -> Result<proto::Plan, tonic::Status> {
    app.client()
        .approve_plan(bearer(
            token,
            proto::ApprovePlanRequest {
                person_id: person_id.to_owned(),
                version,
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn plan_events(app: &TestApp) -> Vec<(String, Event)> {
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

#[tokio::test]
async fn a_plan_within_budget_is_drafted_submitted_and_approved_by_a_practitioner() {
    let app = TestApp::spawn().await;
    let someone = person_with_budget(&app, "400.00", "1950-02-03").await;

    let drafted = draft(
        &app,
        &someone.id,
        vec![
            line(weekly("210.00"), option_2_pending()),
            line(weekly("90.00"), option_3()),
        ],
    )
    .await
    .expect("draft");
    assert_eq!(
        (drafted.version, drafted.status),
        (1, PlanStatus::Draft as i32)
    );
    assert_eq!(
        drafted.option, 4,
        "option 2 and option 3 lines make option 4"
    );
    assert_eq!(drafted.lines[0].option, 2);
    assert!(
        drafted.lines[0]
            .pending
            .contains("option 2, choice pending"),
        "{}",
        drafted.lines[0].pending
    );
    assert_eq!(drafted.lines[1].pending, "");
    assert_eq!(drafted.weekly_cost.as_ref().unwrap().amount, "300.00");

    let submitted = submit(&app, &someone.id, 1, "").await.expect("submit");
    assert_eq!(submitted.status, PlanStatus::Submitted as i32);
    assert!(
        plan_events(&app).await.is_empty(),
        "nothing is published before approval"
    );

    let approved = approve(&app, &practitioner("fife"), &someone.id, 1)
        .await
        .expect("approve");
    assert_eq!(approved.status, PlanStatus::Approved as i32);
    assert_eq!(approved.approved_as, "practitioner");
    assert_eq!(approved.approved_on.as_ref().unwrap().iso, TODAY);
    assert_eq!(
        approved.review_due.as_ref().unwrap().iso,
        "2027-11-28",
        "12 months on"
    );

    let events = plan_events(&app).await;
    assert_eq!(events.len(), 1, "one plan.approved");
    let (subject, event) = &events[0];
    assert_eq!(subject, "sds.fife.plan.approved");
    assert_eq!(event.aggregate_id, someone.id);
    assert_eq!(event.aggregate_version, 1);
    match &event.body {
        Some(proto::event::Body::PlanApproved(body)) => {
            assert_eq!(body.plan.as_ref(), Some(&approved));
        }
        other => panic!("unexpected body {other:?}"),
    }
    let got = app
        .client()
        .get_plan(bearer(
            &practitioner("fife"),
            proto::GetPlanRequest {
                person_id: someone.id.clone(),
                version: 0,
            },
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got, approved);
    let actions: Vec<String> = app
        .audit_of(&someone.id)
        .await
        .into_iter()
        .map(|(_, action)| action)
        .collect();
    assert_eq!(
        actions,
        [
            "person.created",
            "budget.set",
            "plan.drafted",
            "plan.submitted",
            "plan.approved",
            "plan.read"
        ]
    );
}

#[tokio::test]
async fn a_plan_over_budget_needs_a_reason_and_shows_the_difference() {
    let app = TestApp::spawn().await;
    let someone = person_with_budget(&app, "250.00", "1950-02-03").await;
    draft(&app, &someone.id, vec![line(weekly("300.00"), option_3())])
        .await
        .unwrap();

    let message = assert_invalid(
        submit(&app, &someone.id, 1, " ").await,
        "over_budget_reason",
    );
    assert!(
        message.contains("50.00 over the indicative budget of 250.00"),
        "{message}"
    );

    let submitted = submit(&app, &someone.id, 1, "two carers needed for transfers")
        .await
        .expect("with a reason");
    assert_eq!(submitted.over_budget_by.as_ref().unwrap().amount, "50.00");
    assert_eq!(
        submitted.over_budget_reason,
        "two carers needed for transfers"
    );
}

#[tokio::test]
async fn approval_above_a_practitioners_limit_names_who_can_approve() {
    let app = TestApp::spawn().await;
    let someone = person_with_budget(&app, "500.00", "1950-02-03").await;
    draft(&app, &someone.id, vec![line(weekly("400.00"), option_3())])
        .await
        .unwrap();
    submit(&app, &someone.id, 1, "").await.unwrap();
    let before = app.row_counts().await;

    let refused = approve(&app, &practitioner("fife"), &someone.id, 1).await;
    let message = assert_code(refused, Code::PermissionDenied);
    assert!(
        message.contains("above your practitioner limit of 375.00 a week for adults"),
        "{message}"
    );
    assert!(message.contains("team manager"), "{message}");
    assert_eq!(app.row_counts().await, before);
    assert!(plan_events(&app).await.is_empty());

    let manager = staff("fife", &[Role::TeamManager]);
    let approved = approve(&app, &manager, &someone.id, 1)
        .await
        .expect("a team manager approves");
    assert_eq!(approved.approved_as, "team-manager");
}

#[tokio::test]
async fn childrens_limits_apply_to_someone_under_eighteen_on_the_effective_date() {
    let app = TestApp::spawn().await;
    let someone = person_with_budget(&app, "400.00", "2010-05-01").await;
    draft(&app, &someone.id, vec![line(weekly("300.00"), option_3())])
        .await
        .unwrap();
    submit(&app, &someone.id, 1, "").await.unwrap();

    let message = assert_code(
        approve(&app, &practitioner("fife"), &someone.id, 1).await,
        Code::PermissionDenied,
    );
    assert!(
        message.contains("limit of 275.00 a week for children"),
        "{message}"
    );
}

#[tokio::test]
async fn a_rejected_plan_is_drafted_again_as_the_next_version() {
    let app = TestApp::spawn().await;
    let someone = person_with_budget(&app, "400.00", "1950-02-03").await;
    draft(&app, &someone.id, vec![line(weekly("100.00"), option_3())])
        .await
        .unwrap();
    submit(&app, &someone.id, 1, "").await.unwrap();

    let rejected = app
        .client()
        .reject_plan(bearer(
            &staff("fife", &[Role::TeamManager]),
            proto::RejectPlanRequest {
                person_id: someone.id.clone(),
                version: 1,
                reason: "explore community options first".into(),
            },
        ))
        .await
        .expect("reject")
        .into_inner();
    assert_eq!(rejected.status, PlanStatus::Rejected as i32);
    assert_eq!(rejected.rejection_reason, "explore community options first");

    let again = draft(&app, &someone.id, vec![line(weekly("80.00"), option_3())])
        .await
        .expect("draft again");
    assert_eq!((again.version, again.status), (2, PlanStatus::Draft as i32));
    let first = app
        .client()
        .get_plan(bearer(
            &practitioner("fife"),
            proto::GetPlanRequest {
                person_id: someone.id.clone(),
                version: 1,
            },
        ))
        .await
        .expect("the rejected version stays")
        .into_inner();
    assert_eq!(first.status, PlanStatus::Rejected as i32);
}

#[tokio::test]
async fn annual_and_hourly_amounts_are_shown_a_week_exactly() {
    let app = TestApp::spawn().await;
    let someone = person_with_budget(&app, "400.00", "1950-02-03").await;
    let annual = Some(proto::LineAmount {
        amount: Some(proto::line_amount::Amount::Annual(proto::Money {
            amount: "10000.00".into(),
        })),
    });
    let hours = Some(proto::LineAmount {
        amount: Some(proto::line_amount::Amount::HoursAtRate(
            proto::HoursAtRate {
                hours_per_week: "7.5".into(),
                hourly_rate: money("23.33"),
            },
        )),
    });

    let drafted = draft(
        &app,
        &someone.id,
        vec![line(annual, option_3()), line(hours, option_3())],
    )
    .await
    .expect("draft");

    assert_eq!(drafted.lines[0].weekly, "192.3077", "10000.00 / 52");
    assert_eq!(drafted.lines[1].weekly, "174.9750", "7.5 x 23.33");
}

#[tokio::test]
async fn bad_lines_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let someone = person_with_budget(&app, "400.00", "1950-02-03").await;
    let before = app.row_counts().await;
    let third_party_without_holder =
        proto::arrangement::Arrangement::PersonDirected(proto::PersonDirected {
            provider: KNOWN_PROVIDER_NUMBER.into(),
            holding_model: proto::FundHoldingModel::ThirdParty as i32,
            holder: "".into(),
        });
    let cases: Vec<(proto::NewPlanLine, &str)> = vec![
        (line(weekly("0.00"), option_3()), "lines[0].amount.weekly"),
        (line(weekly("10.005"), option_3()), "lines[0].amount.weekly"),
        (line(weekly("-5.00"), option_3()), "lines[0].amount.weekly"),
        // Beyond what one line may cost a week (and what its column holds).
        (
            line(weekly("99999999999.99"), option_3()),
            "lines[0].amount.weekly",
        ),
        (line(None, option_3()), "lines[0].amount"),
        (
            proto::NewPlanLine {
                support_type: 0,
                ..line(weekly("10.00"), option_3())
            },
            "lines[0].support_type",
        ),
        (
            proto::NewPlanLine {
                arrangement: None,
                ..line(weekly("10.00"), option_3())
            },
            "lines[0].arrangement",
        ),
        (
            line(weekly("10.00"), third_party_without_holder),
            "lines[0].arrangement.person_directed.holder",
        ),
        (
            line(
                weekly("10.00"),
                proto::arrangement::Arrangement::PersonDirected(proto::PersonDirected {
                    provider: "Bay Care".into(),
                    ..proto::PersonDirected::default()
                }),
            ),
            "lines[0].arrangement.person_directed.provider",
        ),
        (
            proto::NewPlanLine {
                end: date("2026-11-01"),
                ..line(weekly("10.00"), option_3())
            },
            "lines[0]",
        ),
        (
            proto::NewPlanLine {
                start: date("2026-13-01"),
                ..line(weekly("10.00"), option_3())
            },
            "lines[0].start",
        ),
    ];
    for (bad, field) in cases {
        let result = draft(&app, &someone.id, vec![bad]).await;
        let message = assert_code(result, Code::InvalidArgument);
        assert!(message.starts_with(field), "expected {field}: {message}");
    }
    assert_invalid(draft(&app, &someone.id, vec![]).await, "lines");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn submitting_needs_a_budget_and_the_latest_version() {
    let app = TestApp::spawn().await;
    app.set_policy(policy("fife", "2026-04-01")).await;
    let someone = app.record_person("fife", person("SW-7100")).await;
    draft(&app, &someone.id, vec![line(weekly("50.00"), option_3())])
        .await
        .unwrap();

    let message = assert_code(
        submit(&app, &someone.id, 1, "").await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("no indicative budget"), "{message}");
    assert_code(
        submit(&app, &someone.id, 2, "").await,
        Code::FailedPrecondition,
    );
    let nobody = uuid::Uuid::now_v7().to_string();
    assert_code(submit(&app, &nobody, 1, "").await, Code::NotFound);
}
