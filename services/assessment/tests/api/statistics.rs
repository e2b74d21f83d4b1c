//! Uptake statistics and the PHS return over gRPC, on a fixture built only through the
//! real calls (RecordPerson, SetPolicy, SetIndicativeBudget, DraftPlan, SubmitPlan,
//! RejectPlan, ApprovePlan) and checked against figures worked out by hand.
//!
//! What must stay true: only approved lines of the latest approved version count; people
//! are counted once however many groups they have; other authorities' people never appear;
//! the two CSV files carry PHS's field names and the episodes' own dates; only the
//! authority's commissioning staff get either, and a refusal writes nothing.

use sds_platform::Role;
use sds_proto::v1::{self as proto, ClientGroup, SupportType};
use sds_testkit::bearer;
use tonic::Code;

use crate::support::*;

const D: ClientGroup = ClientGroup::Dementia;
const L: ClientGroup = ClientGroup::LearningDisability;
const C: ClientGroup = ClientGroup::Carer;

/// A line of option 1, 2 or 3 at 100.00 a week from `start` to `end` (open when `None`).
fn line(option: u8, start: &str, end: Option<&str>) -> proto::NewPlanLine {
    use proto::arrangement::Arrangement;
    let arrangement = match option {
        1 => Arrangement::DirectPayment(proto::DirectPayment {}),
        // The person has not chosen yet: still option 2 ("choice pending").
        2 => Arrangement::PersonDirected(proto::PersonDirected::default()),
        _ => Arrangement::AuthorityArranged(proto::AuthorityArranged::default()),
    };
    proto::NewPlanLine {
        support_type: SupportType::SocialSupport as i32,
        amount: Some(proto::LineAmount {
            amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                amount: "100.00".into(),
            })),
        }),
        arrangement: Some(proto::Arrangement {
            arrangement: Some(arrangement),
        }),
        start: date(start),
        end: end.and_then(date),
    }
}

/// An open line from the start of the financial year.
fn open(option: u8) -> proto::NewPlanLine {
    line(option, "2026-04-01", None)
}

/// How far a person's plan gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Drafted,
    Approved,
}

/// Records `SW-nn` in `authority` with a budget of 400.00 and takes a plan of `lines` from
/// 2026-04-01 to `stage`; returns the person's id.
async fn supported(
    app: &TestApp,
    authority: &str,
    number: u32,
    locality: &str,
    groups: &[ClientGroup],
    lines: Vec<proto::NewPlanLine>,
    stage: Stage,
) -> String {
    let person = app
        .record_person(
            authority,
            proto::PersonDetails {
                case_reference: format!("SW-{number:02}"),
                locality: locality.to_owned(),
                client_groups: groups.iter().map(|group| *group as i32).collect(),
                ..person("unused")
            },
        )
        .await;
    let token = practitioner(authority);
    let mut client = app.client();
    client
        .set_indicative_budget(bearer(
            &token,
            proto::SetIndicativeBudgetRequest {
                person_id: person.id.clone(),
                method: Some(proto::set_indicative_budget_request::Method::ByHand(
                    proto::BudgetByHand {
                        weekly: money("400.00"),
                        reason: "agreed at the planning meeting".into(),
                    },
                )),
                set_on: date("2026-04-01"),
            },
        ))
        .await
        .expect("budget");
    let drafted = draft(app, authority, &person.id, lines).await;
    if stage == Stage::Approved {
        submit_and_approve(app, authority, &person.id, drafted.version).await;
    }
    person.id
}

async fn draft(
    app: &TestApp,
    authority: &str,
    person_id: &str,
    lines: Vec<proto::NewPlanLine>,
) -> proto::Plan {
    app.client()
        .draft_plan(bearer(
            &practitioner(authority),
            proto::DraftPlanRequest {
                person_id: person_id.to_owned(),
                effective_from: date("2026-04-01"),
                lines,
            },
        ))
        .await
        .expect("draft")
        .into_inner()
}

