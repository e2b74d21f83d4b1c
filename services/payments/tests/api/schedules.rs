//! Schedules follow agreements: made when one is signed, recomputed for every later agreed
//! version and every end, each change published once as `schedule.changed`; and the live
//! schedule, its preview from the same history, and DOMAIN.md's worked examples agree to
//! the penny.

use sds_proto::v1::{self as proto, PaymentFrequency};
use serde_json::Value;
use tonic::Code;

use crate::support::*;

fn four_weekly_advance() -> proto::AgreementTerms {
    terms(PaymentFrequency::FourWeekly, None, "2026-04-20")
}

/// DOMAIN.md's first worked example as contracts would publish it: 210.00 a week from
/// 20 April 2026, agreed on 1 April.
fn first_version() -> proto::Agreement {
    agreement(
        1,
        "2026-04-20",
        "2026-04-01",
        four_weekly_advance(),
        vec![line(1, "210.00", "2026-04-20", None)],
    )
}

/// ...varied on 10 June: from 18 May the line is 280.00 a week (contracts ends the old line
/// and starts a new one; a version's lines are the complete set from its date).
fn backdated_increase() -> proto::Agreement {
    agreement(
        2,
        "2026-05-18",
        "2026-06-10",
        four_weekly_advance(),
        vec![line(1, "280.00", "2026-05-18", None)],
    )
}

fn example_input(name: &str) -> Value {
    let path = format!(
        "{}/tests/examples/{name}.input.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the example")).expect("JSON")
}

