//! Payment runs: every instalment due by the run's date paid once into the person's fund
//! in a real ledger, whatever is run again, stopped half way or learnt late; and what the
//! runs pay, the live schedule and its preview agree to the penny.

use sds_proto::v1 as proto;
use tonic::Code;
use uuid::Uuid;

use crate::run_support::*;
use crate::support::*;

#[tokio::test]
async fn a_run_pays_every_instalment_due_once_into_the_persons_fund() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;

    let ran = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    assert_eq!(figures(&ran.summary), (3, 1, "2100.00".to_owned()));
    assert!(!ran.summary.resumed);
    let phases: Vec<i32> = ran.progress.iter().map(|progress| progress.phase).collect();
    assert!(
        phases.contains(&(proto::RunPhase::Planning as i32)),
        "{phases:?}"
    );
    assert!(
        phases.contains(&(proto::RunPhase::Posting as i32)),
        "{phases:?}"
    );

    let fund = app.fund(PROVIDER).await;
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "2100.00"
    );
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::AuthorityFunding),
        "-2100.00"
    );

    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-06-29"))
        .await
        .expect("the schedule");
    assert_eq!(
        schedule.fund_id, fund.id,
        "the schedule names the fund it pays into"
    );
    let paid: Vec<&str> = schedule
        .instalments
        .iter()
        .map(|instalment| instalment.paid_by_run.as_str())
        .collect();
    assert_eq!(
        paid,
        vec![
            ran.summary.run_id.as_str(),
            ran.summary.run_id.as_str(),
            ran.summary.run_id.as_str(),
            ""
        ]
    );

    let completed = app.events_of("payment.run.completed").await;
    assert_eq!(completed.len(), 1);
    match &completed[0].body {
        Some(proto::event::Body::PaymentRunCompleted(event)) => {
            assert_eq!(event.run_id, ran.summary.run_id);
            assert_eq!(event.instalments, 3);
            assert_eq!(event.total, Some(money("2100.00")));
        }
        other => panic!("not a completed run: {other:?}"),
    }
}

#[tokio::test]
async fn running_the_same_date_again_pays_nothing_twice() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    let first = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    let again = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    assert_ne!(again.summary.run_id, first.summary.run_id);
    assert_eq!(figures(&again.summary), (0, 0, "0.00".to_owned()));
    let fund = app.fund(PROVIDER).await;
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "2100.00"
    );
}

#[tokio::test]
async fn what_runs_pay_the_live_schedule_and_its_preview_agree_to_the_penny_after_a_backdated_variation()
 {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    let before = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    app.deliver(&varied(backdated_increase())).await;
    let after = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-29")
        .await
        .expect("a run");
    // The worked example: 420.00 underpaid for the six weeks already paid at 210.00.
    assert_eq!(figures(&after.summary), (1, 1, "1540.00".to_owned()));

    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-06-29"))
        .await
        .expect("the schedule");
    let preview = app
        .preview(
            &finance(AUTHORITY),
            schedule.history.clone().expect("the history"),
        )
        .await
        .expect("a preview");
    let sum = |amounts: Vec<&str>| -> rust_decimal::Decimal {
        amounts
            .into_iter()
            .map(|amount| amount.parse::<rust_decimal::Decimal>().expect("an amount"))
            .sum()
    };
    let live: Vec<&str> = schedule
        .instalments
        .iter()
        .map(|instalment| {
            instalment
                .amount
                .as_ref()
                .expect("an amount")
                .amount
                .as_str()
        })
        .collect();
    let previewed: Vec<&str> = preview
        .instalments
        .iter()
        .map(|instalment| {
            instalment
                .amount
                .as_ref()
                .expect("an amount")
                .amount
                .as_str()
        })
        .collect();
    let paid = sum(vec![
        before.summary.total.as_ref().unwrap().amount.as_str(),
        after.summary.total.as_ref().unwrap().amount.as_str(),
    ]);
    assert_eq!(live, previewed);
    assert_eq!(sum(live), paid);
    let fund = app.fund(PROVIDER).await;
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        paid.to_string()
    );
}

#[tokio::test]
async fn a_variation_known_by_a_due_date_that_reached_payments_after_the_run_is_put_right_on_the_next_instalment()
 {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    // Agreed on 1 June, the June instalment's due date, but heard of after June was paid.
    let mut late = backdated_increase();
    late.recorded_on = Some(date("2026-06-01"));
    late.agreed_on = Some(date("2026-06-01"));
    app.deliver(&varied(late)).await;

    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-06-29"))
        .await
        .expect("the schedule");
    // June keeps what was paid for it; the next instalment carries the difference.
    assert_eq!(
        instalments(&schedule.instalments),
        vec![
            "2026-04-06 0.00 420.00",
            "2026-05-04 0.00 840.00",
            "2026-06-01 -280.00 840.00",
            "2026-06-29 420.00 1540.00",
        ]
    );
    let ran = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-29")
        .await
        .expect("a run");
    assert_eq!(figures(&ran.summary), (1, 1, "1540.00".to_owned()));
    // 28 days at 30.00 and 70 at 40.00 through 26 July: 3,640.00 paid in all.
    let fund = app.fund(PROVIDER).await;
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "3640.00"
    );
}

