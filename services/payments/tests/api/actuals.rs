//! Reports of delivery for agreements paid on actuals: the provider reports each ended
//! period, the period pays what was reported, corrections are revisions, persistent
//! variance is raised once, and a CSV's rows are judged one by one.

use sds_proto::v1::{self as proto, PaymentFrequency};
use tonic::Code;

use crate::run_support::*;
use crate::support::*;

/// 70.00 a week on plan line 1 from 1 April 2026, monthly in arrears 14 days after each
/// month, paid on what the provider reports.
fn on_actuals() -> proto::Agreement {
    let mut terms = terms(PaymentFrequency::Monthly, Some(14), "2026-04-01");
    terms.basis = proto::PaymentBasis::Actuals as i32;
    agreement(
        1,
        "2026-04-01",
        "2026-03-01",
        terms,
        vec![line(1, "70.00", "2026-04-01", None)],
    )
}

fn request(period_start: &str, lines: &[(u32, &str)]) -> proto::ReportActualsRequest {
    proto::ReportActualsRequest {
        agreement_id: AGREEMENT.to_owned(),
        period_start: Some(date(period_start)),
        lines: lines
            .iter()
            .map(|(plan_line, amount)| proto::ActualLine {
                plan_line: *plan_line,
                amount: Some(money(amount)),
                hours: String::new(),
            })
            .collect(),
    }
}

async fn report(
    app: &TestApp,
    token: &str,
    request: proto::ReportActualsRequest,
) -> Result<proto::ActualsReport, tonic::Status> {
    app.client()
        .report_actuals(sds_testkit::bearer(token, request))
        .await
        .map(tonic::Response::into_inner)
}

fn amounts(schedule: &proto::Schedule) -> Vec<String> {
    schedule
        .instalments
        .iter()
        .map(|instalment| {
            format!(
                "{} {} {}",
                instalment.period_start.as_ref().unwrap().iso,
                instalment.base.as_ref().unwrap().amount,
                instalment.amount.as_ref().unwrap().amount
            )
        })
        .collect()
}

#[tokio::test]
async fn a_period_reported_by_its_due_date_pays_what_was_reported_and_runs_pay_it() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(on_actuals())).await;
    on(&app, "2026-05-02");
    let reported = report(
        &app,
        &provider(PROVIDER),
        request("2026-04-01", &[(1, "240.00")]),
    )
    .await
    .expect("reported");
    assert_eq!(reported.revision, 1);
    assert_eq!(reported.total, Some(money("240.00")));
    assert_eq!(reported.planned, Some(money("300.00")));
    assert_eq!(reported.variance_percent, "-20.0");
    assert!(!reported.variance_persistent);

    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-05-31"))
        .await
        .expect("the schedule");
    assert_eq!(
        amounts(&schedule),
        vec!["2026-04-01 240.00 240.00", "2026-05-01 310.00 310.00"]
    );
    // The live schedule's history, previewed, gives the same instalments.
    let preview = app
        .preview(&finance(AUTHORITY), schedule.history.clone().unwrap())
        .await
        .expect("a preview");
    assert_eq!(preview.instalments, {
        let mut live = schedule.instalments.clone();
        live.iter_mut()
            .for_each(|instalment| instalment.paid_by_run.clear());
        live
    });

    on(&app, "2026-05-14");
    let ran = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-05-14")
        .await
        .expect("a run");
    assert_eq!(figures(&ran.summary), (1, 1, "240.00".to_owned()));

    // A correction after the payment is put right on the next instalment.
    on(&app, "2026-05-20");
    let corrected = report(
        &app,
        &provider(PROVIDER),
        request("2026-04-01", &[(1, "270.00")]),
    )
    .await
    .expect("corrected");
    assert_eq!(corrected.revision, 2);
    let schedule = app
        .schedule_until(&finance(AUTHORITY), AGREEMENT, Some("2026-05-31"))
        .await
        .expect("the schedule");
    assert_eq!(
        amounts(&schedule),
        vec!["2026-04-01 240.00 240.00", "2026-05-01 310.00 340.00"]
    );
}

#[tokio::test]
async fn the_same_report_again_the_same_day_records_nothing() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(on_actuals())).await;
    on(&app, "2026-05-02");
    let first = report(
        &app,
        &provider(PROVIDER),
        request("2026-04-01", &[(1, "240.00")]),
    )
    .await
    .expect("reported");
    let rows = app.row_counts().await;
    let again = report(
        &app,
        &finance(AUTHORITY),
        request("2026-04-01", &[(1, "240.00")]),
    )
    .await
    .expect("the same again");
    assert_eq!(again, first);
    assert_eq!(app.row_counts().await, rows);
}

