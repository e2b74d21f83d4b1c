use super::*;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
}

fn line(weekly: &str, start: &str, end: Option<&str>) -> AccrualLine {
    AccrualLine::new(
        Money::parse(weekly).expect("test amounts are valid"),
        date(start),
        end.map(date),
    )
    .expect("test lines are valid")
}

fn version(recorded_on: &str, lines: Vec<AccrualLine>) -> PlanVersion {
    PlanVersion {
        recorded_on: date(recorded_on),
        lines,
    }
}

#[test]
fn an_instalment_paid_before_a_change_was_known_keeps_its_amount_and_the_next_one_puts_it_right() {
    // 30.00 a day monthly in advance; from 1 May 40.00 a day, known from 20 April,
    // but the May instalment (due 1 May) was paid at the old rate anyway.
    let request = ScheduleRequest {
        calendar: Calendar::Monthly,
        timing: Timing::Advance,
        payment_lag_days: 0,
        until: date("2026-06-01"),
        versions: vec![
            version("2026-03-01", vec![line("210.00", "2026-04-01", None)]),
            version(
                "2026-04-20",
                vec![
                    line("210.00", "2026-04-01", Some("2026-04-30")),
                    line("280.00", "2026-05-01", None),
                ],
            ),
        ],
    };
    let as_the_rule_says = compute_schedule(&request).expect("a schedule");
    assert_eq!(
        as_the_rule_says.instalments[1].amount.to_string(),
        "1240.00"
    );
    let paid = BTreeMap::from([
        (date("2026-04-01"), Money::parse("900.00").unwrap()),
        (date("2026-05-01"), Money::parse("930.00").unwrap()),
    ]);
    let schedule = compute_schedule_with_paid(&request, &paid).expect("a schedule");
    assert_eq!(
        table(&schedule)
            .into_iter()
            .map(|(start, _, base, adjustment, amount)| format!(
                "{start} {base} {adjustment} {amount}"
            ))
            .collect::<Vec<_>>(),
        vec![
            "2026-04-01 900.00 0.00 900.00",
            "2026-05-01 1240.00 -310.00 930.00",
            "2026-06-01 1200.00 310.00 1510.00",
        ]
    );
    // Paid exactly as the rule says, the two agree.
    let paid_as_computed: BTreeMap<NaiveDate, Money> = as_the_rule_says
        .instalments
        .iter()
        .map(|instalment| (instalment.period.start, instalment.amount))
        .collect();
    assert_eq!(
        compute_schedule_with_paid(&request, &paid_as_computed).expect("a schedule"),
        as_the_rule_says
    );
}

/// (start, due, base, adjustment, amount) per instalment, as text.
fn table(schedule: &Schedule) -> Vec<(String, String, String, String, String)> {
    schedule
        .instalments
        .iter()
        .map(|i| {
            (
                i.period.start.to_string(),
                i.due_date.to_string(),
                i.base.to_string(),
                i.adjustment.to_string(),
                i.amount.to_string(),
            )
        })
        .collect()
}

fn row(
    start: &str,
    due: &str,
    base: &str,
    adj: &str,
    amount: &str,
) -> (String, String, String, String, String) {
    (
        start.into(),
        due.into(),
        base.into(),
        adj.into(),
        amount.into(),
    )
}

#[test]
fn a_backdated_increase_is_topped_up_on_the_next_instalment() {
    let request = ScheduleRequest {
        calendar: Calendar::FourWeekly {
            anchor: date("2026-04-06"),
        },
        timing: Timing::Advance,
        payment_lag_days: 0,
        until: date("2026-08-31"),
        versions: vec![
            version(
                "2026-06-10",
                vec![
                    line("210.00", "2026-04-20", Some("2026-05-17")),
                    line("280.00", "2026-05-18", None),
                ],
            ),
            version("2026-04-01", vec![line("210.00", "2026-04-20", None)]),
        ],
    };
    let schedule = compute_schedule(&request).unwrap();
    assert_eq!(
        table(&schedule),
        vec![
            row("2026-04-06", "2026-04-06", "420.00", "0.00", "420.00"),
            row("2026-05-04", "2026-05-04", "840.00", "0.00", "840.00"),
            row("2026-06-01", "2026-06-01", "840.00", "0.00", "840.00"),
            row("2026-06-29", "2026-06-29", "1120.00", "420.00", "1540.00"),
            row("2026-07-27", "2026-07-27", "1120.00", "0.00", "1120.00"),
            row("2026-08-24", "2026-08-24", "1120.00", "0.00", "1120.00"),
        ]
    );
    assert_eq!(schedule.closing_settlement, Money::zero());
}

