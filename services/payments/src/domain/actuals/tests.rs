use rust_decimal::Decimal;
use sds_money::Money;
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

use super::*;
use crate::domain::history::{AgreedVersion, Line};
use crate::domain::terms::{Frequency, HoldingModel, PayeeKind};

fn day(iso: &str) -> NaiveDate {
    iso.parse().expect("a date")
}

fn money(text: &str) -> Money {
    Money::parse(text).expect("an amount")
}

fn terms(basis: Basis, timing: PaymentTiming) -> ScheduleTerms {
    ScheduleTerms {
        agreement_id: Uuid::from_u128(1),
        authority: AuthorityId::parse("authority", "fife").expect("an id"),
        person_id: Uuid::from_u128(2),
        provider_id: Uuid::from_u128(3),
        holding_model: HoldingModel::Provider,
        holder_id: None,
        payee_kind: PayeeKind::Provider,
        payee_id: Uuid::from_u128(3),
        frequency: Frequency::Monthly,
        anchor_date: None,
        timing,
        payment_lag_days: 14,
        basis,
        flex_tolerance_percent: Decimal::TEN,
    }
}

fn line(kind: LineKind, plan_line: u32, weekly: &str) -> Line {
    Line {
        kind,
        plan_line,
        support_type: "personal_care".to_owned(),
        weekly: money(weekly),
        start: day("2026-04-01"),
        end: None,
        hours_per_week: None,
    }
}

/// Two support lines of 70.00 and 35.00 a week and a fee of 7.00 a week, from April.
fn history() -> History {
    History {
        versions: vec![AgreedVersion {
            version: 1,
            effective_from: day("2026-04-01"),
            recorded_on: day("2026-03-01"),
            lines: vec![
                line(LineKind::Support, 1, "70.00"),
                line(LineKind::Support, 2, "35.00"),
                line(LineKind::Fee, 0, "7.00"),
            ],
        }],
        endings: vec![],
        actuals: vec![],
        contributions: vec![],
    }
}

fn reported(plan_line: u32, amount: &str) -> ReportedLine {
    ReportedLine {
        plan_line,
        amount: money(amount),
        hours: None,
    }
}

#[test]
fn hours_are_paid_at_the_weekly_amount_per_agreed_hour_rounded_once() {
    let hours = |text: &str| text.parse::<Decimal>().unwrap();
    assert_eq!(
        hours_amount(hours("38.5"), money("210.00"), hours("10")).map(|m| m.to_string()),
        Some("808.50".to_owned())
    );
    // 21.37 an hour for 7.5 hours a week is 160.28 a week (rounded); 3.25 hours of it is
    // 160.28 x 3.25 / 7.5 = 69.4546..., paid 69.45.
    assert_eq!(
        hours_amount(hours("3.25"), money("160.28"), hours("7.5")).map(|m| m.to_string()),
        Some("69.45".to_owned())
    );
    assert_eq!(
        hours_amount(hours("0"), money("160.28"), hours("7.5")),
        Some(Money::zero())
    );
}

fn actuals_terms() -> ScheduleTerms {
    terms(Basis::Actuals, PaymentTiming::Arrears)
}

#[test]
fn a_report_covers_every_support_line_and_is_judged_against_their_plan() {
    // April: line 1 plans 300.00, line 2 150.00 (the fee, 30.00, stays at plan).
    let judged = judge(
        &actuals_terms(),
        &history(),
        day("2026-04-01"),
        &[reported(1, "240.00"), reported(2, "120.00")],
        day("2026-05-02"),
    )
    .expect("judged");
    assert_eq!(judged.reported, money("360.00"));
    assert_eq!(judged.planned, money("450.00"));
    assert_eq!(judged.total, money("360.00"));
    assert_eq!(judged.variance_percent(), Some(Decimal::new(-200, 1)));
    let (path, message) = judge(
        &actuals_terms(),
        &history(),
        day("2026-04-01"),
        &[reported(1, "240.00")],
        day("2026-05-02"),
    )
    .expect_err("a line left out");
    assert_eq!(path, "lines");
    assert!(
        message.contains("plan line 2 is funded in the period and not reported"),
        "{message}"
    );
}

