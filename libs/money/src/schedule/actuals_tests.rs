//! Payment that follows reported delivery: a report known by its period's due date is what
//! the period pays; one learnt later is put right on the next instalment; the closing
//! settlement counts every report.

use proptest::prelude::*;

use super::*;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
}

fn money(text: &str) -> Money {
    Money::parse(text).expect("test amounts are valid")
}

/// 70.00 a week (10.00 a day) monthly in arrears, due 14 days after each month ends.
fn monthly_arrears(until: &str) -> ScheduleRequest {
    ScheduleRequest {
        calendar: Calendar::Monthly,
        timing: Timing::Arrears,
        payment_lag_days: 14,
        until: date(until),
        versions: vec![PlanVersion {
            recorded_on: date("2026-03-01"),
            lines: vec![
                AccrualLine::new(money("70.00"), date("2026-04-01"), None)
                    .expect("a line")
                    .flexible(),
            ],
        }],
    }
}

fn report(period_start: &str, reported_on: &str, amount: &str) -> ReportedActual {
    ReportedActual {
        period_start: date(period_start),
        reported_on: date(reported_on),
        amount: money(amount),
    }
}

fn rows(schedule: &Schedule) -> Vec<String> {
    schedule
        .instalments
        .iter()
        .map(|instalment| {
            format!(
                "{} {} {} {}",
                instalment.period.start, instalment.base, instalment.adjustment, instalment.amount
            )
        })
        .collect()
}

#[test]
fn a_report_known_by_the_due_date_is_what_the_period_pays() {
    let schedule = compute_schedule_with_actuals(
        &monthly_arrears("2026-05-31"),
        &BTreeMap::new(),
        &[report("2026-04-01", "2026-05-02", "250.00")],
    )
    .expect("a schedule");
    assert_eq!(
        rows(&schedule),
        vec![
            "2026-04-01 250.00 0.00 250.00",
            "2026-05-01 310.00 0.00 310.00"
        ]
    );
    assert_eq!(schedule.closing_settlement, Money::zero());
}

#[test]
fn a_report_learnt_after_its_period_was_paid_is_put_right_on_the_next_instalment() {
    // April (due 14 May) was paid at plan, 300.00; the report of 250.00 came on 20 May.
    let schedule = compute_schedule_with_actuals(
        &monthly_arrears("2026-05-31"),
        &BTreeMap::new(),
        &[report("2026-04-01", "2026-05-20", "250.00")],
    )
    .expect("a schedule");
    assert_eq!(
        rows(&schedule),
        vec![
            "2026-04-01 300.00 0.00 300.00",
            "2026-05-01 310.00 -50.00 260.00"
        ]
    );
}

#[test]
fn a_corrected_report_replaces_the_first_from_its_own_day() {
    let schedule = compute_schedule_with_actuals(
        &monthly_arrears("2026-05-31"),
        &BTreeMap::new(),
        &[
            report("2026-04-01", "2026-05-02", "250.00"),
            report("2026-04-01", "2026-06-01", "280.00"),
        ],
    )
    .expect("a schedule");
    // April paid 250.00 as first reported; May (due 14 June) tops up the correction.
    assert_eq!(
        rows(&schedule),
        vec![
            "2026-04-01 250.00 0.00 250.00",
            "2026-05-01 310.00 30.00 340.00"
        ]
    );
}

#[test]
fn delivery_over_plan_is_paid_and_the_closing_settlement_counts_every_report() {
    let schedule = compute_schedule_with_actuals(
        &monthly_arrears("2026-04-30"),
        &BTreeMap::new(),
        &[report("2026-04-01", "2026-06-01", "330.00")],
    )
    .expect("a schedule");
    // April was paid at plan before the report; 30.00 is still owed at the end.
    assert_eq!(rows(&schedule), vec!["2026-04-01 300.00 0.00 300.00"]);
    assert_eq!(schedule.closing_settlement, money("30.00"));
}