#[tokio::test]
async fn a_version_is_known_from_the_day_it_was_agreed_not_the_day_it_was_drafted() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    // Drafted on 25 May, signed by the last party on 10 June.
    let mut signed_late = backdated_increase();
    signed_late.recorded_on = Some(date("2026-05-25"));
    signed_late.agreed_on = Some(date("2026-06-10"));
    app.deliver(&varied(signed_late)).await;
    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-06-29"))
        .await
        .expect("the schedule");
    assert_eq!(
        instalments(&schedule.instalments)[2..],
        ["2026-06-01 0.00 840.00", "2026-06-29 420.00 1540.00"]
    );
}

#[tokio::test]
async fn a_run_stopped_after_the_ledger_posted_finishes_without_paying_twice() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    let first = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    // As if the process died after the ledger answered and before the instalments were
    // marked posted and the run completed.
    let run_id = Uuid::parse_str(&first.summary.run_id).unwrap();
    sqlx::query("UPDATE instalment_payment SET posted = false WHERE run_id = $1")
        .bind(run_id)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE payment_run SET status = 'posting', completed_at = NULL, instalments = NULL, \
         payees = NULL, total = NULL WHERE run_id = $1",
    )
    .bind(run_id)
    .execute(&app.pool)
    .await
    .unwrap();

    // Another date is refused until the stopped run is finished.
    assert_refused(
        app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-29")
            .await
            .map(|ran| ran.summary),
        Code::FailedPrecondition,
        &format!("run {run_id} for 2026-06-01 is unfinished"),
    );
    let finished = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("the run finishes");
    assert!(finished.summary.resumed);
    assert_eq!(finished.summary.run_id, first.summary.run_id);
    assert_eq!(figures(&finished.summary), (3, 1, "2100.00".to_owned()));
    let fund = app.fund(PROVIDER).await;
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "2100.00"
    );
    assert_eq!(
        app.events_of("payment.run.completed").await.len(),
        2,
        "published again only because the test took the completion back"
    );
}

#[tokio::test]
async fn a_second_run_of_the_same_authority_while_one_runs_is_refused() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    // Another process's run holds the authority's run lock.
    let mut other = app.pool.acquire().await.unwrap().detach();
    sqlx::query("SELECT pg_advisory_lock(hashtext('payments-run:' || $1))")
        .bind(AUTHORITY)
        .execute(&mut other)
        .await
        .unwrap();
    assert_refused(
        app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
            .await
            .map(|ran| ran.summary),
        Code::FailedPrecondition,
        "a payment run of fife is in progress; wait for it to finish",
    );
    assert!(
        app.row_counts()
            .await
            .iter()
            .any(|(table, count)| table == "payment_run" && *count == 0)
    );
    // Released before the connection closes: a closed connection's backend lets go of its
    // locks only when it gets round to exiting, after the close has returned.
    sqlx::query("SELECT pg_advisory_unlock(hashtext('payments-run:' || $1))")
        .bind(AUTHORITY)
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::Connection::close(other).await.unwrap();
    let ran = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("the run goes ahead once the other is over");
    assert_eq!(figures(&ran.summary), (3, 1, "2100.00".to_owned()));
}

#[tokio::test]
async fn only_the_authoritys_finance_staff_run_payments_and_bad_requests_write_nothing() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    let rows = app.row_counts().await;
    for token in [
        practitioner(AUTHORITY),
        finance(OTHER_AUTHORITY),
        provider(PROVIDER),
        person(PERSON),
    ] {
        assert_refused(
            app.run_payments(&token, AUTHORITY, "2026-06-01")
                .await
                .map(|ran| ran.summary),
            Code::PermissionDenied,
            "payments of fife are run by its finance staff",
        );
    }
    for (authority, run_date, words) in [
        ("", "2026-06-01", "authority is empty"),
        (AUTHORITY, "", "run_date: missing"),
        (
            AUTHORITY,
            "1 June 2026",
            "run_date: \"1 June 2026\" is not a date",
        ),
        (
            AUTHORITY,
            "0000-01-01",
            "run_date: 0000-01-01 is more than 366 days before today",
        ),
    ] {
        assert_refused(
            app.run_payments(&finance(AUTHORITY), authority, run_date)
                .await
                .map(|ran| ran.summary),
            Code::InvalidArgument,
            words,
        );
    }
    assert_eq!(app.row_counts().await, rows);
}
