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
//!
//! Where payment follows reported delivery (actuals, only in arrears), a period's planned
//! accrual of the *flexible* lines is replaced by what was reported for them, once known:
//! the amount owed to the end of period k is the rounded accrual of every line under the
//! version known on k's due date, plus, for every period up to k with a report known by
//! then, the report minus that period's accrual of the flexible lines under the same
//! version (cumulatively rounded, as a base is). Fixed lines (a fee) stay at plan, and
//! follow a backdated change like any line. A report that arrives after its period was
//! paid is put right on the next instalment, as a late variation is.
//!
//! A *contribution* line (what the person pays towards their budget) accrues in the same
//! way and counts negative: the owed figures are the net of budget and contribution, exact
//! in pence-sevenths and rounded once, so the payer pays the budget net of the contribution
//! without a penny made or lost by rounding the two apart. A contribution above the budget
//! leaves instalments at zero and shows in the closing settlement.

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

/// What a provider reported it delivered in one period on the flexible lines (all of them
/// together), and the day the report was made. A later report of the same period replaces
/// an earlier one from its own day on; of two made the same day, the later in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportedActual {
    pub period_start: NaiveDate,
    pub reported_on: NaiveDate,
    pub amount: Money,
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
    compute_schedule_with_actuals(request, paid, &[])
}

/// The schedule rule where payment follows reported delivery for the periods in `actuals`
/// (see the module documentation); with no actuals this is [`compute_schedule_with_paid`].
pub fn compute_schedule_with_actuals(
    request: &ScheduleRequest,
    paid: &BTreeMap<NaiveDate, Money>,
    actuals: &[ReportedActual],
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
    // The periods listed so far that have a report: start, end, and the end of the period
    // before (where the period's own accrual starts).
    let mut reported_periods: Vec<(NaiveDate, NaiveDate, Option<NaiveDate>)> = Vec::new();
    for period in request.calendar.periods(earliest_start, request.until) {
        if actuals
            .iter()
            .any(|actual| actual.period_start == period.start)
        {
            reported_periods.push((period.start, period.end, previous_period_end));
        }
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
                let owed = Owed::new(&version.lines, span_start);
                let owed_to_date = owed.with_reports(
                    period.end,
                    reported_periods.iter().filter_map(|(start, end, before)| {
                        actual_known_on(actuals, *start, due_date)
                            .map(|reported| (reported, *end, *before))
                    }),
                );
                let owed_before = owed.with_reports_before(
                    previous_period_end,
                    reported_periods.iter().filter_map(|(start, end, before)| {
                        actual_known_on(actuals, *start, due_date)
                            .filter(|_| *start != period.start)
                            .map(|reported| (reported, *end, *before))
                    }),
                );
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
            let owed = Owed::new(&latest.lines, span_start).with_reports(
                last_end,
                reported_periods.iter().filter_map(|(start, end, before)| {
                    actual_known_on(actuals, *start, NaiveDate::MAX)
                        .map(|reported| (reported, *end, *before))
                }),
            );
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

/// What a version owes over a span, in pence: every line's accrual, with the flexible
/// lines' planned accrual of each reported period replaced by its report.
struct Owed<'a> {
    lines: &'a [AccrualLine],
    flexible: Vec<AccrualLine>,
    span_start: NaiveDate,
}

impl<'a> Owed<'a> {
    fn new(lines: &'a [AccrualLine], span_start: NaiveDate) -> Owed<'a> {
        Owed {
            lines,
            flexible: lines
                .iter()
                .filter(|line| line.is_flexible())
                .cloned()
                .collect(),
            span_start,
        }
    }

    fn rounded_through(
        lines: &[AccrualLine],
        span_start: NaiveDate,
        end: Option<NaiveDate>,
    ) -> i128 {
        end.map_or(0, |end| {
            sevenths_to_pence(accrued_sevenths(lines, span_start, end))
        })
    }

    /// Owed to the end of `end`, given reports of periods (report, period end, end of the
    /// period before) that all end on or before it.
    fn with_reports(
        &self,
        end: NaiveDate,
        reports: impl Iterator<Item = (Money, NaiveDate, Option<NaiveDate>)>,
    ) -> i128 {
        let mut owed = Self::rounded_through(self.lines, self.span_start, Some(end));
        for (reported, period_end, before) in reports {
            let planned = Self::rounded_through(&self.flexible, self.span_start, Some(period_end))
                - Self::rounded_through(&self.flexible, self.span_start, before);
            owed += i128::from(reported.pence()) - planned;
        }
        owed
    }

    /// As [`Owed::with_reports`], through `end` when there is one (nothing before the first
    /// period).
    fn with_reports_before(
        &self,
        end: Option<NaiveDate>,
        reports: impl Iterator<Item = (Money, NaiveDate, Option<NaiveDate>)>,
    ) -> i128 {
        end.map_or(0, |end| self.with_reports(end, reports))
    }
}

/// The latest report of the period starting `period_start` made on or before `date`.
fn actual_known_on(
    actuals: &[ReportedActual],
    period_start: NaiveDate,
    date: NaiveDate,
) -> Option<Money> {
    actuals
        .iter()
        .filter(|actual| actual.period_start == period_start && actual.reported_on <= date)
        .max_by_key(|actual| actual.reported_on)
        .map(|actual| actual.amount)
}

/// The latest version recorded on or before `date`, if any.
fn version_known_on<'a>(sorted: &[&'a PlanVersion], date: NaiveDate) -> Option<&'a PlanVersion> {
    let known = sorted.partition_point(|version| version.recorded_on <= date);
    known.checked_sub(1).map(|index| sorted[index])
}

#[cfg(test)]
mod actuals_tests;
#[cfg(test)]
mod contribution_tests;
#[cfg(test)]
mod tests;
