//! The live schedule: the schedule rule over a schedule's recorded history, and what a
//! change to that history changes.
//!
//! What must stay true: the live schedule is the schedule rule over
//! [`History::plan_versions`] and what runs actually paid, and nothing else: with every
//! instalment paid as the rule said it is exactly the preview of the same history, and an
//! instalment paid before a change reached payments keeps what it paid while the next
//! unpaid one puts the difference right.

use chrono::{Days, NaiveDate};
use std::collections::BTreeMap;

use sds_money::{
    AccrualLine, Money, Schedule, ScheduleError, ScheduleRequest, compute_schedule_with_actuals,
};

use super::history::History;
use super::terms::ScheduleTerms;

/// How far ahead a schedule is listed when the caller names no date and the agreement has
/// not ended.
pub const DEFAULT_HORIZON_DAYS: u64 = 365;

/// How far past the day a change is recorded the schedule is worked out to find the next
/// instalment: beyond the longest period (a quarter) and the longest payment lag together
/// would be more than needed; a quarter and a little covers the first due date on or after
/// any day.
const NEXT_INSTALMENT_HORIZON_DAYS: u64 = 100;

/// The request the schedule rule answers for `history` through `until`; `None` when no
/// version has any line (nothing is owed).
pub fn schedule_request(
    terms: &ScheduleTerms,
    history: &History,
    until: NaiveDate,
) -> Option<ScheduleRequest> {
    let versions = history.plan_versions();
    let earliest_start = versions
        .iter()
        .flat_map(|version| version.lines.iter().map(AccrualLine::start))
        .min()?;
    Some(ScheduleRequest {
        calendar: terms.calendar(),
        timing: terms.timing(),
        payment_lag_days: terms.payment_lag_days,
        until: until.max(earliest_start),
        versions,
    })
}

/// What runs have paid (or chosen to pay) for a schedule's periods, by period start.
pub type Paid = BTreeMap<NaiveDate, Money>;

/// The schedule through the period containing `until`, the periods in `paid` at what was
/// paid for them: empty when nothing is owed.
pub fn live_schedule(
    terms: &ScheduleTerms,
    history: &History,
    until: NaiveDate,
    paid: &Paid,
) -> Result<Schedule, ScheduleError> {
    match schedule_request(terms, history, until) {
        Some(request) => compute_schedule_with_actuals(&request, paid, &history.actuals),
        None => Ok(Schedule {
            instalments: Vec::new(),
            closing_settlement: Money::zero(),
        }),
    }
}

/// The date a schedule is listed through when the caller gives none: the last day of
/// support once known, else a year from `today`.
pub fn default_until(history: &History, today: NaiveDate) -> NaiveDate {
    let latest = history
        .endings
        .iter()
        .map(|ending| ending.recorded_on)
        .max()
        .unwrap_or(today)
        .max(today);
    history.last_day_known_on(latest).unwrap_or_else(|| {
        today
            .checked_add_days(Days::new(DEFAULT_HORIZON_DAYS))
            .unwrap_or(today)
    })
}

/// What a week costs the payer on `day` under `lines`: the weekly amounts of the lines
/// active that day, less the person's contribution.
pub fn weekly_on(lines: &[AccrualLine], day: NaiveDate) -> Money {
    let pence: i64 = lines
        .iter()
        .filter(|line| line.start() <= day && line.end().is_none_or(|end| day <= end))
        .map(AccrualLine::signed_weekly_pence)
        .fold(0_i64, i64::saturating_add);
    Money::from_pence(pence).unwrap_or_else(|_| Money::zero())
}

/// What a recorded change did to a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSummary {
    pub weekly_before: Money,
    pub weekly_after: Money,
    /// Carried by the next instalment for periods due before the change was recorded.
    pub adjustment: Money,
    /// The first instalment due on or after the day the change was recorded that no run has
    /// paid yet.
    pub next: Option<(NaiveDate, Money)>,
}

/// What recording `after` (the history with the change) did, on the change's
/// `effective_from`, as known on `recorded_on`.
pub fn change_summary(
    terms: &ScheduleTerms,
    before: &History,
    after: &History,
    effective_from: NaiveDate,
    recorded_on: NaiveDate,
    paid: &Paid,
) -> Result<ChangeSummary, ScheduleError> {
    let until = recorded_on
        .checked_add_days(Days::new(NEXT_INSTALMENT_HORIZON_DAYS))
        .unwrap_or(recorded_on);
    let schedule = live_schedule(terms, after, until, paid)?;
    // The next instalment still to pay: due on or after the change, or paid by no run yet.
    let next = schedule.instalments.iter().find(|instalment| {
        instalment.due_date >= recorded_on && !paid.contains_key(&instalment.period.start)
    });
    Ok(ChangeSummary {
        weekly_before: weekly_on(&before.lines_known_on(recorded_on), effective_from),
        weekly_after: weekly_on(&after.lines_known_on(recorded_on), effective_from),
        adjustment: next.map_or_else(Money::zero, |instalment| instalment.adjustment),
        next: next.map(|instalment| (instalment.due_date, instalment.amount)),
    })
}
