//! The person's contribution: set by the authority's finance staff from a financial
//! assessment, taken off what the schedule pays (a backdated change put right on the next
//! instalment), agreeing with the preview of the same history, and refused to anyone else.

use sds_proto::v1 as proto;
use tonic::Code;

use crate::run_support::*;
use crate::support::*;

fn contribution(weekly: &str, from: &str) -> proto::SetContributionRequest {
    proto::SetContributionRequest {
        agreement_id: AGREEMENT.to_owned(),
        weekly_amount: Some(money(weekly)),
        effective_from: Some(date(from)),
        assessment_reference: "FA-2026/118".to_owned(),
    }
}

async fn set(
    app: &TestApp,
    token: &str,
    request: proto::SetContributionRequest,
) -> Result<proto::Contribution, tonic::Status> {
    app.client()
        .set_contribution(sds_testkit::bearer(token, request))
        .await
        .map(tonic::Response::into_inner)
}

async fn get(app: &TestApp, token: &str) -> Result<proto::Contribution, tonic::Status> {
    app.client()
        .get_contribution(sds_testkit::bearer(
            token,
            proto::GetContributionRequest {
                agreement_id: AGREEMENT.to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

fn amounts(schedule: &proto::Schedule) -> Vec<String> {
    schedule
        .instalments
        .iter()
        .map(|instalment| instalment.amount.as_ref().unwrap().amount.clone())
        .collect()
}

#[tokio::test]
async fn the_schedule_pays_the_budget_net_of_the_contribution_and_the_preview_agrees() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    on(&app, "2026-04-02");
    let set = set(
        &app,
        &finance(AUTHORITY),
        contribution("30.00", "2026-04-20"),
    )
    .await
    .expect("set");
    assert_eq!(set.versions.len(), 1);
    assert_eq!(set.person_id, PERSON);
    assert_eq!(set.versions[0].recorded_on, Some(date("2026-04-02")));

    let changed = app.changes().await;
    let last = changed.last().expect("a schedule change");
    assert_eq!(last.change, proto::ScheduleChangeKind::Contribution as i32);
    assert_eq!(last.weekly_before, Some(money("210.00")));
    assert_eq!(last.weekly_after, Some(money("180.00")));
    assert_eq!(last.next_amount, Some(money("360.00")));

    on(&app, "2026-06-01");
    let ran = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    // 180.00 a week instead of 210.00: 360.00 for the first fortnight, 720.00 a period.
    assert_eq!(figures(&ran.summary), (3, 1, "1800.00".to_owned()));
    let fund = app.fund(PROVIDER).await;
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "1800.00"
    );

    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-06-29"))
        .await
        .expect("the schedule");
    assert_eq!(amounts(&schedule), ["360.00", "720.00", "720.00", "720.00"]);
    let history = schedule.history.clone().expect("the history");
    let contribution_lines: Vec<&proto::ScheduleLine> = history
        .versions
        .last()
        .expect("a version")
        .lines
        .iter()
        .filter(|line| line.contribution)
        .collect();
    assert_eq!(contribution_lines.len(), 1);
    assert_eq!(contribution_lines[0].weekly_amount, Some(money("30.00")));
    let preview = app
        .preview(&finance(AUTHORITY), history)
        .await
        .expect("a preview");
    let mut live = schedule.instalments.clone();
    live.iter_mut()
        .for_each(|instalment| instalment.paid_by_run.clear());
    assert_eq!(preview.instalments, live);
}

#[tokio::test]
async fn a_backdated_contribution_is_recovered_on_the_next_instalment_and_setting_it_again_changes_nothing()
 {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    on(&app, "2026-06-01");
    let first = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    assert_eq!(figures(&first.summary), (3, 1, "2100.00".to_owned()));

    // The financial assessment, finished on 10 June, applies from the first day of support.
    on(&app, "2026-06-10");
    set(
        &app,
        &finance(AUTHORITY),
        contribution("30.00", "2026-04-20"),
    )
    .await
    .expect("set");
    let changed = app.changes().await;
    let last = changed.last().expect("a schedule change");
    // Ten weeks already paid at 210.00 owe 300.00 back, taken off the next 720.00.
    assert_eq!(last.adjustment, Some(money("-300.00")));
    assert_eq!(last.next_amount, Some(money("420.00")));

    let rows = app.row_counts().await;
    let again = set(
        &app,
        &finance(AUTHORITY),
        contribution("30.00", "2026-04-20"),
    )
    .await
    .expect("the same again");
    assert_eq!(again.versions.len(), 1);
    assert_eq!(app.row_counts().await, rows, "nothing recorded twice");

    on(&app, "2026-06-29");
    let second = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-29")
        .await
        .expect("a run");
    assert_eq!(figures(&second.summary), (1, 1, "420.00".to_owned()));

    // Waived from 24 August: the authority pays the whole budget again from then.
    on(&app, "2026-07-01");
    let waived = set(
        &app,
        &finance(AUTHORITY),
        contribution("0.00", "2026-08-24"),
    )
    .await
    .expect("waived");
    assert_eq!(waived.versions.len(), 2);
    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-08-24"))
        .await
        .expect("the schedule");
    assert_eq!(
        amounts(&schedule),
        ["420.00", "840.00", "840.00", "420.00", "720.00", "840.00"]
    );
    for token in [provider(PROVIDER), person(PERSON), practitioner(AUTHORITY)] {
        assert_eq!(get(&app, &token).await.expect("readable"), waived);
    }
}

#[tokio::test]
async fn only_the_authoritys_finance_staff_set_a_contribution_and_bad_requests_write_nothing() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(first_version())).await;
    let rows = app.row_counts().await;
    for (token, code, words) in [
        (
            practitioner(AUTHORITY),
            Code::PermissionDenied,
            "finance staff",
        ),
        (provider(PROVIDER), Code::PermissionDenied, "finance staff"),
        (person(PERSON), Code::PermissionDenied, "finance staff"),
        (finance(OTHER_AUTHORITY), Code::NotFound, "no schedule"),
        (provider(OTHER_PROVIDER), Code::NotFound, "no schedule"),
    ] {
        assert_refused(
            set(&app, &token, contribution("30.00", "2026-04-20")).await,
            code,
            words,
        );
    }
    assert_refused(
        get(&app, &provider(OTHER_PROVIDER)).await,
        Code::NotFound,
        "no schedule",
    );
    let bad = [
        (
            proto::SetContributionRequest {
                weekly_amount: None,
                ..contribution("30.00", "2026-04-20")
            },
            "weekly_amount: missing",
        ),
        (
            contribution("-5.00", "2026-04-20"),
            "weekly_amount: \"-5.00\" is not allowed",
        ),
        (
            contribution("210.01", "2026-04-20"),
            "weekly_amount: 210.01 is more than the budget of 210.00 a week from 2026-04-20",
        ),
        (
            contribution("30.00", "2020-01-01"),
            "effective_from: 2020-01-01 is more than 366 days",
        ),
        (
            proto::SetContributionRequest {
                assessment_reference: String::new(),
                ..contribution("30.00", "2026-04-20")
            },
            "assessment_reference: missing",
        ),
        (
            proto::SetContributionRequest {
                agreement_id: "0192f0c1-0000-7000-8000-00000000ffff".to_owned(),
                ..contribution("30.00", "2026-04-20")
            },
            "no schedule",
        ),
    ];
    for (request, words) in bad {
        let refused = set(&app, &finance(AUTHORITY), request).await;
        let code = if words == "no schedule" {
            Code::NotFound
        } else {
            Code::InvalidArgument
        };
        assert_refused(refused, code, words);
    }
    assert_eq!(app.row_counts().await, rows, "nothing was written");
}

