//! VaryPlan and RecordProviderChoice: backdated variations within the policy's window,
//! ending a plan, and the person's choice of provider on an option 2 line, each published
//! once with the right version.

use prost::Message as _;
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

pub(crate) fn line(
    amount: &str,
    arrangement: proto::arrangement::Arrangement,
    start: &str,
) -> proto::NewPlanLine {
    proto::NewPlanLine {
        support_type: SupportType::PersonalCare as i32,
        amount: weekly(amount),
        arrangement: Some(proto::Arrangement {
            arrangement: Some(arrangement),
        }),
        start: date(start),
        end: None,
    }
}

pub(crate) fn option_2_pending() -> proto::arrangement::Arrangement {
    proto::arrangement::Arrangement::PersonDirected(proto::PersonDirected::default())
}

pub(crate) fn option_3() -> proto::arrangement::Arrangement {
    proto::arrangement::Arrangement::AuthorityArranged(proto::AuthorityArranged::default())
}

/// A person whose first plan (option 2 pending at 210.00 and option 3 at 90.00 a week,
/// from 2026-10-01) is approved.
pub(crate) async fn approved_plan(app: &TestApp) -> proto::Plan {
    app.set_policy(policy("fife", "2026-04-01")).await;
    let someone = app.record_person("fife", person("SW-8001")).await;
    let staff = practitioner("fife");
    let mut client = app.client();
    client
        .set_indicative_budget(bearer(
            &staff,
            proto::SetIndicativeBudgetRequest {
                person_id: someone.id.clone(),
                method: Some(proto::set_indicative_budget_request::Method::ByHand(
                    proto::BudgetByHand {
                        weekly: money("350.00"),
                        reason: "agreed".into(),
                    },
                )),
                set_on: None,
            },
        ))
        .await
        .unwrap();
    client
        .draft_plan(bearer(
            &staff,
            proto::DraftPlanRequest {
                person_id: someone.id.clone(),
                effective_from: date("2026-10-01"),
                lines: vec![
                    line("210.00", option_2_pending(), "2026-10-01"),
                    line("90.00", option_3(), "2026-10-01"),
                ],
            },
        ))
        .await
        .unwrap();
    submit_and_approve(app, &someone.id, 1).await
}

async fn submit_and_approve(app: &TestApp, person_id: &str, version: u32) -> proto::Plan {
    let mut client = app.client();
    client
        .submit_plan(bearer(
            &practitioner("fife"),
            proto::SubmitPlanRequest {
                person_id: person_id.to_owned(),
                version,
                over_budget_reason: "needed".into(),
            },
        ))
        .await
        .expect("submit");
    client
        .approve_plan(bearer(
            &staff("fife", &[sds_platform::Role::TeamManager]),
            proto::ApprovePlanRequest {
                person_id: person_id.to_owned(),
                version,
            },
        ))
        .await
        .expect("approve")
        .into_inner()
}

async fn vary(
    app: &TestApp,
    request: proto::VaryPlanRequest,
) -> Result<proto::Plan, tonic::Status> {
    app.client()
        .vary_plan(bearer(&practitioner("fife"), request))
        .await
        .map(tonic::Response::into_inner)
}

pub(crate) async fn events(app: &TestApp) -> Vec<(String, Event)> {
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT event_type, payload FROM outbox ORDER BY position")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(kind, payload)| (kind, Event::decode(payload.as_slice()).unwrap()))
        .collect()
}

fn change_amount(number: u32, amount: &str) -> proto::LineChange {
    proto::LineChange {
        kind: Some(proto::line_change::Kind::Change(proto::LineChangeUpdate {
            number,
            amount: weekly(amount),
            ..proto::LineChangeUpdate::default()
        })),
    }
}