#[test]
fn reports_are_refused_for_agreements_paid_as_planned_and_for_periods_not_over() {
    let refusal = |terms: &ScheduleTerms, start: &str, lines: &[ReportedLine], today: &str| {
        judge(terms, &history(), day(start), lines, day(today)).expect_err("refused")
    };
    let planned = terms(Basis::Scheduled, PaymentTiming::Arrears);
    assert_eq!(
        refusal(&planned, "2026-04-01", &[reported(1, "1.00")], "2026-05-02").0,
        "agreement_id"
    );
    let cases = [
        (
            "2026-04-02",
            vec![reported(1, "1.00")],
            "2026-05-02",
            "period_start",
            "not the first day",
        ),
        (
            "2026-05-01",
            vec![reported(1, "1.00")],
            "2026-05-31",
            "period_start",
            "has not ended",
        ),
        ("2026-04-01", vec![], "2026-05-02", "lines", "empty"),
        (
            "2026-04-01",
            vec![reported(3, "1.00")],
            "2026-05-02",
            "lines[0].plan_line",
            "lines funded then: 1, 2",
        ),
        (
            "2026-04-01",
            vec![reported(1, "1.00"), reported(1, "2.00")],
            "2026-05-02",
            "lines[1].plan_line",
            "twice",
        ),
        (
            "2026-04-01",
            vec![reported(1, "-1.00")],
            "2026-05-02",
            "lines[0].amount",
            "negative",
        ),
        (
            "2026-04-01",
            vec![reported(2, "750.01")],
            "2026-05-02",
            "lines[0].amount",
            "5 times the plan",
        ),
    ];
    for (start, lines, today, field, words) in cases {
        let (path, message) = refusal(&actuals_terms(), start, &lines, today);
        assert_eq!(path, field, "{message}");
        assert!(message.contains(words), "{message}");
    }
}

fn variance(start: &str, end: &str, reported: &str, planned: &str) -> PeriodVariance {
    PeriodVariance {
        period: Period {
            start: day(start),
            end: day(end),
        },
        reported: money(reported),
        planned: money(planned),
    }
}

#[test]
fn three_consecutive_periods_beyond_tolerance_are_a_persistent_run_and_a_gap_breaks_it() {
    let calendar = Calendar::Monthly;
    let ten = Decimal::TEN;
    let april = variance("2026-04-01", "2026-04-30", "210.00", "300.00");
    let may = variance("2026-05-01", "2026-05-31", "217.00", "310.00");
    let june = variance("2026-06-01", "2026-06-30", "210.00", "300.00");
    let june_within = variance("2026-06-01", "2026-06-30", "280.00", "300.00");
    let august = variance("2026-08-01", "2026-08-31", "217.00", "310.00");

    let run = persistent_run(&calendar, &[april, may, june], day("2026-06-01"), ten)
        .expect("a run of three");
    assert_eq!(run, vec![april, may, june]);
    assert_eq!(
        variance_reason(&run),
        "delivery 30% under plan in each of 3 consecutive periods"
    );
    assert_eq!(
        persistent_run(&calendar, &[april, may], day("2026-05-01"), ten),
        None
    );
    assert_eq!(
        persistent_run(
            &calendar,
            &[april, may, june_within],
            day("2026-06-01"),
            ten
        ),
        None,
        "a period within tolerance ends the run"
    );
    assert_eq!(
        persistent_run(&calendar, &[may, june, august], day("2026-08-01"), ten),
        None,
        "July was not reported: August starts a run of its own"
    );
    // May reported again in the middle of the run finds the whole run.
    assert_eq!(
        persistent_run(&calendar, &[april, may, june], day("2026-05-01"), ten),
        Some(vec![april, may, june])
    );
}