#[tokio::test]
async fn where_the_authority_holds_the_fund_no_contribution_is_taken_off_the_providers_payments() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(authority_held(first_version()))).await;
    let rows = app.row_counts().await;
    assert_refused(
        set(
            &app,
            &finance(AUTHORITY),
            contribution("30.00", "2026-04-20"),
        )
        .await,
        Code::InvalidArgument,
        "agreement_id: the authority holds this person's fund",
    );
    assert_eq!(app.row_counts().await, rows, "nothing was written");
}

#[tokio::test]
async fn a_provider_that_does_not_hold_the_fund_does_not_see_the_persons_contribution() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(held_by_third_party(first_version())))
        .await;
    on(&app, "2026-04-02");
    set(
        &app,
        &finance(AUTHORITY),
        contribution("30.00", "2026-04-20"),
    )
    .await
    .expect("set");
    assert_refused(
        get(&app, &provider(PROVIDER)).await,
        Code::NotFound,
        "no schedule",
    );
    assert_refused(
        app.schedule(&provider(PROVIDER), AGREEMENT).await,
        Code::NotFound,
        "no schedule",
    );
    for token in [holder(HOLDER), person(PERSON), practitioner(AUTHORITY)] {
        let seen = get(&app, &token).await.expect("readable");
        assert_eq!(seen.versions.len(), 1);
    }
}
