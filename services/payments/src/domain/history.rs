//! A schedule's recorded history, and the plan versions the schedule rule reads from it.
//!
//! Payments keeps every agreed version of an agreement (its lines from its effective date,
//! as known from the day it was recorded) and every end (its last day, as known from the
//! day it was recorded). The schedule rule wants something simpler: for each day something
//! was recorded, the complete set of lines then known. [`History::plan_versions`] makes it:
//! on a day, each known version governs the days from its effective date up to the next
//! higher-numbered known version's effective date, and nothing accrues after the earliest
//! known last day.
//!
//! What must stay true: pure (no clock, no IO), so the live schedule and a preview of the
//! same history are one computation; a day's knowledge never depends on anything recorded
//! after it.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sds_money::{AccrualLine, Money, PlanVersion, ReportedActual};

sds_vocabulary::named_enum! {
    /// What a schedule line pays for.
    pub enum LineKind("schedule line kind") {
        /// A line of the agreement: the person's support.
        Support = "support",
        /// The management fee, paid on top of the budget.
        Fee = "fee",
    }
}

/// A line of an agreed version, as the agreement gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    /// The plan line it funds; 0 for the fee.
    pub plan_line: u32,
    pub support_type: String,
    pub weekly: Money,
    pub start: NaiveDate,
    /// `None` for open-ended.
    pub end: Option<NaiveDate>,
    /// Hours a week, when the line is hours at a rate: delivery may then be reported in
    /// hours, paid at `weekly` per `hours_per_week`.
    pub hours_per_week: Option<rust_decimal::Decimal>,
}

/// An agreed version: from `effective_from`, the agreement's lines are `lines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreedVersion {
    pub version: u32,
    pub effective_from: NaiveDate,
    pub recorded_on: NaiveDate,
    pub lines: Vec<Line>,
}

/// The agreement ends: nothing accrues after `last_day`. An end may be brought forward by a
/// later one with an earlier last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    pub last_day: NaiveDate,
    pub recorded_on: NaiveDate,
}

/// The person's contribution towards their budget from `effective_from`, as known from
/// `recorded_on`: the weekly amount the authority's financial assessment set (0.00 for
/// none). Changed like any line, by a later version from its own effective date; taken off
/// what the schedule pays, on the schedule's own days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContributionVersion {
    pub version: u32,
    pub effective_from: NaiveDate,
    pub recorded_on: NaiveDate,
    pub weekly: Money,
}

/// Everything recorded about one agreement's money.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    pub versions: Vec<AgreedVersion>,
    pub endings: Vec<Ending>,
    /// What the provider reported it delivered, period by period, where payment follows
    /// it; in the order reported (a later report of a period replaces an earlier one).
    pub actuals: Vec<ReportedActual>,
    /// The person's contribution, every version as recorded.
    pub contributions: Vec<ContributionVersion>,
}

impl History {
    /// One plan version for each day something was recorded, in date order: the complete
    /// set of lines known from that day.
    pub fn plan_versions(&self) -> Vec<PlanVersion> {
        let days: BTreeSet<NaiveDate> = self
            .versions
            .iter()
            .map(|version| version.recorded_on)
            .chain(self.endings.iter().map(|ending| ending.recorded_on))
            .chain(self.contributions.iter().map(|change| change.recorded_on))
            .collect();
        days.into_iter()
            .map(|day| PlanVersion {
                recorded_on: day,
                lines: self.lines_known_on(day),
            })
            .collect()
    }

    /// The last day of support as known on `day`, if an end was recorded by then.
    pub fn last_day_known_on(&self, day: NaiveDate) -> Option<NaiveDate> {
        self.endings
            .iter()
            .filter(|ending| ending.recorded_on <= day)
            .map(|ending| ending.last_day)
            .min()
    }

    /// The lines accruing as known on `day`, each cut to the days its version governs.
    /// Support lines are flexible (paid on reported delivery where a period has a report,
    /// which only agreements paid on actuals have); the fee is fixed; the person's
    /// contribution follows, taken off what is owed.
    pub fn lines_known_on(&self, day: NaiveDate) -> Vec<AccrualLine> {
        let agreed = self.agreed_lines_known_on(day);
        let spans = support_spans(
            agreed
                .iter()
                .filter(|(line, accrual)| {
                    line.kind == LineKind::Support && !accrual.weekly_amount().is_zero()
                })
                .map(|(_, accrual)| accrual),
        );
        let mut lines: Vec<AccrualLine> = agreed
            .into_iter()
            .map(|(line, accrual)| match line.kind {
                LineKind::Support => accrual.flexible(),
                LineKind::Fee => accrual,
            })
            .collect();
        lines.extend(self.contribution_lines_known_on(day, &spans));
        lines
    }

