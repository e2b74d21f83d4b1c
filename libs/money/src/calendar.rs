//! Payment calendars: how time is cut into payment periods (four-weekly from an anchor,
//! quarters of the UK financial year, calendar months) and when a period's instalment is
//! due (in advance at its start, or in arrears after its end plus the payment lag).
//!
//! Periods of one calendar tile time: every date is in exactly one period, and the
//! period after a period starts the day after it ends. At the very ends of chrono's date
//! range a period is cut short at `NaiveDate::MIN` / `NaiveDate::MAX` rather than panic.

use chrono::{Datelike, Days, Months, NaiveDate, TimeDelta};

/// Days in one four-weekly period.
const FOUR_WEEKS_IN_DAYS: i64 = 28;

/// A period of a calendar; both ends are inclusive and `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    /// Number of days in the period, counting both ends.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }
}

/// How an authority cuts time into payment periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Calendar {
    /// 28-day periods counted from the authority's anchor date, in both directions.
    FourWeekly { anchor: NaiveDate },
    /// Quarters of the UK financial year: Apr-Jun, Jul-Sep, Oct-Dec, Jan-Mar.
    Quarterly,
    /// Calendar months.
    Monthly,
}

impl Calendar {
    /// The one period that contains `date`.
    pub fn period_containing(&self, date: NaiveDate) -> Period {
        match *self {
            Calendar::FourWeekly { anchor } => four_weekly_period_containing(anchor, date),
            Calendar::Quarterly => months_period_containing(date, 3),
            Calendar::Monthly => months_period_containing(date, 1),
        }
    }

    /// The period that starts the day after `period` ends, or `None` if `period` ends on
    /// the last date chrono can represent.
    pub fn period_after(&self, period: &Period) -> Option<Period> {
        let next_day = period.end.succ_opt()?;
        Some(self.period_containing(next_day))
    }

    /// Every period from the one containing `from` to the one containing `through`, in
    /// order. Empty if `through` is before `from`.
    pub fn periods(&self, from: NaiveDate, through: NaiveDate) -> Periods {
        let next = (from <= through).then(|| self.period_containing(from));
        Periods {
            calendar: *self,
            next,
            last_start: self.period_containing(through).start,
        }
    }
}

/// Iterator over consecutive periods of a calendar; see [`Calendar::periods`].
#[derive(Debug, Clone)]
pub struct Periods {
    calendar: Calendar,
    next: Option<Period>,
    last_start: NaiveDate,
}

impl Iterator for Periods {
    type Item = Period;

    fn next(&mut self) -> Option<Period> {
        let current = self.next.filter(|period| period.start <= self.last_start)?;
        self.next = self.calendar.period_after(&current);
        Some(current)
    }
}

fn four_weekly_period_containing(anchor: NaiveDate, date: NaiveDate) -> Period {
    let days_from_anchor = (date - anchor).num_days();
    // Floor division, so dates before the anchor fall in periods with negative index.
    let index = days_from_anchor.div_euclid(FOUR_WEEKS_IN_DAYS);
    let first_day_offset = index * FOUR_WEEKS_IN_DAYS;
    let last_day_offset = first_day_offset + FOUR_WEEKS_IN_DAYS - 1;
    let start = add_days(anchor, first_day_offset).unwrap_or(NaiveDate::MIN);
    let end = add_days(anchor, last_day_offset).unwrap_or(NaiveDate::MAX);
    Period { start, end }
}

fn add_days(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    date.checked_add_signed(TimeDelta::try_days(days)?)
}

/// The period of `months_per_period` months containing `date`, where periods start in
/// January (and so, for three months, also in April, July and October).
fn months_period_containing(date: NaiveDate, months_per_period: u32) -> Period {
    let first_month = (date.month0() / months_per_period) * months_per_period + 1;
    let start = date
        .with_day(1)
        .and_then(|first_of_month| first_of_month.with_month(first_month))
        .unwrap_or(date);
    // Adding months only fails past chrono's last date, which is itself a 31 December.
    let end = start
        .checked_add_months(Months::new(months_per_period))
        .and_then(|next_start| next_start.pred_opt())
        .unwrap_or(NaiveDate::MAX);
    Period { start, end }
}

/// When the instalment for a period falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timing {
    /// Due on the first day of the period; the payment lag does not apply.
    Advance,
    /// Due `payment_lag_days` after the last day of the period.
    Arrears,
}