async fn submit(app: &TestApp, authority: &str, person_id: &str, version: u32) {
    app.client()
        .submit_plan(bearer(
            &practitioner(authority),
            proto::SubmitPlanRequest {
                person_id: person_id.to_owned(),
                version,
                over_budget_reason: String::new(),
            },
        ))
        .await
        .expect("submit");
}

async fn submit_and_approve(app: &TestApp, authority: &str, person_id: &str, version: u32) {
    submit(app, authority, person_id, version).await;
    let approved = app
        .client()
        .approve_plan(bearer(
            &practitioner(authority),
            proto::ApprovePlanRequest {
                person_id: person_id.to_owned(),
                version,
            },
        ))
        .await
        .expect("approve")
        .into_inner();
    assert_eq!(approved.status, proto::PlanStatus::Approved as i32);
}

/// Case reference number, locality, client groups, lines and how far the plan gets.
type FixturePerson = (
    u32,
    &'static str,
    Vec<ClientGroup>,
    Vec<proto::NewPlanLine>,
    Stage,
);

/// The fixture, worked out by hand. On 2026-10-01 twenty people of fife count: options
/// 1/2/3/4 = 5/8/4/3. SW-10 ended on 30 September, SW-11 starts on 31 December, SW-25 on
/// 1 January, SW-21's plan is only drafted, and angus's approved SW-24 is another
/// authority's. SW-26's first plan (option 3) was rejected; their approved second one is
/// option 1.
async fn fixture(app: &TestApp) {
    use Stage::{Approved, Drafted};
    app.set_policy(policy("fife", "2026-04-01")).await;
    app.set_policy(policy("angus", "2026-04-01")).await;
    let north = "North";
    let south = "South";
    let people: Vec<FixturePerson> = vec![
        (1, north, vec![D], vec![open(2)], Approved),
        (2, north, vec![D], vec![open(2)], Approved),
        (3, north, vec![L], vec![open(2)], Approved),
        (4, north, vec![D, L], vec![open(2)], Approved),
        (5, north, vec![C], vec![open(1)], Approved),
        (6, north, vec![L], vec![open(1)], Approved),
        (7, north, vec![D], vec![open(3)], Approved),
        (8, north, vec![D], vec![open(3), open(3)], Approved),
        (9, north, vec![L, C], vec![open(1), open(2)], Approved),
        (
            10,
            north,
            vec![D],
            vec![line(2, "2026-04-01", Some("2026-09-30"))],
            Approved,
        ),
        (
            11,
            north,
            vec![C],
            vec![line(2, "2026-12-31", None)],
            Approved,
        ),
        (
            12,
            north,
            vec![L],
            vec![open(2), line(3, "2026-04-01", Some("2026-09-30"))],
            Approved,
        ),
        (13, south, vec![D], vec![open(2)], Approved),
        (14, south, vec![L], vec![open(2)], Approved),
        (15, south, vec![C], vec![open(2)], Approved),
        (16, south, vec![D, C], vec![open(3)], Approved),
        (17, south, vec![L], vec![open(3)], Approved),
        (18, south, vec![L], vec![open(1)], Approved),
        (19, south, vec![D], vec![open(2), open(3)], Approved),
        (
            20,
            south,
            vec![C],
            vec![open(1), line(3, "2026-10-01", Some("2026-10-01"))],
            Approved,
        ),
        (21, south, vec![D], vec![open(2)], Drafted),
        (22, south, vec![L, D, C], vec![open(1)], Approved),
        (
            25,
            north,
            vec![L],
            vec![line(1, "2027-01-01", None)],
            Approved,
        ),
    ];
    for (number, locality, groups, lines, stage) in people {
        supported(app, "fife", number, locality, &groups, lines, stage).await;
    }
    supported(app, "angus", 24, north, &[D], vec![open(2)], Approved).await;

    // Rejected first, then approved: only the approved version's lines count.
    let sw26 = supported(app, "fife", 26, south, &[C], vec![open(3)], Drafted).await;
    submit(app, "fife", &sw26, 1).await;
    app.client()
        .reject_plan(bearer(
            &practitioner("fife"),
            proto::RejectPlanRequest {
                person_id: sw26.clone(),
                version: 1,
                reason: "the person wants to manage it themselves".into(),
            },
        ))
        .await
        .expect("reject");
    let second = draft(app, "fife", &sw26, vec![open(1)]).await;
    assert_eq!(second.version, 2);
    submit_and_approve(app, "fife", &sw26, 2).await;
}

