//! The payment-schedule rule: given a calendar, a timing and the history of a plan
//! (each version the complete set of lines as known from the day it was recorded), the
//! instalment for every period and the settlement left over at the end.
//!
//! The rule, assuming every instalment is paid on its due date:
//! `amount_k = max(0, round(accrual of periods 1..k under the version known on the due
//! date of k) - total paid before k)`. Backdated variations therefore show up as an
//! adjustment on the next instalment; a recovery larger than an instalment is carried
//! forward, and whatever is still owed either way at the end is the closing settlement.
//! Pure: no clock, no IO, so the payments service and the preview share it.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::accrual::{AccrualLine, accrued_sevenths, money_from_pence, sevenths_to_pence};
use crate::calendar::{Calendar, Period, Timing};
use crate::money::{Money, MoneyError};

/// The complete set of lines of a plan as known from `recorded_on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    pub recorded_on: NaiveDate,
    pub lines: Vec<AccrualLine>,
}

/// Everything the schedule rule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRequest {
    pub calendar: Calendar,
    pub timing: Timing,
    /// Days after a period's end that an arrears instalment falls due; unused in advance.
    pub payment_lag_days: u32,
    /// The schedule lists periods through the one containing this date.
    pub until: NaiveDate,
    /// In any order; no two may share a `recorded_on` date.
    pub versions: Vec<PlanVersion>,
}

/// The instalment for one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instalment {
    pub period: Period,
    pub due_date: NaiveDate,
    /// What this period itself accrues under the version in force on the due date
    /// (cumulative rounding).
    pub base: Money,
    /// Top-up (positive) or recovery (negative) for earlier periods: `amount - base`.
    pub adjustment: Money,
    /// What is paid on the due date; never negative.
    pub amount: Money,
}

/// The instalments of every listed period and the closing settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub instalments: Vec<Instalment>,
    /// Rounded accrual of all listed periods under the latest version, minus everything
    /// paid. Negative means the payee owes money back.
    pub closing_settlement: Money,
}

/// Why a schedule cannot be worked out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the plan has no versions; give at least one")]
    NoVersions,
    #[error("no version of the plan has any lines; give at least one line")]
    NoLines,
    #[error("two versions are recorded on {recorded_on}; each version needs its own date")]
    DuplicateRecordedOn { recorded_on: NaiveDate },
    #[error("until {until} is before the earliest line start {earliest_start}")]
    UntilBeforeEarliestStart {
        until: NaiveDate,
        earliest_start: NaiveDate,
    },
    #[error("the due date of the period starting {period_start} is beyond the last supported date")]
    DueDateOutOfRange { period_start: NaiveDate },
    #[error("{0}; shorten the span or lower the weekly amounts")]
    AmountOutOfRange(#[from] MoneyError),
}

/// Applies the schedule rule; see the module documentation.
pub fn compute_schedule(request: &ScheduleRequest) -> Result<Schedule, ScheduleError> {
    compute_schedule_with_paid(request, &BTreeMap::new())
}

/// The schedule rule where some instalments have already been paid: `paid` holds what was
/// actually paid for each period so paid, by its start. A paid period keeps its amount
/// (its adjustment is what it paid beyond its base), and every later instalment is worked
/// out against the total actually paid, so anything learnt after an instalment was paid
/// (a variation that reached the payer late) is put right on the next unpaid one. With
/// nothing paid, or everything paid as the rule said, this is [`compute_schedule`].
pub fn compute_schedule_with_paid(
    request: &ScheduleRequest,
    paid: &BTreeMap<NaiveDate, Money>,
) -> Result<Schedule, ScheduleError> {
    let versions = versions_in_recorded_order(&request.versions)?;
    let earliest_start = versions
        .iter()
        .flat_map(|version| version.lines.iter().map(AccrualLine::start))
        .min()
        .ok_or(ScheduleError::NoLines)?;
    if request.until < earliest_start {
        return Err(ScheduleError::UntilBeforeEarliestStart {
            until: request.until,
            earliest_start,
        });
    }
    let span_start = request.calendar.period_containing(earliest_start).start;

    let mut instalments = Vec::new();
    // Everything in pence, exactly, until the figures are turned into `Money`.
    let mut total_paid: i128 = 0;
    let mut previous_period_end: Option<NaiveDate> = None;
    for period in request.calendar.periods(earliest_start, request.until) {
        let due_date = request
            .timing
            .due_date(&period, request.payment_lag_days)
            .ok_or(ScheduleError::DueDateOutOfRange {
                period_start: period.start,
            })?;
        let (base, amount) = match version_known_on(&versions, due_date) {
            // Nothing was known yet: pay nothing now; a later instalment catches up.
            None => (0, 0),
            Some(version) => {
                let rounded_through = |end: Option<NaiveDate>| match end {
                    Some(end) => {
                        sevenths_to_pence(accrued_sevenths(&version.lines, span_start, end))
                    }
                    None => 0,
                };
                let owed_to_date = rounded_through(Some(period.end));
                let owed_before = rounded_through(previous_period_end);
                (
                    owed_to_date - owed_before,
                    (owed_to_date - total_paid).max(0),
                )
            }
        };
        let amount = paid
            .get(&period.start)
            .map_or(amount, |paid| i128::from(paid.pence()));
        total_paid += amount;
        previous_period_end = Some(period.end);
        instalments.push(Instalment {
            period,
            due_date,
            base: money_from_pence(base)?,
            adjustment: money_from_pence(amount - base)?,
            amount: money_from_pence(amount)?,
        });
    }

    let closing_settlement = match (versions.last(), previous_period_end) {
        (Some(latest), Some(last_end)) => {
            let owed = sevenths_to_pence(accrued_sevenths(&latest.lines, span_start, last_end));
            money_from_pence(owed - total_paid)?
        }
        _ => Money::zero(),
    };
    Ok(Schedule {
        instalments,
        closing_settlement,
    })
}

/// The versions sorted by `recorded_on`, refusing an empty history or a repeated date.
fn versions_in_recorded_order(
    versions: &[PlanVersion],
) -> Result<Vec<&PlanVersion>, ScheduleError> {
    if versions.is_empty() {
        return Err(ScheduleError::NoVersions);
    }
    let mut sorted: Vec<&PlanVersion> = versions.iter().collect();
    sorted.sort_by_key(|version| version.recorded_on);
    for pair in sorted.windows(2) {
        if pair[0].recorded_on == pair[1].recorded_on {
            return Err(ScheduleError::DuplicateRecordedOn {
                recorded_on: pair[1].recorded_on,
            });
        }
    }
    Ok(sorted)
}

/// The latest version recorded on or before `date`, if any.
fn version_known_on<'a>(sorted: &[&'a PlanVersion], date: NaiveDate) -> Option<&'a PlanVersion> {
    let known = sorted.partition_point(|version| version.recorded_on <= date);
    known.checked_sub(1).map(|index| sorted[index])
}

#[cfg(test)]
mod tests {
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
    fn an_instalment_paid_before_a_change_was_known_keeps_its_amount_and_the_next_one_puts_it_right()
     {
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
}