/// The history as the preview's JSON writes it, for comparing with the examples.
fn history_as_json(history: &proto::PreviewScheduleRequest) -> Value {
    let iso = |date: &Option<proto::Date>| date.as_ref().map(|date| Value::from(date.iso.clone()));
    Value::from(
        history
            .versions
            .iter()
            .map(|version| {
                serde_json::json!({
                    "recorded_on": iso(&version.recorded_on),
                    "lines": version.lines.iter().map(|line| serde_json::json!({
                        "weekly_amount": line.weekly_amount.as_ref().map(|money| money.amount.clone()),
                        "start": iso(&line.start),
                        "end": iso(&line.end).unwrap_or(Value::Null),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>(),
    )
}

#[tokio::test]
async fn a_signed_agreement_becomes_a_schedule_whose_own_history_previews_to_the_same_penny() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(first_version())).await;

    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-07-27"))
        .await
        .expect("the schedule");
    assert_eq!(schedule.payee_id, PROVIDER);
    assert_eq!(schedule.payee_kind, proto::PayeeKind::Provider as i32);
    assert_eq!(
        instalments(&schedule.instalments),
        vec![
            "2026-04-06 0.00 420.00",
            "2026-05-04 0.00 840.00",
            "2026-06-01 0.00 840.00",
            "2026-06-29 0.00 840.00",
            "2026-07-27 0.00 840.00",
        ]
    );
    let history = schedule.history.clone().expect("the history");
    let preview = app
        .preview(&finance(AUTHORITY), history)
        .await
        .expect("the history previews");
    assert_eq!(preview.instalments, schedule.instalments);
    assert_eq!(preview.closing_settlement, schedule.closing_settlement);

    let changes = app.changes().await;
    assert_eq!(changes.len(), 1);
    let created = &changes[0];
    assert_eq!(created.change, proto::ScheduleChangeKind::Created as i32);
    assert_eq!(created.weekly_before, Some(money("0.00")));
    assert_eq!(created.weekly_after, Some(money("210.00")));
    assert_eq!(created.next_due_date, Some(date("2026-04-06")));
    assert_eq!(created.next_amount, Some(money("420.00")));
    assert_eq!(created.adjustment, Some(money("0.00")));
}

#[tokio::test]
async fn a_backdated_variation_is_the_worked_example_an_adjustment_on_the_next_instalment() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(first_version())).await;
    app.deliver(&varied(backdated_increase())).await;

    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-08-31"))
        .await
        .expect("the schedule");
    let expected_history =
        example_input("four-weekly-advance-backdated-increase")["versions"].clone();
    let history = schedule.history.clone().expect("the history");
    assert_eq!(history_as_json(&history), expected_history);
    assert_eq!(
        instalments(&schedule.instalments),
        vec![
            "2026-04-06 0.00 420.00",
            "2026-05-04 0.00 840.00",
            "2026-06-01 0.00 840.00",
            "2026-06-29 420.00 1540.00",
            "2026-07-27 0.00 1120.00",
            "2026-08-24 0.00 1120.00",
        ]
    );
    let preview = app
        .preview(&finance(AUTHORITY), history)
        .await
        .expect("a preview");
    assert_eq!(preview.instalments, schedule.instalments);

    let changes = app.changes().await;
    assert_eq!(changes.len(), 2);
    let variation = &changes[1];
    assert_eq!(variation.change, proto::ScheduleChangeKind::Varied as i32);
    assert_eq!(variation.agreement_version, 2);
    assert_eq!(variation.effective_from, Some(date("2026-05-18")));
    assert_eq!(variation.recorded_on, Some(date("2026-06-10")));
    assert_eq!(variation.weekly_before, Some(money("210.00")));
    assert_eq!(variation.weekly_after, Some(money("280.00")));
    assert_eq!(variation.adjustment, Some(money("420.00")));
    assert_eq!(variation.next_due_date, Some(date("2026-06-29")));
    assert_eq!(variation.next_amount, Some(money("1540.00")));
    let events = app.events_of("schedule.changed").await;
    assert_eq!(
        events
            .iter()
            .map(|event| event.aggregate_version)
            .collect::<Vec<_>>(),
        vec![1, 2],
        "each change is the schedule's next revision"
    );
    assert_eq!(schedule.revision, 2);
}

#[tokio::test]
async fn the_same_event_twice_or_a_second_event_about_a_version_already_held_changes_nothing() {
    let app = TestApp::spawn().await;
    let signing = signed(first_version());
    app.deliver(&signing).await;
    let rows = app.row_counts().await;

    // The same event again past the bus's dedup window: the inbox drops it.
    app.publish(&signing, Some("a-redelivery")).await;
    // Another event about the same version (say, contracts' relay sent it twice under two
    // ids): handled, and nothing changes.
    app.deliver(&signed(first_version())).await;
    let variation = varied(backdated_increase());
    app.deliver(&variation).await;
    let after_variation = app.row_counts().await;
    app.deliver(&varied(backdated_increase())).await;

    assert_eq!(
        app.changes().await.len(),
        2,
        "one change for the signing, one for the variation"
    );
    assert_eq!(app.row_counts().await, after_variation);
    assert_ne!(rows, after_variation);
}

#[tokio::test]
async fn an_end_recorded_after_the_fact_is_the_worked_quarterly_example_with_a_recovery_left() {
    let app = TestApp::spawn().await;
    let quarterly = agreement(
        1,
        "2026-04-01",
        "2026-04-01",
        terms(PaymentFrequency::Quarterly, Some(14), "2026-04-01"),
        vec![line(1, "100.00", "2026-04-01", None)],
    );
    app.deliver(&signed(quarterly)).await;
    app.deliver(&ended(1, "2026-08-31", "2026-11-20")).await;

    let schedule = app
        .schedule(&finance(AUTHORITY), AGREEMENT)
        .await
        .expect("the schedule");
    assert_eq!(schedule.last_day, Some(date("2026-08-31")));
    let history = schedule.history.clone().expect("the history");
    assert_eq!(
        history_as_json(&history),
        example_input("quarterly-arrears-ended-after-the-fact")["versions"].clone()
    );
    // Listed, without a date, through the period of the last day.
    assert_eq!(
        instalments(&schedule.instalments),
        vec!["2026-07-14 0.00 1300.00", "2026-10-14 0.00 1314.29"]
    );
    assert_eq!(schedule.closing_settlement, Some(money("-428.58")));
    let through_december = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-12-31"))
        .await
        .expect("the schedule");
    assert_eq!(
        instalments(&through_december.instalments),
        vec![
            "2026-07-14 0.00 1300.00",
            "2026-10-14 0.00 1314.29",
            "2027-01-14 0.00 0.00"
        ]
    );
    assert_eq!(through_december.closing_settlement, Some(money("-428.58")));

    let changes = app.changes().await;
    let end = changes.last().expect("a change");
    assert_eq!(end.change, proto::ScheduleChangeKind::Ended as i32);
    assert_eq!(end.effective_from, Some(date("2026-09-01")));
    assert_eq!(end.weekly_before, Some(money("100.00")));
    assert_eq!(end.weekly_after, Some(money("0.00")));
    assert_eq!(end.next_due_date, Some(date("2027-01-14")));
    assert_eq!(end.next_amount, Some(money("0.00")));
}

#[tokio::test]
async fn an_end_brought_forward_cuts_the_schedule_again_and_an_end_already_held_does_nothing() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(first_version())).await;
    app.deliver(&ended(1, "2026-12-31", "2026-11-01")).await;
    app.deliver(&ended(1, "2026-12-31", "2026-11-01")).await;
    app.deliver(&ended(1, "2026-11-30", "2026-11-15")).await;

    let changes = app.changes().await;
    assert_eq!(changes.len(), 3, "made, ended, brought forward");
    assert_eq!(changes[2].effective_from, Some(date("2026-12-01")));
    let schedule = app
        .schedule(&finance(AUTHORITY), AGREEMENT)
        .await
        .expect("the schedule");
    assert_eq!(schedule.last_day, Some(date("2026-11-30")));
}

#[tokio::test]
async fn an_end_that_overtook_its_signing_applies_once_the_schedule_is_made() {
    let app = TestApp::spawn().await;
    app.deliver(&ended(1, "2026-06-30", "2026-04-10")).await;
    assert!(app.changes().await.is_empty());
    app.deliver(&signed(first_version())).await;
    let schedule = app
        .schedule(&finance(AUTHORITY), AGREEMENT)
        .await
        .expect("the schedule");
    assert_eq!(schedule.last_day, Some(date("2026-06-30")));
    // The last period holds two days of support, 29 and 30 June, at 30.00 a day.
    let last = schedule.instalments.last().expect("instalments");
    assert_eq!(last.period_start, Some(date("2026-06-29")));
    assert_eq!(last.amount, Some(money("60.00")));
}

#[tokio::test]
async fn a_third_party_schedule_pays_the_holder_with_the_fee_on_top_as_a_line_of_its_own() {
    let app = TestApp::spawn().await;
    let mut held = held_by_third_party(first_version());
    held.weekly = Some(proto::AgreementWeekly {
        support: Some(money("210.00")),
        fee: Some(money("21.00")),
        total: Some(money("231.00")),
        fee_placement: proto::FeePlacement::OnTop as i32,
    });
    app.deliver(&signed(held)).await;

    let schedule = app
        .schedule_until(&holder(HOLDER), AGREEMENT, Some("2026-05-04"))
        .await
        .expect("the holder reads its schedule");
    assert_eq!(schedule.payee_kind, proto::PayeeKind::Holder as i32);
    assert_eq!(schedule.payee_id, HOLDER);
    let history = schedule.history.expect("the history");
    assert_eq!(
        history.versions[0].lines.len(),
        2,
        "the support line and the fee"
    );
    // 14 days at 33.00 (30.00 support and 3.00 fee), then 28.
    assert_eq!(
        instalments(&schedule.instalments),
        vec!["2026-04-06 0.00 462.00", "2026-05-04 0.00 924.00"]
    );
    assert_eq!(app.changes().await[0].weekly_after, Some(money("231.00")));
}

#[tokio::test]
async fn a_fee_within_the_budget_adds_nothing_to_what_the_authority_pays() {
    let app = TestApp::spawn().await;
    let mut within = first_version();
    within.weekly = Some(proto::AgreementWeekly {
        support: Some(money("189.00")),
        fee: Some(money("21.00")),
        total: Some(money("210.00")),
        fee_placement: proto::FeePlacement::WithinBudget as i32,
    });
    app.deliver(&signed(within)).await;
    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-04-06"))
        .await
        .expect("the schedule");
    assert_eq!(
        instalments(&schedule.instalments),
        vec!["2026-04-06 0.00 420.00"]
    );
}

#[tokio::test]
async fn only_the_authority_the_payee_the_provider_and_the_person_see_a_schedule() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(held_by_third_party(first_version())))
        .await;
    for token in [
        finance(AUTHORITY),
        practitioner(AUTHORITY),
        provider(PROVIDER),
        holder(HOLDER),
        person(PERSON),
    ] {
        app.schedule(&token, AGREEMENT).await.expect("may see it");
    }
    for token in [
        finance(OTHER_AUTHORITY),
        provider(OTHER_PROVIDER),
        holder(OTHER_PROVIDER),
        person(OTHER_PROVIDER),
    ] {
        assert_refused(
            app.schedule(&token, AGREEMENT).await,
            Code::NotFound,
            &format!("no schedule is recorded for agreement {AGREEMENT}"),
        );
    }
}

