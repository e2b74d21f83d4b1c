//! The days of the flow, worked out from the day the person accepts an offer, so that a test
//! replays the same history on fixed dates and the local demo lays it down in the weeks
//! before today. With the acceptance on Saturday 28 November 2026 the flow's days are the
//! worked example's: plan from 1 October, first run on 14 December, a variation recorded on
//! 16 December from 1 November, the second run on 11 January 2027.

use chrono::{Datelike, Days, NaiveDate};

/// The authority's four-weekly anchor in the flow (the payments default: Monday 6 April
/// 2026, the first Monday of the 2026/27 financial year).
pub const ANCHOR: NaiveDate = match NaiveDate::from_ymd_opt(2026, 4, 6) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

/// The flow's days, from the day of acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    /// The day the offer is accepted and the agreement signed.
    pub accepted_on: NaiveDate,
}

fn minus(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(days)).unwrap_or(day)
}

fn plus(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(Days::new(days)).unwrap_or(day)
}

impl Calendar {
    pub fn new(accepted_on: NaiveDate) -> Calendar {
        Calendar { accepted_on }
    }

    /// The plan's first day, eight weeks and two days before the acceptance.
    pub fn plan_start(&self) -> NaiveDate {
        minus(self.accepted_on, 58)
    }

    pub fn assessed_on(&self) -> NaiveDate {
        minus(self.plan_start(), 11)
    }

    /// The first day of the financial year of the assessment, when the policy starts.
    pub fn policy_from(&self) -> NaiveDate {
        let assessed = self.assessed_on();
        let year = if assessed.month() >= 4 {
            assessed.year()
        } else {
            assessed.year() - 1
        };
        NaiveDate::from_ymd_opt(year, 4, 1).unwrap_or(assessed)
    }

    pub fn request_closes(&self) -> NaiveDate {
        plus(self.accepted_on, 6)
    }

    pub fn support_starts(&self) -> NaiveDate {
        plus(self.accepted_on, 9)
    }

    /// The first four-weekly period's first day after the acceptance: the first instalment
    /// of an agreement signed then falls due on it, carrying everything owed before.
    pub fn first_run(&self) -> NaiveDate {
        let since = (self.accepted_on - ANCHOR).num_days();
        let periods = since.div_euclid(28) + 1;
        plus(ANCHOR, u64::try_from(periods * 28).unwrap_or(0))
    }

    pub fn variation_recorded(&self) -> NaiveDate {
        plus(self.first_run(), 2)
    }

    /// A month after the plan's start: backdated across paid periods.
    pub fn variation_from(&self) -> NaiveDate {
        plus(self.plan_start(), 31)
    }

    pub fn second_run(&self) -> NaiveDate {
        plus(self.first_run(), 28)
    }

    /// The day the flow ends.
    pub fn last_day(&self) -> NaiveDate {
        self.second_run()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn an_acceptance_on_28_november_2026_gives_the_worked_examples_days() {
        let calendar = Calendar::new(day(2026, 11, 28));
        assert_eq!(calendar.plan_start(), day(2026, 10, 1));
        assert_eq!(calendar.assessed_on(), day(2026, 9, 20));
        assert_eq!(calendar.policy_from(), day(2026, 4, 1));
        assert_eq!(calendar.request_closes(), day(2026, 12, 4));
        assert_eq!(calendar.support_starts(), day(2026, 12, 7));
        assert_eq!(calendar.first_run(), day(2026, 12, 14));
        assert_eq!(calendar.variation_recorded(), day(2026, 12, 16));
        assert_eq!(calendar.variation_from(), day(2026, 11, 1));
        assert_eq!(calendar.second_run(), day(2027, 1, 11));
    }

    #[test]
    fn the_first_run_is_a_period_start_after_the_acceptance_whatever_the_day() {
        for offset in 0..60 {
            let accepted = day(2026, 6, 1) + chrono::Duration::days(offset);
            let first = Calendar::new(accepted).first_run();
            assert!(first > accepted && (first - accepted).num_days() <= 28);
            assert_eq!((first - ANCHOR).num_days() % 28, 0);
        }
    }
}
