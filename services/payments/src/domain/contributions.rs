//! Collecting the person's contribution: what falls due period by period on the schedule's
//! own calendar, and how far behind the person is.
//!
//! What must stay true: pure (no clock, no IO). A period falls due once, on the schedule's
//! due date for it; its amount is the contribution accrued to the end of the period as known
//! on that date, rounded once, less everything already due, so the dues of any span add up
//! to its rounded accrual exactly and a backdated change is put right on the next period due
//! (negative when it gives back more than that period owes). Arrears count the most recent periods that what
//! is outstanding covers, the oldest first paid off by what was received.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sds_money::{AccrualLine, Period, accrued_sevenths, sevenths_to_pence};

use super::history::History;
use super::terms::ScheduleTerms;

/// A period whose contribution has fallen due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub period: Period,
    pub due_date: NaiveDate,
    /// Pence; negative when it gives back what earlier periods were asked too much.
    pub amount: i64,
}

/// The periods of the schedule whose contribution falls due on or before `through` and is
/// not in `already` (what fell due before, by period start, in pence), in order.
///
/// As the schedule rule does for instalments, a period's contribution is worked out as
/// known on its due date: periods due before a contribution (or a change to it) was known
/// ask nothing more then, and the next period due after it catches them up. So a backdated
/// assessment becomes one catch-up on the next period, never a run of past periods fallen
/// due at once (which would be arrears the day they are asked).
pub fn newly_due(
    terms: &ScheduleTerms,
    history: &History,
    through: NaiveDate,
    already: &BTreeMap<NaiveDate, i64>,
) -> Vec<Due> {
    let contribution_lines = |day: NaiveDate| -> Vec<AccrualLine> {
        history
            .lines_known_on(day)
            .into_iter()
            .filter(AccrualLine::is_contribution)
            .collect()
    };
    let latest = contribution_lines(through);
    let Some(first) = latest
        .iter()
        .map(AccrualLine::start)
        .chain(already.keys().copied())
        .chain(
            history
                .contributions
                .iter()
                .filter(|change| change.recorded_on <= through)
                .flat_map(|change| {
                    contribution_lines(change.recorded_on)
                        .into_iter()
                        .map(|line| line.start())
                        .min()
                }),
        )
        .min()
    else {
        return Vec::new();
    };
    // After the last day any line accrues nothing new: periods beyond it owe only a
    // correction, and only one period is needed to carry it.
    let accrues_until = if latest.iter().all(|line| line.end().is_some()) {
        Some(
            latest
                .iter()
                .filter_map(AccrualLine::end)
                .max()
                .unwrap_or(NaiveDate::MIN),
        )
    } else {
        None
    };
    let calendar = terms.calendar();
    let timing = terms.timing();
    let span_start = calendar.period_containing(first).start;
    let mut dues = Vec::new();
    let mut total_due: i128 = 0;
    for period in calendar.periods(span_start, through) {
        let Some(due_date) = timing.due_date(&period, terms.payment_lag_days) else {
            break;
        };
        if due_date > through {
            break;
        }
        if let Some(amount) = already.get(&period.start) {
            total_due += i128::from(*amount);
            continue;
        }
        // The contribution's accrual counts negative in the schedule rule; here it is owed.
        let known = contribution_lines(due_date);
        let target = -sevenths_to_pence(accrued_sevenths(&known, span_start, period.end));
        let amount = target - total_due;
        let past_the_end = accrues_until.is_some_and(|end| period.start > end);
        if past_the_end && amount == 0 {
            break;
        }
        let Ok(amount) = i64::try_from(amount) else {
            break;
        };
        total_due += i128::from(amount);
        dues.push(Due {
            period,
            due_date,
            amount,
        });
    }
    dues
}

/// How far behind the person is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrears {
    /// Periods unpaid in whole or in part.
    pub periods: u32,
    /// The first day of the oldest of them.
    pub since: NaiveDate,
    /// Pence.
    pub outstanding: i64,
}

/// The arrears when `dues` (period start and pence, in period order) have fallen due and
/// `received` pence have been paid; `None` when nothing is outstanding.
pub fn arrears(dues: &[(NaiveDate, i64)], received: i64) -> Option<Arrears> {
    let outstanding = dues.iter().map(|(_, amount)| amount).sum::<i64>() - received;
    if outstanding <= 0 {
        return None;
    }
    let mut covered = 0_i64;
    let mut periods = 0_u32;
    let mut since = None;
    for (start, amount) in dues.iter().rev() {
        if *amount <= 0 {
            continue;
        }
        covered += amount;
        periods += 1;
        since = Some(*start);
        if covered >= outstanding {
            break;
        }
    }
    since.map(|since| Arrears {
        periods,
        since,
        outstanding,
    })
}

#[cfg(test)]
mod tests;
