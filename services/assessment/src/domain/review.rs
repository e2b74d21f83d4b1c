//! When a plan is next reviewed: the approval date plus the authority's review interval.
//!
//! What must stay true: the due date is never before the approval; a review due "12 months"
//! after 31 January falls on the last day of the month it lands in (28 or 29 February, never
//! 3 March), so a review is never pushed into the following month.

use chrono::{Days, Months, NaiveDate};

use sds_vocabulary::Invalid;

/// At most five years between reviews, in either unit.
pub const MAX_REVIEW_MONTHS: u32 = 60;
pub const MAX_REVIEW_DAYS: u32 = 1826;

/// How long after approval a plan is reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewInterval {
    Months(u32),
    Days(u32),
}

impl ReviewInterval {
    /// Checks the interval; the field is `review_interval`, relative to the policy.
    pub fn validate(self) -> Result<(), Invalid> {
        let (count, most, unit) = match self {
            ReviewInterval::Months(months) => (months, MAX_REVIEW_MONTHS, "months"),
            ReviewInterval::Days(days) => (days, MAX_REVIEW_DAYS, "days"),
        };
        if count == 0 || count > most {
            return Err(Invalid::new(
                "review_interval",
                format!("is {count} {unit}; it must be from 1 to {most} {unit}"),
            ));
        }
        Ok(())
    }
}

/// The date a plan approved on `approved_on` is due for review; `None` only beyond the
/// last date chrono represents.
pub fn review_due_on(approved_on: NaiveDate, interval: ReviewInterval) -> Option<NaiveDate> {
    match interval {
        // chrono clamps to the end of a shorter month, which is the rule we want.
        ReviewInterval::Months(months) => approved_on.checked_add_months(Months::new(months)),
        ReviewInterval::Days(days) => approved_on.checked_add_days(Days::new(u64::from(days))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
    }

    #[test]
    fn a_review_falls_due_the_interval_after_approval_clamped_to_the_month_end() {
        let cases = [
            ("2026-04-15", ReviewInterval::Months(12), "2027-04-15"),
            ("2026-01-31", ReviewInterval::Months(1), "2026-02-28"),
            ("2027-01-31", ReviewInterval::Months(13), "2028-02-29"),
            ("2026-08-31", ReviewInterval::Months(6), "2027-02-28"),
            ("2026-04-15", ReviewInterval::Days(90), "2026-07-14"),
            ("2026-12-31", ReviewInterval::Days(1), "2027-01-01"),
        ];
        for (approved, interval, due) in cases {
            assert_eq!(
                review_due_on(date(approved), interval),
                Some(date(due)),
                "{approved} + {interval:?}"
            );
        }
    }

    #[test]
    fn an_interval_of_nothing_or_more_than_five_years_is_refused() {
        for bad in [
            ReviewInterval::Months(0),
            ReviewInterval::Months(61),
            ReviewInterval::Days(0),
            ReviewInterval::Days(1827),
        ] {
            let error = bad.validate().unwrap_err();
            assert_eq!(error.field(), "review_interval");
        }
        assert!(ReviewInterval::Months(12).validate().is_ok());
        assert!(ReviewInterval::Days(1826).validate().is_ok());
    }
}