    /// The contribution as known on `day`, as lines: each version from its effective date
    /// to the next higher-numbered version's, cut to the days some support is funded
    /// (`spans`, from [`support_spans`]), so the person is never asked for a contribution
    /// while no support is funded (before it starts, after it ends, between two lines).
    pub fn contribution_lines_known_on(
        &self,
        day: NaiveDate,
        spans: &[(NaiveDate, Option<NaiveDate>)],
    ) -> Vec<AccrualLine> {
        let mut known: Vec<&ContributionVersion> = self
            .contributions
            .iter()
            .filter(|change| change.recorded_on <= day)
            .collect();
        known.sort_by_key(|change| change.version);
        let mut lines = Vec::new();
        for (index, change) in known.iter().enumerate() {
            if change.weekly.is_zero() {
                continue;
            }
            let superseded_from = known[index + 1..]
                .iter()
                .map(|later| later.effective_from)
                .min();
            let until = superseded_from.and_then(|from| from.pred_opt());
            for (span_start, span_end) in spans {
                let start = change.effective_from.max(*span_start);
                let end = [until, *span_end].into_iter().flatten().min();
                if end.is_some_and(|end| end < start) {
                    continue;
                }
                // Start is at most end here, and a contribution is never negative.
                if let Ok(accrual) = AccrualLine::new(change.weekly, start, end) {
                    lines.push(accrual.contribution());
                }
            }
        }
        lines
    }

    /// As [`History::lines_known_on`], each with the agreed line it comes from.
    pub fn agreed_lines_known_on(&self, day: NaiveDate) -> Vec<(&Line, AccrualLine)> {
        let mut known: Vec<&AgreedVersion> = self
            .versions
            .iter()
            .filter(|version| version.recorded_on <= day)
            .collect();
        known.sort_by_key(|version| version.version);
        let last_day = self.last_day_known_on(day);
        let mut lines = Vec::new();
        for (index, version) in known.iter().enumerate() {
            // A higher-numbered version takes over from its effective date.
            let superseded_from = known[index + 1..]
                .iter()
                .map(|later| later.effective_from)
                .min();
            let governs_until = [superseded_from.and_then(|from| from.pred_opt()), last_day]
                .into_iter()
                .flatten()
                .min();
            for line in &version.lines {
                let start = line.start.max(version.effective_from);
                let end = [line.end, governs_until].into_iter().flatten().min();
                if end.is_some_and(|end| end < start) {
                    continue;
                }
                // Start is at most end here, and weekly amounts are never negative.
                if let Ok(accrual) = AccrualLine::new(line.weekly, start, end) {
                    lines.push((line, accrual));
                }
            }
        }
        lines
    }

    /// The earliest day any line starts, if any version has a line.
    pub fn earliest_start(&self) -> Option<NaiveDate> {
        self.versions
            .iter()
            .flat_map(|version| {
                version
                    .lines
                    .iter()
                    .map(|line| line.start.max(version.effective_from))
            })
            .min()
    }
}

/// The days on which any of `lines` accrues, as disjoint spans in date order (`None`: open
/// ended); lines that overlap or touch make one span.
pub fn support_spans<'a>(
    lines: impl Iterator<Item = &'a AccrualLine>,
) -> Vec<(NaiveDate, Option<NaiveDate>)> {
    let mut sorted: Vec<(NaiveDate, Option<NaiveDate>)> =
        lines.map(|line| (line.start(), line.end())).collect();
    sorted.sort();
    let mut spans: Vec<(NaiveDate, Option<NaiveDate>)> = Vec::new();
    for (start, end) in sorted {
        match spans.last_mut() {
            Some((_, last_end))
                if last_end.is_none_or(|last_end| {
                    last_end.succ_opt().is_none_or(|next| start <= next)
                }) =>
            {
                *last_end = match (*last_end, end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => spans.push((start, end)),
        }
    }
    spans
}

#[cfg(test)]
mod tests;
