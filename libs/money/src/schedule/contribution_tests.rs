//! The person's contribution: a line that accrues like any other and is taken off what the
//! payer owes.

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

fn four_weekly(until: &str, versions: Vec<PlanVersion>) -> ScheduleRequest {
    ScheduleRequest {
        calendar: Calendar::FourWeekly {
            anchor: date("2026-04-06"),
        },
        timing: Timing::Advance,
        payment_lag_days: 0,
        until: date(until),
        versions,
    }
}

fn amounts(schedule: &Schedule) -> Vec<String> {
    schedule
        .instalments
        .iter()
        .map(|instalment| instalment.amount.to_string())
        .collect()
}

#[test]
fn the_schedule_pays_the_budget_net_of_the_contribution() {
    let request = four_weekly(
        "2026-06-28",
        vec![version(
            "2026-04-01",
            vec![
                line("300.00", "2026-04-06", None),
                line("25.50", "2026-04-06", None).contribution(),
            ],
        )],
    );
    let schedule = compute_schedule(&request).unwrap();
    assert_eq!(amounts(&schedule), ["1098.00", "1098.00", "1098.00"]);
    assert_eq!(schedule.closing_settlement, Money::zero());
}

#[test]
fn only_the_net_figure_is_rounded_so_no_penny_is_made_or_lost_between_the_two() {
    // 100.00 less 10.01 is 89.99 a week: 12.855714... a day. Rounding budget and
    // contribution apart would give 100.00 * 9 / 7 = 128.57 less 10.01 * 9 / 7 = 12.87,
    // 115.70; the net accrues 115.70 as well here, but over the whole span only the net is
    // ever rounded, so the periods add up to the rounded net accrual exactly.
    let request = four_weekly(
        "2026-08-31",
        vec![version(
            "2026-04-01",
            vec![
                line("100.00", "2026-04-10", None),
                line("10.01", "2026-04-10", None).contribution(),
            ],
        )],
    );
    let schedule = compute_schedule(&request).unwrap();
    let total: i64 = schedule.instalments.iter().map(|i| i.amount.pence()).sum();
    let last_end = schedule.instalments.last().unwrap().period.end;
    let days = (last_end - date("2026-04-10")).num_days() + 1;
    let net_sevenths = i128::from(8999_i64) * i128::from(days);
    assert_eq!(i128::from(total), sevenths_to_pence(net_sevenths));
    assert_eq!(schedule.instalments[0].amount.to_string(), "308.54");
}

#[test]
fn a_backdated_rise_in_the_contribution_is_recovered_from_the_next_instalment() {
    let request = four_weekly(
        "2026-07-26",
        vec![
            version("2026-04-01", vec![line("300.00", "2026-04-06", None)]),
            // Recorded on 10 May: the person has contributed 20.00 a week since 6 April.
            version(
                "2026-05-10",
                vec![
                    line("300.00", "2026-04-06", None),
                    line("20.00", "2026-04-06", None).contribution(),
                ],
            ),
        ],
    );
    let schedule = compute_schedule(&request).unwrap();
    // Periods of 6 April and 4 May were paid at 1200.00 before the contribution was known;
    // the next one pays 1120.00 less the 160.00 owed back for those two.
    assert_eq!(
        amounts(&schedule),
        ["1200.00", "1200.00", "960.00", "1120.00"]
    );
    assert_eq!(schedule.instalments[2].adjustment.to_string(), "-160.00");
    assert_eq!(schedule.closing_settlement, Money::zero());
}

#[test]
fn a_contribution_above_the_budget_pays_nothing_and_shows_in_the_closing_settlement() {
    let request = four_weekly(
        "2026-05-31",
        vec![version(
            "2026-04-01",
            vec![
                line("50.00", "2026-04-06", None),
                line("60.00", "2026-04-06", None).contribution(),
            ],
        )],
    );
    let schedule = compute_schedule(&request).unwrap();
    assert_eq!(amounts(&schedule), ["0.00", "0.00"]);
    assert_eq!(schedule.closing_settlement.to_string(), "-80.00");
}

#[test]
fn a_contribution_is_taken_off_in_full_when_delivery_is_reported() {
    let request = ScheduleRequest {
        timing: Timing::Arrears,
        payment_lag_days: 7,
        ..four_weekly(
            "2026-05-03",
            vec![version(
                "2026-04-01",
                vec![
                    line("300.00", "2026-04-06", None).flexible(),
                    line("25.00", "2026-04-06", None).contribution().flexible(),
                ],
            )],
        )
    };
    let contribution = &request.versions[0].lines[1];
    assert!(contribution.is_contribution() && !contribution.is_flexible());
    let reported = [ReportedActual {
        period_start: date("2026-04-06"),
        reported_on: date("2026-05-04"),
        amount: Money::parse("900.00").unwrap(),
    }];
    let schedule = compute_schedule_with_actuals(&request, &BTreeMap::new(), &reported).unwrap();
    assert_eq!(amounts(&schedule), ["800.00"]);
}
