//! The days a run's bank files name: the Bacs processing day and the day payees' banks
//! credit them, the working day after (Bacs's three-day cycle: a file sent on day one is
//! processed on day two and credited on day three).
//!
//! What must stay true: payees are credited on the run's date when it is a working day and
//! far enough ahead, else on the first working day the cycle allows; a file is never dated
//! for a processing day that has already passed. Working days here are Monday to Friday:
//! the UK's bank holidays are not known to the platform, so finance staff choose run dates
//! around them (a file dated for a holiday is refused by Bacs, not paid wrongly).

use chrono::{Datelike, Days, NaiveDate, Weekday};

fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

fn step(day: NaiveDate, forwards: bool) -> NaiveDate {
    let next = if forwards {
        day.checked_add_days(Days::new(1))
    } else {
        day.checked_sub_days(Days::new(1))
    };
    next.unwrap_or(day)
}

/// The first working day after `day`.
pub fn next_working_day(day: NaiveDate) -> NaiveDate {
    let mut next = step(day, true);
    while !is_working_day(next) {
        next = step(next, true);
    }
    next
}

fn previous_working_day(day: NaiveDate) -> NaiveDate {
    let mut previous = step(day, false);
    while !is_working_day(previous) {
        previous = step(previous, false);
    }
    previous
}

/// The processing day and the credit day of a run for `run_date` whose files are written
/// on `today`.
pub fn bacs_days(run_date: NaiveDate, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let mut credit = run_date;
    while !is_working_day(credit) {
        credit = step(credit, true);
    }
    let earliest_processing = next_working_day(today);
    let processing = previous_working_day(credit);
    if processing < earliest_processing {
        (earliest_processing, next_working_day(earliest_processing))
    } else {
        (processing, credit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(iso: &str) -> NaiveDate {
        iso.parse().expect("a date")
    }

    #[test]
    fn payees_are_credited_on_the_run_date_when_the_cycle_allows() {
        // Run for Friday 18 December, written on Monday 14 December.
        assert_eq!(
            bacs_days(day("2026-12-18"), day("2026-12-14")),
            (day("2026-12-17"), day("2026-12-18"))
        );
        // Monday 21 December: processed the Friday before.
        assert_eq!(
            bacs_days(day("2026-12-21"), day("2026-12-14")),
            (day("2026-12-18"), day("2026-12-21"))
        );
    }

    #[test]
    fn a_weekend_run_date_is_credited_the_monday_after() {
        assert_eq!(
            bacs_days(day("2026-12-19"), day("2026-12-14")),
            (day("2026-12-18"), day("2026-12-21"))
        );
    }

    #[test]
    fn a_run_date_too_soon_or_past_is_credited_as_soon_as_a_file_sent_today_can_be() {
        // Written on Thursday 17 December for that day (or an earlier one): processed
        // Friday, credited Monday.
        for run_date in ["2026-12-17", "2026-12-01"] {
            assert_eq!(
                bacs_days(day(run_date), day("2026-12-17")),
                (day("2026-12-18"), day("2026-12-21")),
                "{run_date}"
            );
        }
    }
}