#[tokio::test]
async fn a_backdated_variation_is_approved_and_published_with_the_complete_line_set() {
    let app = TestApp::spawn().await;
    let first = approved_plan(&app).await;

    let drafted = vary(
        &app,
        proto::VaryPlanRequest {
            person_id: first.person_id.clone(),
            version: 1,
            effective_from: date("2026-11-01"),
            changes: vec![change_amount(1, "280.00")],
            end_plan: false,
        },
    )
    .await
    .expect("a variation within the 90-day window");
    assert_eq!(
        (drafted.version, drafted.status, drafted.previous_version),
        (2, PlanStatus::Draft as i32, 1)
    );
    assert_eq!(drafted.recorded_on.as_ref().unwrap().iso, TODAY);
    let varied = submit_and_approve(&app, &first.person_id, 2).await;

    let spans: Vec<(u32, String, String, Option<String>)> = varied
        .lines
        .iter()
        .map(|line| {
            (
                line.number,
                line.weekly.clone(),
                line.start.as_ref().unwrap().iso.clone(),
                line.end.as_ref().map(|end| end.iso.clone()),
            )
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            (
                1,
                "210.0000".into(),
                "2026-10-01".into(),
                Some("2026-10-31".into())
            ),
            (2, "90.0000".into(), "2026-10-01".into(), None),
            (3, "280.0000".into(), "2026-11-01".into(), None),
        ]
    );
    let published = events(&app).await;
    let kinds: Vec<(&str, u64)> = published
        .iter()
        .map(|(kind, event)| (kind.as_str(), event.aggregate_version))
        .collect();
    assert_eq!(kinds, vec![("plan.approved", 1), ("plan.varied", 2)]);
    match &published[1].1.body {
        Some(proto::event::Body::PlanVaried(body)) => {
            let plan = body.plan.as_ref().unwrap();
            assert_eq!(plan.previous_version, 1);
            assert_eq!(plan.effective_from.as_ref().unwrap().iso, "2026-11-01");
            assert_eq!(plan, &varied);
        }
        other => panic!("unexpected {other:?}"),
    }
    let original = app
        .client()
        .get_plan(bearer(
            &practitioner("fife"),
            proto::GetPlanRequest {
                person_id: first.person_id.clone(),
                version: 1,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        original.lines, first.lines,
        "an approved version never changes"
    );
}

#[tokio::test]
async fn a_variation_dated_before_the_window_is_refused_naming_the_earliest_date() {
    let app = TestApp::spawn().await;
    let first = approved_plan(&app).await;
    let before = app.row_counts().await;

    let refused = vary(
        &app,
        proto::VaryPlanRequest {
            person_id: first.person_id.clone(),
            version: 1,
            effective_from: date("2026-08-01"),
            changes: vec![change_amount(1, "280.00")],
            end_plan: false,
        },
    )
    .await;

    let message = assert_code(refused, Code::FailedPrecondition);
    assert!(
        message.contains("from 2026-08-30 at the earliest"),
        "{message}"
    );
    assert!(message.contains("90 days"), "{message}");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn ending_a_plan_ends_every_line_and_publishes_plan_ended() {
    let app = TestApp::spawn().await;
    let first = approved_plan(&app).await;

    let drafted = vary(
        &app,
        proto::VaryPlanRequest {
            person_id: first.person_id.clone(),
            version: 1,
            effective_from: date("2026-12-01"),
            changes: vec![],
            end_plan: true,
        },
    )
    .await
    .expect("end");
    assert!(drafted.ends_plan);
    let ended = submit_and_approve(&app, &first.person_id, 2).await;

    assert!(
        ended
            .lines
            .iter()
            .all(|line| line.end.as_ref().unwrap().iso == "2026-11-30")
    );
    let published = events(&app).await;
    assert_eq!(published.last().unwrap().0, "plan.ended");
}

#[tokio::test]
async fn the_persons_choice_of_provider_is_a_new_approved_version_published_once() {
    let app = TestApp::spawn().await;
    let first = approved_plan(&app).await;
    assert!(first.lines[0].pending.contains("choice pending"));
    let choose = |provider: &str, model: proto::FundHoldingModel, line_number: u32| {
        proto::RecordProviderChoiceRequest {
            person_id: first.person_id.clone(),
            version: 1,
            line_number,
            provider: provider.to_owned(),
            holding_model: model as i32,
            holder: String::new(),
        }
    };

    let chosen = app
        .client()
        .record_provider_choice(bearer(
            &practitioner("fife"),
            choose(KNOWN_PROVIDER_NUMBER, proto::FundHoldingModel::Provider, 1),
        ))
        .await
        .expect("choice")
        .into_inner();
    assert_eq!(
        (chosen.version, chosen.status, chosen.previous_version),
        (2, PlanStatus::Approved as i32, 1)
    );
    assert_eq!(chosen.lines[0].pending, "", "nothing missing now");
    assert_eq!(
        chosen.approved_as, first.approved_as,
        "carries the approval"
    );

    let retried = app
        .client()
        .record_provider_choice(bearer(
            &practitioner("fife"),
            proto::RecordProviderChoiceRequest {
                version: 2,
                ..choose(KNOWN_PROVIDER_NUMBER, proto::FundHoldingModel::Provider, 1)
            },
        ))
        .await
        .expect("a retry")
        .into_inner();
    assert_eq!(retried, chosen);
    let published = events(&app).await;
    let kinds: Vec<&str> = published.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["plan.approved", "plan.provider_chosen"]);
    match &published[1].1.body {
        Some(proto::event::Body::PlanProviderChosen(body)) => assert_eq!(body.line_number, 1),
        other => panic!("unexpected {other:?}"),
    }

    let on_option_3 = app
        .client()
        .record_provider_choice(bearer(
            &practitioner("fife"),
            proto::RecordProviderChoiceRequest {
                version: 2,
                ..choose(KNOWN_PROVIDER_NUMBER, proto::FundHoldingModel::Provider, 2)
            },
        ))
        .await;
    let message = assert_invalid(on_option_3, "line_number");
    assert!(message.contains("option 3"), "{message}");
    let bad_provider = app
        .client()
        .record_provider_choice(bearer(
            &practitioner("fife"),
            proto::RecordProviderChoiceRequest {
                version: 2,
                ..choose("Bay Care", proto::FundHoldingModel::Provider, 1)
            },
        ))
        .await;
    assert_invalid(bad_provider, "provider");
    let third_party_unnamed = app
        .client()
        .record_provider_choice(bearer(
            &practitioner("fife"),
            proto::RecordProviderChoiceRequest {
                version: 2,
                ..choose(
                    KNOWN_PROVIDER_NUMBER,
                    proto::FundHoldingModel::ThirdParty,
                    1,
                )
            },
        ))
        .await;
    assert_invalid(third_party_unnamed, "holder");
}

#[tokio::test]
async fn a_variation_needs_the_latest_approved_version_and_no_open_draft() {
    let app = TestApp::spawn().await;
    let first = approved_plan(&app).await;
    let request = |version: u32| proto::VaryPlanRequest {
        person_id: first.person_id.clone(),
        version,
        effective_from: date("2026-12-01"),
        changes: vec![change_amount(2, "95.00")],
        end_plan: false,
    };
    assert_code(vary(&app, request(7)).await, Code::FailedPrecondition);
    let both = proto::VaryPlanRequest {
        end_plan: true,
        ..request(1)
    };
    assert_invalid(vary(&app, both).await, "changes");
    vary(&app, request(1)).await.expect("first variation");
    let message = assert_code(vary(&app, request(1)).await, Code::FailedPrecondition);
    assert!(message.contains("before varying the plan"), "{message}");
}