#[tokio::test]
async fn get_schedule_refuses_bad_input_naming_the_field() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(first_version())).await;
    let rows = app.row_counts().await;
    assert_refused(
        app.schedule(&finance(AUTHORITY), "agreement-1").await,
        Code::InvalidArgument,
        "agreement_id: \"agreement-1\" is not a UUID",
    );
    assert_refused(
        app.schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-13-01"))
            .await,
        Code::InvalidArgument,
        "until: \"2026-13-01\" is not a date",
    );
    assert_refused(
        app.schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2200-01-01"))
            .await,
        Code::InvalidArgument,
        "until: 2200-01-01 is more than 100 years after the schedule's first day 2026-04-20",
    );
    assert_refused(
        app.schedule(&finance(AUTHORITY), "0192f0c1-0000-7000-8000-0000000000ff")
            .await,
        Code::NotFound,
        "no schedule is recorded",
    );
    assert_eq!(app.row_counts().await, rows);
}

#[tokio::test]
async fn an_agreement_event_that_breaks_the_schedules_rules_is_set_aside_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let mut tolerance = first_version();
    tolerance.terms.as_mut().unwrap().flex_tolerance_percent = "150".to_owned();
    let mut holder_without_fund = first_version();
    holder_without_fund.payee_kind = proto::PayeeKind::Holder as i32;
    holder_without_fund.payee_id = HOLDER.to_owned();
    let mut no_terms = first_version();
    no_terms.terms = None;
    let mut version_zero = first_version();
    version_zero.version = 0;
    let bad = [tolerance, holder_without_fund, no_terms, version_zero];
    for agreement in &bad {
        app.publish(&signed(agreement.clone()), None).await;
    }
    let reasons: Vec<String> = sds_testkit::wait_until(
        std::time::Duration::from_secs(30),
        "the bad events are set aside",
        || async {
            let reasons: Vec<String> = sqlx::query_scalar(
                "SELECT reason FROM dead_letter WHERE consumer = 'payments-agreements' ORDER BY stream_sequence",
            )
            .fetch_all(&app.pool)
            .await
            .ok()?;
            (reasons.len() == bad.len()).then_some(reasons)
        },
    )
    .await;
    assert!(
        reasons[0].contains("flex tolerance 150 is not between 0 and 100"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("do not fit together"), "{reasons:?}");
    assert!(reasons[2].contains("carries no terms"), "{reasons:?}");
    assert!(reasons[3].contains("version is 0"), "{reasons:?}");
    assert!(
        app.row_counts()
            .await
            .iter()
            .all(|(table, count)| *count == 0 || table == "outbox"),
        "{:?}",
        app.row_counts().await
    );
    // A good event after them is followed as usual.
    app.deliver(&signed(first_version())).await;
    app.schedule(&finance(AUTHORITY), AGREEMENT)
        .await
        .expect("the schedule");
}
