//! Delivery reported in hours, for lines agreed as hours a week: paid at the line's weekly
//! amount per agreed weekly hour, in a report or a CSV row alike.

use sds_proto::v1::{self as proto, PaymentFrequency};
use tonic::Code;

use crate::support::*;

/// Plan line 1: 10 hours a week at 21.00 (210.00) from 1 April 2026; plan line 2: 35.00 a
/// week as an amount. Monthly in arrears, 14 days after each month, paid on actuals.
fn hours_on_actuals() -> proto::Agreement {
    let mut terms = terms(PaymentFrequency::Monthly, Some(14), "2026-04-01");
    terms.basis = proto::PaymentBasis::Actuals as i32;
    let mut hours = line(1, "210.00", "2026-04-01", None);
    hours.hours_per_week = "10".to_owned();
    agreement(
        1,
        "2026-04-01",
        "2026-03-01",
        terms,
        vec![hours, line(2, "35.00", "2026-04-01", None)],
    )
}

fn hours_line(plan_line: u32, hours: &str) -> proto::ActualLine {
    proto::ActualLine {
        plan_line,
        amount: None,
        hours: hours.to_owned(),
    }
}

fn amount_line(plan_line: u32, amount: &str) -> proto::ActualLine {
    proto::ActualLine {
        plan_line,
        amount: Some(money(amount)),
        hours: String::new(),
    }
}

async fn report(
    app: &TestApp,
    lines: Vec<proto::ActualLine>,
) -> Result<proto::ActualsReport, tonic::Status> {
    app.client()
        .report_actuals(sds_testkit::bearer(
            &provider(PROVIDER),
            proto::ReportActualsRequest {
                agreement_id: AGREEMENT.to_owned(),
                period_start: Some(date("2026-04-01")),
                lines,
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn hours_delivered_are_paid_at_the_lines_weekly_amount_per_agreed_hour() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(hours_on_actuals())).await;
    on(&app, "2026-05-02");
    // April: 30 days of 10 hours a week is 42.86 hours planned, 900.00; 38.5 hours were
    // delivered, paid at 21.00 an hour: 808.50. Line 2 as planned, 150.00.
    let reported = report(&app, vec![hours_line(1, "38.5"), amount_line(2, "150.00")])
        .await
        .expect("reported");
    assert_eq!(reported.reported, Some(money("958.50")));
    assert_eq!(reported.planned, Some(money("1050.00")));
    assert_eq!(reported.total, Some(money("958.50")));
    let stored: Option<rust_decimal::Decimal> =
        sqlx::query_scalar("SELECT hours FROM actual_line WHERE plan_line = 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        stored.map(|hours| hours.to_string()),
        Some("38.50".to_owned())
    );

    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-04-30"))
        .await
        .expect("the schedule");
    assert_eq!(
        instalments(&schedule.instalments),
        ["2026-05-14 0.00 958.50"]
    );
}

#[tokio::test]
async fn hours_are_refused_for_a_line_agreed_as_an_amount_and_with_an_amount_beside_them() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(hours_on_actuals())).await;
    on(&app, "2026-05-02");
    let rows = app.row_counts().await;
    assert_refused(
        report(&app, vec![hours_line(1, "38"), hours_line(2, "5")]).await,
        Code::InvalidArgument,
        "lines[1].hours: plan line 2 is agreed as an amount a week, not hours; report its amount",
    );
    assert_refused(
        report(
            &app,
            vec![
                proto::ActualLine {
                    plan_line: 1,
                    amount: Some(money("800.00")),
                    hours: "38".to_owned(),
                },
                amount_line(2, "150.00"),
            ],
        )
        .await,
        Code::InvalidArgument,
        "lines[0].hours: give the amount or the hours delivered, not both",
    );
    assert_refused(
        report(&app, vec![hours_line(1, "-1"), amount_line(2, "150.00")]).await,
        Code::InvalidArgument,
        "lines[0].hours: \"-1\" is not hours",
    );
    assert_refused(
        report(&app, vec![hours_line(1, "400"), amount_line(2, "150.00")]).await,
        Code::InvalidArgument,
        "lines[0].hours: 400 hours at 8400.00 is more than 5 times the plan for the period (900.00)",
    );
    assert_eq!(app.row_counts().await, rows, "nothing was written");
}

#[tokio::test]
async fn a_csv_row_may_give_hours_instead_of_an_amount() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(hours_on_actuals())).await;
    on(&app, "2026-06-02");
    let row =
        |line: u64, period: &str, plan_line: &str, amount: &str, hours: &str| proto::ActualsRow {
            source_line: line,
            agreement_id: AGREEMENT.to_owned(),
            period_start: period.to_owned(),
            plan_line: plan_line.to_owned(),
            amount: amount.to_owned(),
            hours: hours.to_owned(),
        };
    let response = app
        .client()
        .import_actuals(sds_testkit::bearer(
            &provider(PROVIDER),
            proto::ImportActualsRequest {
                rows: vec![
                    row(2, "2026-04-01", "1", "", "40"),
                    row(3, "2026-04-01", "2", "150.00", ""),
                    row(4, "2026-05-01", "1", "900.00", "40"),
                    row(5, "2026-05-01", "2", "155.00", ""),
                ],
            },
        ))
        .await
        .expect("imported")
        .into_inner();
    assert_eq!(response.recorded.len(), 1);
    assert_eq!(response.recorded[0].reported, Some(money("990.00")));
    let rejections: Vec<(u64, String)> = response
        .rejections
        .iter()
        .map(|rejection| (rejection.line, rejection.reason.clone()))
        .collect();
    assert_eq!(rejections.len(), 2, "{rejections:?}");
    assert_eq!(rejections[0].0, 4);
    assert!(
        rejections[0]
            .1
            .starts_with("hours: give the amount or the hours delivered, not both"),
        "{rejections:?}"
    );
}