#[tokio::test]
async fn only_the_provider_and_the_authoritys_finance_staff_report_and_bad_reports_write_nothing() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(on_actuals())).await;
    let mut planned = on_actuals();
    planned.id = "0192f0c1-0000-7000-8000-0000000000d3".to_owned();
    planned.terms.as_mut().unwrap().basis = proto::PaymentBasis::Scheduled as i32;
    app.deliver(&signed(planned)).await;
    on(&app, "2026-05-02");
    let rows = app.row_counts().await;
    for token in [
        provider(OTHER_PROVIDER),
        practitioner(AUTHORITY),
        finance(OTHER_AUTHORITY),
        holder(HOLDER),
        person(PERSON),
    ] {
        assert_refused(
            report(&app, &token, request("2026-04-01", &[(1, "240.00")])).await,
            Code::NotFound,
            "no schedule is recorded",
        );
    }
    let bad: Vec<(proto::ReportActualsRequest, &str)> = vec![
        (
            proto::ReportActualsRequest {
                agreement_id: "agreement-1".to_owned(),
                ..request("2026-04-01", &[(1, "1.00")])
            },
            "agreement_id: ",
        ),
        (
            proto::ReportActualsRequest {
                period_start: None,
                ..request("2026-04-01", &[(1, "1.00")])
            },
            "period_start: missing",
        ),
        (request("2026-04-02", &[(1, "1.00")]), "not the first day"),
        (request("2026-05-01", &[(1, "1.00")]), "has not ended"),
        (request("2026-04-01", &[]), "lines: empty"),
        (
            request("2026-04-01", &[(0, "1.00")]),
            "lines[0].plan_line: missing",
        ),
        (
            request("2026-04-01", &[(2, "1.00")]),
            "lines[0].plan_line: plan line 2",
        ),
        (request("2026-04-01", &[(1, "-1.00")]), "lines[0].amount: "),
        (request("2026-04-01", &[(1, "1.505")]), "lines[0].amount: "),
        (request("2026-04-01", &[(1, "9000.00")]), "5 times the plan"),
        (
            proto::ReportActualsRequest {
                agreement_id: "0192f0c1-0000-7000-8000-0000000000d3".to_owned(),
                ..request("2026-04-01", &[(1, "1.00")])
            },
            "is paid as planned",
        ),
    ];
    for (request, words) in bad {
        assert_refused(
            report(&app, &provider(PROVIDER), request).await,
            Code::InvalidArgument,
            words,
        );
    }
    assert_eq!(app.row_counts().await, rows);
}

#[tokio::test]
async fn three_periods_in_a_row_beyond_tolerance_raise_variance_persistent_once() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(on_actuals())).await;
    let months = [
        ("2026-05-01", "2026-06-02", "217.00"),
        ("2026-06-01", "2026-07-02", "210.00"),
        ("2026-07-01", "2026-08-02", "217.00"),
    ];
    let mut raised = Vec::new();
    for (period, today, amount) in months {
        on(&app, today);
        raised.push(
            report(&app, &provider(PROVIDER), request(period, &[(1, amount)]))
                .await
                .expect("reported")
                .variance_persistent,
        );
    }
    assert_eq!(raised, vec![false, false, true]);
    // June corrected (still beyond tolerance), and April reported late, beyond tolerance
    // too: the same run, longer, not raised again.
    on(&app, "2026-08-03");
    for (period, amount) in [("2026-06-01", "200.00"), ("2026-04-01", "210.00")] {
        let again = report(&app, &provider(PROVIDER), request(period, &[(1, amount)]))
            .await
            .expect("reported");
        assert!(!again.variance_persistent, "{period}");
    }
    let events = app.events_of("variance.persistent").await;
    assert_eq!(events.len(), 1);
    match &events[0].body {
        Some(proto::event::Body::VariancePersistent(variance)) => {
            assert_eq!(variance.person_id, PERSON);
            assert_eq!(
                variance.reason,
                "delivery 30% under plan in each of 3 consecutive periods"
            );
            assert_eq!(variance.from, Some(date("2026-05-01")));
            assert_eq!(variance.to, Some(date("2026-07-31")));
        }
        other => panic!("not a variance: {other:?}"),
    }
}

#[tokio::test]
async fn a_csv_of_delivery_records_each_report_and_names_each_bad_row_by_its_line() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(on_actuals())).await;
    on(&app, "2026-07-02");
    let row = |line: u64, period: &str, plan_line: &str, amount: &str| proto::ActualsRow {
        source_line: line,
        agreement_id: AGREEMENT.to_owned(),
        period_start: period.to_owned(),
        plan_line: plan_line.to_owned(),
        amount: amount.to_owned(),
        hours: String::new(),
    };
    let response = app
        .client()
        .import_actuals(sds_testkit::bearer(
            &provider(PROVIDER),
            proto::ImportActualsRequest {
                rows: vec![
                    row(2, "2026-04-01", "1", "290.00"),
                    row(3, "2026-05-01", "1", "ten pounds"),
                    row(4, "2026-06-01", "7", "300.00"),
                    row(5, "2026-06-31", "1", "300.00"),
                ],
            },
        ))
        .await
        .expect("imported")
        .into_inner();
    assert_eq!(response.recorded.len(), 1);
    assert_eq!(response.recorded[0].period_start, Some(date("2026-04-01")));
    let rejections: Vec<(u64, String)> = response
        .rejections
        .iter()
        .map(|rejection| (rejection.line, rejection.reason.clone()))
        .collect();
    assert_eq!(rejections.len(), 3, "{rejections:?}");
    assert_eq!(rejections[0].0, 3);
    assert!(rejections[0].1.starts_with("amount: "), "{rejections:?}");
    assert_eq!(rejections[1].0, 4);
    assert!(
        rejections[1].1.starts_with("plan_line: plan line 7"),
        "{rejections:?}"
    );
    assert_eq!(rejections[2].0, 5);
    assert!(
        rejections[2].1.starts_with("period_start: "),
        "{rejections:?}"
    );
    let reports: i64 = sqlx::query_scalar("SELECT count(*) FROM actual_report")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(reports, 1);
}