#[test]
fn a_line_ended_after_the_fact_leaves_a_recovery_from_the_payee() {
    let request = ScheduleRequest {
        calendar: Calendar::Quarterly,
        timing: Timing::Arrears,
        payment_lag_days: 14,
        until: date("2026-12-31"),
        versions: vec![
            version("2026-04-01", vec![line("100.00", "2026-04-01", None)]),
            version(
                "2026-11-20",
                vec![line("100.00", "2026-04-01", Some("2026-08-31"))],
            ),
        ],
    };
    let schedule = compute_schedule(&request).unwrap();
    assert_eq!(
        table(&schedule),
        vec![
            row("2026-04-01", "2026-07-14", "1300.00", "0.00", "1300.00"),
            row("2026-07-01", "2026-10-14", "1314.29", "0.00", "1314.29"),
            row("2026-10-01", "2027-01-14", "0.00", "0.00", "0.00"),
        ]
    );
    assert_eq!(schedule.closing_settlement.to_string(), "-428.58");
}

#[test]
fn periods_due_before_any_version_was_recorded_pay_nothing_and_are_caught_up_later() {
    let request = ScheduleRequest {
        calendar: Calendar::Monthly,
        timing: Timing::Advance,
        payment_lag_days: 0,
        until: date("2026-06-30"),
        versions: vec![version(
            "2026-05-15",
            vec![line("70.00", "2026-04-01", None)],
        )],
    };
    let schedule = compute_schedule(&request).unwrap();
    assert_eq!(
        table(&schedule),
        vec![
            row("2026-04-01", "2026-04-01", "0.00", "0.00", "0.00"),
            row("2026-05-01", "2026-05-01", "0.00", "0.00", "0.00"),
            row("2026-06-01", "2026-06-01", "300.00", "610.00", "910.00"),
        ]
    );
    assert_eq!(schedule.closing_settlement, Money::zero());
}

#[test]
fn a_recovery_larger_than_the_next_instalment_is_carried_forward() {
    // 700 a week in advance, then on 2026-06-20 it is recorded that from 2026-05-01
    // it was only 350 a week: July pays nothing and August only what is left over.
    let request = ScheduleRequest {
        calendar: Calendar::Monthly,
        timing: Timing::Advance,
        payment_lag_days: 0,
        until: date("2026-12-31"),
        versions: vec![
            version("2026-04-01", vec![line("700.00", "2026-04-01", None)]),
            version(
                "2026-06-20",
                vec![
                    line("700.00", "2026-04-01", Some("2026-04-30")),
                    line("350.00", "2026-05-01", None),
                ],
            ),
        ],
    };
    let schedule = compute_schedule(&request).unwrap();
    let amounts: Vec<String> = schedule
        .instalments
        .iter()
        .map(|i| i.amount.to_string())
        .collect();
    assert_eq!(
        amounts,
        [
            "3000.00", "3100.00", "3000.00", "0.00", "50.00", "1500.00", "1550.00", "1500.00",
            "1550.00"
        ]
    );
    assert!(schedule.instalments.iter().all(|i| !i.amount.is_negative()));
    assert_eq!(schedule.closing_settlement, Money::zero());
}

#[test]
fn a_history_that_is_empty_or_has_a_repeated_date_is_refused() {
    let mut request = ScheduleRequest {
        calendar: Calendar::Monthly,
        timing: Timing::Advance,
        payment_lag_days: 0,
        until: date("2026-06-30"),
        versions: vec![],
    };
    assert_eq!(compute_schedule(&request), Err(ScheduleError::NoVersions));
    request.versions = vec![version("2026-04-01", vec![])];
    assert_eq!(compute_schedule(&request), Err(ScheduleError::NoLines));
    request.versions = vec![
        version("2026-04-01", vec![line("1", "2026-04-01", None)]),
        version("2026-04-01", vec![]),
    ];
    assert_eq!(
        compute_schedule(&request),
        Err(ScheduleError::DuplicateRecordedOn {
            recorded_on: date("2026-04-01")
        })
    );
    request.versions = vec![version("2026-04-01", vec![line("1", "2026-07-01", None)])];
    assert!(matches!(
        compute_schedule(&request),
        Err(ScheduleError::UntilBeforeEarliestStart { .. })
    ));
}