proptest! {
    /// Reports known by every due date make the instalments the reports, and everything
    /// paid plus the closing settlement is what was reported.
    #[test]
    fn with_every_report_on_time_the_instalments_are_the_reports(
        amounts in proptest::collection::vec(0_i64..100_000, 1..12),
        late in proptest::collection::vec(any::<bool>(), 12),
    ) {
        let months: Vec<NaiveDate> = (0..amounts.len())
            .map(|index| {
                date("2026-04-01")
                    .checked_add_months(chrono::Months::new(u32::try_from(index).unwrap()))
                    .unwrap()
            })
            .collect();
        let until = months.last().unwrap().checked_add_months(chrono::Months::new(1)).unwrap()
            - chrono::Days::new(1);
        let request = monthly_arrears(&until.to_string());
        let actuals: Vec<ReportedActual> = months
            .iter()
            .zip(&amounts)
            .enumerate()
            .map(|(index, (month, pence))| ReportedActual {
                period_start: *month,
                // On time: the day after the month ends. Late: 30 days after.
                reported_on: month.checked_add_months(chrono::Months::new(1)).unwrap()
                    + chrono::Days::new(if late[index] { 30 } else { 0 }),
                amount: Money::from_pence(*pence).unwrap(),
            })
            .collect();
        let schedule = compute_schedule_with_actuals(&request, &BTreeMap::new(), &actuals)
            .expect("a schedule");
        let reported: i64 = amounts.iter().sum();
        let paid: i64 = schedule.instalments.iter().map(|i| i.amount.pence()).sum();
        prop_assert_eq!(paid + schedule.closing_settlement.pence(), reported);
        prop_assert!(schedule.instalments.iter().all(|i| !i.amount.is_negative()));
        if late.iter().take(amounts.len()).all(|late| !late) {
            let instalments: Vec<i64> =
                schedule.instalments.iter().map(|i| i.amount.pence()).collect();
            prop_assert_eq!(instalments, amounts);
        }
    }
}

#[test]
fn a_fixed_line_stays_at_plan_and_follows_a_backdated_change_in_a_reported_period() {
    // 70.00 a week flexible and a fee of 7.00 a week fixed; April is reported at 250.00
    // on time and paid; then the fee is raised to 14.00 from 1 April, recorded 20 May.
    let flexible = AccrualLine::new(money("70.00"), date("2026-04-01"), None)
        .expect("a line")
        .flexible();
    let fee = |weekly: &str| AccrualLine::new(money(weekly), date("2026-04-01"), None).unwrap();
    let mut request = monthly_arrears("2026-05-31");
    request.versions = vec![
        PlanVersion {
            recorded_on: date("2026-03-01"),
            lines: vec![flexible.clone(), fee("7.00")],
        },
        PlanVersion {
            recorded_on: date("2026-05-20"),
            lines: vec![flexible, fee("14.00")],
        },
    ];
    let schedule = compute_schedule_with_actuals(
        &request,
        &BTreeMap::new(),
        &[report("2026-04-01", "2026-05-02", "250.00")],
    )
    .expect("a schedule");
    // April: 250.00 reported + 30.00 fee. May (due 14 June): 310.00 + 62.00 fee, and the
    // fee's 30.00 more for April.
    assert_eq!(
        rows(&schedule),
        vec![
            "2026-04-01 280.00 0.00 280.00",
            "2026-05-01 372.00 30.00 402.00"
        ]
    );
}

#[test]
fn a_report_equal_to_the_periods_base_changes_nothing() {
    // 100.00 a week from 1 January: March's cumulative base is 442.85, not 442.86.
    let line = AccrualLine::new(money("100.00"), date("2026-01-01"), None)
        .unwrap()
        .flexible();
    let request = ScheduleRequest {
        calendar: Calendar::Monthly,
        timing: Timing::Arrears,
        payment_lag_days: 14,
        until: date("2026-03-31"),
        versions: vec![PlanVersion {
            recorded_on: date("2025-12-01"),
            lines: vec![line],
        }],
    };
    let planned = compute_schedule(&request).expect("a schedule");
    let march = planned.instalments[2].base;
    let reported = compute_schedule_with_actuals(
        &request,
        &BTreeMap::new(),
        &[ReportedActual {
            period_start: date("2026-03-01"),
            reported_on: date("2026-04-01"),
            amount: march,
        }],
    )
    .expect("a schedule");
    assert_eq!(reported, planned);
}