impl Timing {
    /// The due date of `period`, or `None` if it would be past chrono's last date.
    pub fn due_date(self, period: &Period, payment_lag_days: u32) -> Option<NaiveDate> {
        match self {
            Timing::Advance => Some(period.start),
            Timing::Arrears => period
                .end
                .checked_add_days(Days::new(u64::from(payment_lag_days))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
    }

    fn period(start: &str, end: &str) -> Period {
        Period {
            start: date(start),
            end: date(end),
        }
    }

    #[test]
    fn four_weekly_periods_count_28_days_from_the_anchor() {
        let calendar = Calendar::FourWeekly {
            anchor: date("2026-04-06"),
        };
        assert_eq!(
            calendar.period_containing(date("2026-04-20")),
            period("2026-04-06", "2026-05-03")
        );
        assert_eq!(
            calendar.period_containing(date("2026-05-04")),
            period("2026-05-04", "2026-05-31")
        );
        assert_eq!(
            calendar.period_containing(date("2026-08-31")),
            period("2026-08-24", "2026-09-20")
        );
    }

    #[test]
    fn four_weekly_periods_extend_before_the_anchor() {
        let calendar = Calendar::FourWeekly {
            anchor: date("2026-04-06"),
        };
        assert_eq!(
            calendar.period_containing(date("2026-04-05")),
            period("2026-03-09", "2026-04-05")
        );
        assert_eq!(
            calendar.period_containing(date("2026-03-09")),
            period("2026-03-09", "2026-04-05")
        );
        assert_eq!(
            calendar.period_containing(date("2026-03-08")),
            period("2026-02-09", "2026-03-08")
        );
    }

    #[test]
    fn quarters_follow_the_uk_financial_year() {
        let calendar = Calendar::Quarterly;
        assert_eq!(
            calendar.period_containing(date("2026-04-01")),
            period("2026-04-01", "2026-06-30")
        );
        assert_eq!(
            calendar.period_containing(date("2026-09-30")),
            period("2026-07-01", "2026-09-30")
        );
        assert_eq!(
            calendar.period_containing(date("2026-11-20")),
            period("2026-10-01", "2026-12-31")
        );
        assert_eq!(
            calendar.period_containing(date("2027-02-28")),
            period("2027-01-01", "2027-03-31")
        );
    }

    #[test]
    fn months_are_calendar_months_including_leap_february() {
        let calendar = Calendar::Monthly;
        assert_eq!(
            calendar.period_containing(date("2028-02-15")),
            period("2028-02-01", "2028-02-29")
        );
        assert_eq!(
            calendar.period_after(&period("2028-12-01", "2028-12-31")),
            Some(period("2029-01-01", "2029-01-31"))
        );
    }

    #[test]
    fn periods_run_from_the_one_containing_the_first_date_to_the_one_containing_the_last() {
        let periods: Vec<Period> = Calendar::Quarterly
            .periods(date("2026-05-10"), date("2027-01-01"))
            .collect();
        assert_eq!(
            periods,
            vec![
                period("2026-04-01", "2026-06-30"),
                period("2026-07-01", "2026-09-30"),
                period("2026-10-01", "2026-12-31"),
                period("2027-01-01", "2027-03-31"),
            ]
        );
        assert_eq!(
            Calendar::Monthly
                .periods(date("2026-05-10"), date("2026-05-01"))
                .count(),
            0
        );
    }

    #[test]
    fn advance_is_due_at_the_start_and_arrears_after_the_end_plus_the_lag() {
        let quarter = period("2026-04-01", "2026-06-30");
        assert_eq!(
            Timing::Advance.due_date(&quarter, 14),
            Some(date("2026-04-01"))
        );
        assert_eq!(
            Timing::Arrears.due_date(&quarter, 14),
            Some(date("2026-07-14"))
        );
        assert_eq!(
            Timing::Arrears.due_date(&quarter, 0),
            Some(date("2026-06-30"))
        );
    }

    #[test]
    fn periods_at_the_ends_of_the_date_range_are_cut_short_instead_of_panicking() {
        let calendar = Calendar::FourWeekly {
            anchor: date("2026-04-06"),
        };
        let last = calendar.period_containing(NaiveDate::MAX);
        assert_eq!(last.end, NaiveDate::MAX);
        assert_eq!(calendar.period_after(&last), None);
        assert_eq!(
            calendar.period_containing(NaiveDate::MIN).start,
            NaiveDate::MIN
        );
        let last_month = Calendar::Monthly.period_containing(NaiveDate::MAX);
        assert_eq!(last_month.end, NaiveDate::MAX);
        assert_eq!(
            Timing::Arrears.due_date(&last_month, 1),
            None,
            "a due date past the last representable date is reported, not wrapped"
        );
    }
}