async fn statistics(
    app: &TestApp,
    token: &str,
    authority: &str,
    at: &str,
) -> Result<proto::UptakeStatistics, tonic::Status> {
    app.client()
        .get_uptake_statistics(bearer(
            token,
            proto::GetUptakeStatisticsRequest {
                authority: authority.to_owned(),
                at: date(at),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn national_return(
    app: &TestApp,
    token: &str,
    authority: &str,
    period: &str,
) -> Result<proto::NationalReturn, tonic::Status> {
    app.client()
        .export_national_return(bearer(
            token,
            proto::ExportNationalReturnRequest {
                authority: authority.to_owned(),
                period: period.to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// `report_audit` as (authority, actor, action, subject, people), oldest first.
async fn report_log(app: &TestApp) -> Vec<(String, String, String, String, i64)> {
    sqlx::query_as(
        "SELECT authority, actor, action, subject, people FROM report_audit ORDER BY position",
    )
    .fetch_all(&app.pool)
    .await
    .expect("read report_audit")
}

async fn exported_people(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT person.case_reference FROM person_audit JOIN person ON person.id = person_id \
         WHERE action = 'phs.exported' ORDER BY case_reference",
    )
    .fetch_all(&app.pool)
    .await
    .expect("read person_audit")
}

#[tokio::test]
async fn uptake_on_a_date_counts_each_person_with_active_approved_lines_once_and_once_in_each_of_their_groups()
 {
    let app = TestApp::spawn().await;
    fixture(&app).await;
    let before = app.row_counts().await;

    let uptake = statistics(&app, &commissioning("fife"), "fife", "2026-10-01")
        .await
        .expect("statistics");
    assert_eq!(uptake.authority, "fife");
    assert_eq!(uptake.at, date("2026-10-01"));
    assert_eq!(uptake.people, 20);
    assert_eq!(
        uptake.by_option,
        Some(proto::OptionCounts {
            option_1: 5,
            option_2: 8,
            option_3: 4,
            option_4: 3,
        })
    );
    let cells: Vec<(&str, ClientGroup, u32, u64)> = uptake
        .cells
        .iter()
        .map(|cell| {
            (
                cell.locality.as_str(),
                cell.client_group(),
                cell.option,
                cell.people,
            )
        })
        .collect();
    assert_eq!(
        cells,
        [
            // SW-01, SW-02 and SW-04 (also counted under learning disability).
            ("North", D, 2, 3),
            ("North", D, 3, 2),
            ("North", L, 1, 1),
            // SW-12's option 3 line ended on 30 September: option 2, not 4.
            ("North", L, 2, 3),
            ("North", L, 4, 1),
            ("North", C, 1, 1),
            ("North", C, 4, 1),
            ("South", D, 1, 1),
            ("South", D, 2, 1),
            ("South", D, 3, 1),
            ("South", D, 4, 1),
            ("South", L, 1, 2),
            ("South", L, 2, 1),
            ("South", L, 3, 1),
            // SW-22 and SW-26 (whose rejected option 3 plan does not count).
            ("South", C, 1, 2),
            ("South", C, 2, 1),
            ("South", C, 3, 1),
            // SW-20: option 1 and a one-day option 3 line on the date itself.
            ("South", C, 4, 1),
        ]
    );

    // The next day SW-20's option 3 line has ended.
    let next_day = statistics(&app, &commissioning("fife"), "fife", "2026-10-02")
        .await
        .expect("statistics");
    assert_eq!(next_day.people, 20);
    let by_option = next_day.by_option.unwrap();
    assert_eq!((by_option.option_1, by_option.option_4), (6, 2));

    // Another authority sees only its own.
    let angus = statistics(&app, &commissioning("angus"), "angus", "2026-10-01")
        .await
        .expect("statistics");
    assert_eq!(angus.people, 1);
    assert_eq!(angus.cells.len(), 1);

    // Aggregates are not a person's record: no audit trail grew, but each read is logged.
    assert_eq!(app.row_counts().await, before);
    assert_eq!(
        report_log(&app).await,
        [
            (
                "fife".into(),
                "fife".into(),
                "uptake.read".into(),
                "2026-10-01".into(),
                20
            ),
            (
                "fife".into(),
                "fife".into(),
                "uptake.read".into(),
                "2026-10-02".into(),
                20
            ),
            (
                "angus".into(),
                "angus".into(),
                "uptake.read".into(),
                "2026-10-01".into(),
                1
            ),
        ]
    );
}

#[tokio::test]
async fn the_phs_return_has_a_row_per_episode_in_the_quarter_and_a_client_row_per_person_with_their_groups_flagged()
 {
    let app = TestApp::spawn().await;
    fixture(&app).await;

    let phs = national_return(&app, &commissioning("fife"), "fife", "2026q3")
        .await
        .expect("return");
    assert_eq!(phs.period, "2026Q3");
    assert_eq!(phs.sending_location, "100");
    // The twenty counted on 1 October, SW-20 twice (two episodes), and SW-11 from 31
    // December; not SW-10 (ended in Q2), SW-21 (drafted), SW-24 (angus), SW-25 (Q4).
    assert_eq!((phs.sds_snapshot_rows, phs.client_rows), (22, 21));

    let snapshot: Vec<&str> = phs.sds_snapshot_csv.split_terminator("\r\n").collect();
    assert_eq!(snapshot.len(), 23, "a header and 22 rows");
    assert_eq!(
        snapshot[0],
        "sending_location,social_care_id,period,sds_period_start_date,sds_period_end_date,sds_start_date,sds_end_date,sds_option_1,sds_option_2,sds_option_3"
    );
    let rows_of = |id: &str| -> Vec<&str> {
        snapshot
            .iter()
            .copied()
            .filter(|row| row.split(',').nth(1) == Some(id))
            .collect()
    };
    // An episode keeps its own start, before the quarter: options 1 and 2 together.
    assert_eq!(
        rows_of("SW-09"),
        ["100,SW-09,2026Q3,2026-10-01,2026-12-31,2026-04-01,,1,1,0"]
    );
    assert!(rows_of("SW-10").is_empty(), "ended on the last day of Q2");
    // Starts on the last day of the quarter.
    assert_eq!(
        rows_of("SW-11"),
        ["100,SW-11,2026Q3,2026-10-01,2026-12-31,2026-12-31,,0,1,0"]
    );
    // Options 2 and 3 until 30 September (Q2), then option 2 alone from the first day of Q3.
    assert_eq!(
        rows_of("SW-12"),
        ["100,SW-12,2026Q3,2026-10-01,2026-12-31,2026-10-01,,0,1,0"]
    );
    // A mix is sent as its option flags, never as option 4.
    assert_eq!(
        rows_of("SW-19"),
        ["100,SW-19,2026Q3,2026-10-01,2026-12-31,2026-04-01,,0,1,1"]
    );
    // Option 1, a one-day option 3 line on 1 October, then option 1 again.
    assert_eq!(
        rows_of("SW-20"),
        [
            "100,SW-20,2026Q3,2026-10-01,2026-12-31,2026-10-01,2026-10-01,1,0,1",
            "100,SW-20,2026Q3,2026-10-01,2026-12-31,2026-10-02,,1,0,0",
        ]
    );
    assert!(rows_of("SW-21").is_empty(), "only drafted");
    assert!(rows_of("SW-25").is_empty(), "starts in Q4");
    assert_eq!(
        rows_of("SW-26"),
        ["100,SW-26,2026Q3,2026-10-01,2026-12-31,2026-04-01,,1,0,0"]
    );
    // Ordered by social care id.
    let ids: Vec<&str> = snapshot[1..]
        .iter()
        .map(|row| row.split(',').nth(1).unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);

    let clients: Vec<&str> = phs.client_csv.split_terminator("\r\n").collect();
    assert_eq!(clients.len(), 22, "a header and 21 rows");
    assert_eq!(
        clients[0],
        "sending_location,social_care_id,financial_year,financial_quarter,dementia,mental_health_problems,learning_disability,physical_and_sensory_disability,drugs,alcohol,palliative_care,carer,elderly_frail,neurological_condition,autism,other_vulnerable_groups"
    );
    let client = |id: &str| -> &str {
        clients
            .iter()
            .copied()
            .find(|row| row.split(',').nth(1) == Some(id))
            .unwrap_or_else(|| panic!("no client row for {id}"))
    };
    assert_eq!(client("SW-01"), "100,SW-01,2026,3,1,0,0,0,0,0,0,0,0,0,0,0");
    assert_eq!(client("SW-04"), "100,SW-04,2026,3,1,0,1,0,0,0,0,0,0,0,0,0");
    assert_eq!(client("SW-11"), "100,SW-11,2026,3,0,0,0,0,0,0,0,1,0,0,0,0");
    assert_eq!(client("SW-22"), "100,SW-22,2026,3,1,0,1,0,0,0,0,1,0,0,0,0");
    assert!(
        !clients
            .iter()
            .any(|row| row.contains(",SW-10,") || row.contains(",SW-21,")),
        "{clients:?}"
    );

    // The return names people: each one in it has `phs.exported` in their audit trail.
    let exported = exported_people(&app).await;
    assert_eq!(exported.len(), 21);
    assert!(exported.contains(&"SW-11".to_owned()));
    assert!(!exported.contains(&"SW-10".to_owned()));
    assert!(!exported.contains(&"SW-21".to_owned()));
    assert_eq!(
        report_log(&app).await,
        [(
            "fife".into(),
            "fife".into(),
            "phs.exported".into(),
            "2026Q3".into(),
            21
        )]
    );

    // SW-10 and SW-12's first episode are in the Q2 return instead.
    let q2 = national_return(&app, &commissioning("fife"), "fife", "2026Q2")
        .await
        .expect("return");
    assert!(
        q2.sds_snapshot_csv
            .contains("\r\n100,SW-10,2026Q2,2026-07-01,2026-09-30,2026-04-01,2026-09-30,0,1,0\r\n")
    );
    assert!(
        q2.sds_snapshot_csv
            .contains("\r\n100,SW-12,2026Q2,2026-07-01,2026-09-30,2026-04-01,2026-09-30,0,1,1\r\n")
    );
    assert!(q2.client_csv.contains("\r\n100,SW-10,2026,2,"));
}

#[tokio::test]
async fn only_commissioning_staff_of_the_authority_see_its_statistics_or_take_its_return() {
    let app = TestApp::spawn().await;
    app.set_policy(policy("fife", "2026-04-01")).await;
    supported(
        &app,
        "fife",
        1,
        "North",
        &[D],
        vec![open(2)],
        Stage::Approved,
    )
    .await;
    let before = app.row_counts().await;

    let refused = [
        practitioner("fife"),
        staff("fife", &[Role::TeamManager, Role::Panel, Role::Finance]),
        commissioning("angus"),
        provider_token(),
    ];
    for token in &refused {
        let message = assert_code(
            statistics(&app, token, "fife", "2026-10-01").await,
            Code::PermissionDenied,
        );
        assert!(message.contains("fife"), "{message}");
        assert_code(
            national_return(&app, token, "fife", "2026Q3").await,
            Code::PermissionDenied,
        );
    }
    assert_eq!(app.row_counts().await, before, "a refusal writes nothing");
    assert!(report_log(&app).await.is_empty());

    let commissioning = commissioning("fife");
    assert_invalid(
        statistics(&app, &commissioning, "fife", "01/10/2026").await,
        "at",
    );
    let message = assert_invalid(
        national_return(&app, &commissioning, "fife", "2026Q5").await,
        "period",
    );
    assert!(message.contains("2026Q3"), "{message}");
    // Without a policy there is no sending location to send.
    let message = assert_code(
        national_return(&app, &commissioning, "fife", "2025Q4").await,
        Code::FailedPrecondition,
    );
    assert!(
        message.contains("no policy in effect on 2026-03-31"),
        "{message}"
    );
    assert!(report_log(&app).await.is_empty());
}
