//! One line of a support plan: a kind of support, its amount, how it is arranged (and so
//! its option), and the days it is active.
//!
//! What must stay true: a line's end is never before its start; a line is active on a date
//! exactly when `start <= date <= end` (no end: from the start on); a line accrues its exact
//! yearly rate over the days it is active and nothing outside them.

use chrono::NaiveDate;

use super::amount::{ExactAccrual, LineAmount};
use super::option::{Arrangement, SdsOption};
use sds_vocabulary::Invalid;

sds_vocabulary::wire_enum! {
    /// The kind of support a line pays for.
    pub enum SupportType("support type") => sds_proto::v1::SupportType {
        PersonalCare = "personal_care",
        DaySupport = "day_support",
        /// Short breaks and respite, usually counted in nights.
        ShortBreaks = "short_breaks",
        SocialSupport = "social_support",
        /// Equipment and one-off purchases.
        Equipment = "equipment",
        /// A carer's wellbeing budget.
        CarerWellbeing = "carer_wellbeing",
        Other = "other",
    }
}

/// A line's number within its plan. It stays with the line across versions; a line changed
/// by a variation is ended and followed by a line with a new number, so every number always
/// means one amount and arrangement.
pub type LineNumber = u32;

/// The days a line is active: from `start` to `end`, both inclusive; no end means open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineSpan {
    start: NaiveDate,
    end: Option<NaiveDate>,
}

impl LineSpan {
    /// Refuses an end before the start; the field is `end`, relative to the line.
    pub fn new(start: NaiveDate, end: Option<NaiveDate>) -> Result<LineSpan, Invalid> {
        if let Some(end) = end
            && end < start
        {
            return Err(Invalid::new(
                "end",
                format!("is {end}, before the start {start}; a line cannot end before it starts"),
            ));
        }
        Ok(LineSpan { start, end })
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    pub fn end(&self) -> Option<NaiveDate> {
        self.end
    }

    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.start <= date && self.end.is_none_or(|end| date <= end)
    }

    /// Days from `from` to `to`, both inclusive, on which the span is active.
    pub fn active_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let first = from.max(self.start);
        let last = match self.end {
            Some(end) => to.min(end),
            None => to,
        };
        if last < first {
            0
        } else {
            (last - first).num_days() + 1
        }
    }

    /// The same span cut to end on `last_day` at the latest; `None` when that leaves no
    /// days at all (the line would never have been active).
    pub fn ended_by(&self, last_day: NaiveDate) -> Option<LineSpan> {
        if last_day < self.start {
            return None;
        }
        let end = match self.end {
            Some(end) => end.min(last_day),
            None => last_day,
        };
        Some(LineSpan {
            start: self.start,
            end: Some(end),
        })
    }
}

/// A support plan line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    pub number: LineNumber,
    pub support_type: SupportType,
    pub amount: LineAmount,
    pub arrangement: Arrangement,
    pub span: LineSpan,
}

impl PlanLine {
    pub fn option(&self) -> SdsOption {
        self.arrangement.option()
    }

    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.span.is_active_on(date)
    }

    /// The exact accrual from `from` to `to`, both inclusive.
    pub fn accrued_between(&self, from: NaiveDate, to: NaiveDate) -> ExactAccrual {
        self.amount
            .yearly_rate()
            .exact_accrual(self.span.active_days_between(from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sds_money::Money;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
    }

    #[test]
    fn a_line_is_active_from_its_start_to_its_end_inclusive() {
        let closed = LineSpan::new(date("2026-04-01"), Some(date("2026-04-30"))).unwrap();
        let open = LineSpan::new(date("2026-04-01"), None).unwrap();
        let cases = [
            (closed, "2026-03-31", false),
            (closed, "2026-04-01", true),
            (closed, "2026-04-30", true),
            (closed, "2026-05-01", false),
            (open, "2026-03-31", false),
            (open, "2026-04-01", true),
            (open, "2099-12-31", true),
        ];
        for (span, on, active) in cases {
            assert_eq!(span.is_active_on(date(on)), active, "{span:?} on {on}");
        }
    }

    #[test]
    fn a_line_cannot_end_before_it_starts_but_may_end_the_day_it_starts() {
        let error = LineSpan::new(date("2026-04-02"), Some(date("2026-04-01"))).unwrap_err();
        assert_eq!(error.field(), "end");
        assert!(
            error.problem().contains("before the start 2026-04-02"),
            "{error}"
        );
        assert!(LineSpan::new(date("2026-04-02"), Some(date("2026-04-02"))).is_ok());
    }

    #[test]
    fn ending_a_span_keeps_the_earlier_end_and_a_span_ended_before_it_starts_vanishes() {
        let span = LineSpan::new(date("2026-04-01"), Some(date("2026-06-30"))).unwrap();
        assert_eq!(
            span.ended_by(date("2026-05-31")).and_then(|s| s.end()),
            Some(date("2026-05-31"))
        );
        assert_eq!(
            span.ended_by(date("2026-12-31")).and_then(|s| s.end()),
            Some(date("2026-06-30"))
        );
        assert_eq!(span.ended_by(date("2026-03-31")), None);
    }

    #[test]
    fn a_line_accrues_only_on_its_active_days() {
        let line = PlanLine {
            number: 1,
            support_type: SupportType::PersonalCare,
            amount: LineAmount::per_week(Money::parse("70.00").unwrap()).unwrap(),
            arrangement: Arrangement::DirectPayment,
            span: LineSpan::new(date("2026-04-10"), Some(date("2026-04-19"))).unwrap(),
        };
        // 10 active days at 10.00 a day.
        let accrued = line.accrued_between(date("2026-04-01"), date("2026-04-30"));
        assert_eq!(accrued.rounded_pence(), 10_000);
    }
}
