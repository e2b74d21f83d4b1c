//! One notion of "today" for the whole platform: the calendar date in Scotland
//! (Europe/London), read from a clock that tests and simulations can set.
//!
//! What must stay true: every service asks the same [`Clock`] for the date (never
//! `Utc::now().date_naive()`, which is a day behind in Scotland between midnight and 01:00
//! in summer), and a [`ManualClock`] moves every service's "today" at once.
//!
//! Europe/London is worked out here rather than from a time-zone database: it is UTC in
//! winter and UTC+1 (British Summer Time) from 01:00 UTC on the last Sunday of March to
//! 01:00 UTC on the last Sunday of October, the rule in force since 1996. Dates before
//! 1996 are never "today".

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

/// Where the time comes from: the system, or a hand that tests and simulations move.
#[derive(Clone)]
pub struct Clock {
    source: Source,
}

#[derive(Clone)]
enum Source {
    System,
    Manual(Arc<Mutex<DateTime<Utc>>>),
    /// A file holding an RFC 3339 instant, read at every call, so that several processes
    /// (a test or simulation with each service in its own process) share one hand; the
    /// machine's clock while there is no file. The last instant read is kept while the file
    /// holds no instant (half written).
    File(Arc<(std::path::PathBuf, Mutex<Option<DateTime<Utc>>>)>),
}

impl Clock {
    /// The machine's clock.
    pub fn system() -> Clock {
        Clock {
            source: Source::System,
        }
    }

    /// The time in the file at `path` (an RFC 3339 instant such as
    /// `2026-12-14T12:00:00Z`), read at every call, or the machine's time while there is no
    /// such file: for tests, simulations and the local demo, which run services in separate
    /// processes and move their "today" together. Write the file by
    /// renaming a complete one over it ([`write_clock_file`]).
    pub fn from_file(path: impl Into<std::path::PathBuf>) -> Clock {
        Clock {
            source: Source::File(Arc::new((path.into(), Mutex::new(None)))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.source {
            Source::System => Utc::now(),
            Source::Manual(now) => *now.lock().unwrap_or_else(PoisonError::into_inner),
            Source::File(file) => {
                let (path, last) = &**file;
                let text = match std::fs::read_to_string(path) {
                    Ok(text) => text,
                    // No file: the machine's clock (a demo that laid down its history and
                    // removed the file runs on in real time).
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                        return Utc::now();
                    }
                    // Unreadable for another reason: "today" must not jump to the
                    // machine's day and back, so the last time read stands.
                    Err(_) => String::new(),
                };
                let read = DateTime::parse_from_rfc3339(text.trim())
                    .ok()
                    .map(|at| at.with_timezone(&Utc));
                let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
                match read {
                    Some(at) => {
                        *last = Some(at);
                        at
                    }
                    // Half written by a writer that does not rename: the last time read.
                    None => last.unwrap_or_else(Utc::now),
                }
            }
        }
    }

    /// Today's date in Scotland.
    pub fn today(&self) -> NaiveDate {
        london_date(self.now())
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::System => formatter.write_str("Clock::system"),
            Source::Manual(_) => write!(formatter, "Clock::manual({})", self.now()),
            Source::File(file) => write!(formatter, "Clock::file({})", file.0.display()),
        }
    }
}

/// Sets the time that [`Clock::from_file`] clocks on `path` read: writes a new file beside it
/// and renames it over the old one, so a reader sees the old time or the new, never half.
pub fn write_clock_file(path: &std::path::Path, now: DateTime<Utc>) -> std::io::Result<()> {
    let fresh = path.with_extension("writing");
    std::fs::write(&fresh, now.to_rfc3339())?;
    std::fs::rename(&fresh, path)
}

/// A clock that stands still until moved: give its [`clock`](ManualClock::clock) to the
/// services and move it from the test or simulation.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn at(now: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Arc::new(Mutex::new(now)),
        }
    }

    /// Noon in Scotland on `date`, far from either midnight.
    pub fn on(date: NaiveDate) -> ManualClock {
        let noon = date.and_hms_opt(12, 0, 0).expect("noon exists");
        let utc = Utc.from_utc_datetime(&noon);
        let offset = if is_summer_time(utc) {
            Duration::hours(1)
        } else {
            Duration::zero()
        };
        ManualClock::at(utc - offset)
    }

    pub fn clock(&self) -> Clock {
        Clock {
            source: Source::Manual(Arc::clone(&self.now)),
        }
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

/// The calendar date in Scotland at the instant `at`.
pub fn london_date(at: DateTime<Utc>) -> NaiveDate {
    let offset = if is_summer_time(at) {
        Duration::hours(1)
    } else {
        Duration::zero()
    };
    (at + offset).date_naive()
}

/// Whether British Summer Time is in force at `at`.
fn is_summer_time(at: DateTime<Utc>) -> bool {
    let year = at.year();
    let starts = last_sunday(year, 3)
        .and_hms_opt(1, 0, 0)
        .expect("01:00 exists");
    let ends = last_sunday(year, 10)
        .and_hms_opt(1, 0, 0)
        .expect("01:00 exists");
    let at = at.naive_utc();
    starts <= at && at < ends
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let last_day = NaiveDate::from_ymd_opt(year, month + 1, 1)
        .expect("months 3 and 10 are followed by another")
        .pred_opt()
        .expect("a day before the first");
    let back = last_day.weekday().num_days_from_sunday();
    last_day - Duration::days(i64::from(back))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_clock_reads_the_time_written_and_runs_on_the_machines_clock_without_the_file() {
        let path = std::env::temp_dir().join(format!("sds-clock-{}", std::process::id()));
        let clock = Clock::from_file(&path);
        let noon = Utc
            .with_ymd_and_hms(2026, 12, 14, 12, 0, 0)
            .single()
            .unwrap_or_default();
        write_clock_file(&path, noon).expect("written");
        assert_eq!(clock.now(), noon);
        assert_eq!(
            clock.today(),
            NaiveDate::from_ymd_opt(2026, 12, 14).unwrap_or_default()
        );
        let later = noon + Duration::days(28);
        write_clock_file(&path, later).expect("written");
        assert_eq!(
            clock.clone().today(),
            NaiveDate::from_ymd_opt(2027, 1, 11).unwrap_or_default()
        );
        std::fs::write(&path, "2027-01").expect("half written");
        assert_eq!(
            clock.now(),
            later,
            "the last time read while the file holds none"
        );
        std::fs::remove_file(&path).expect("removed");
        let real = clock.now();
        assert!((Utc::now() - real).num_seconds().abs() < 5, "{real}");
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn summer_time_starts_and_ends_at_one_in_the_morning_utc_on_the_last_sundays() {
        assert_eq!(last_sunday(2026, 3), date("2026-03-29"));
        assert_eq!(last_sunday(2026, 10), date("2026-10-25"));
        assert_eq!(last_sunday(2027, 3), date("2027-03-28"));
        assert!(!is_summer_time(utc("2026-03-29T00:59:59Z")));
        assert!(is_summer_time(utc("2026-03-29T01:00:00Z")));
        assert!(is_summer_time(utc("2026-10-25T00:59:59Z")));
        assert!(!is_summer_time(utc("2026-10-25T01:00:00Z")));
    }

    #[test]
    fn just_after_midnight_in_summer_it_is_already_tomorrow_in_scotland() {
        assert_eq!(london_date(utc("2026-07-14T23:30:00Z")), date("2026-07-15"));
        assert_eq!(london_date(utc("2026-07-14T22:59:59Z")), date("2026-07-14"));
        assert_eq!(london_date(utc("2026-12-31T23:30:00Z")), date("2026-12-31"));
        assert_eq!(london_date(utc("2027-01-01T00:00:00Z")), date("2027-01-01"));
    }

    #[test]
    fn a_manual_clock_moves_every_copy_of_it_at_once() {
        let hand = ManualClock::on(date("2026-04-05"));
        let clock = hand.clock();
        let copy = clock.clone();
        assert_eq!(clock.today(), date("2026-04-05"));
        hand.advance(Duration::days(1));
        assert_eq!(copy.today(), date("2026-04-06"));
        hand.set(utc("2026-07-14T23:30:00Z"));
        assert_eq!(clock.today(), date("2026-07-15"));
    }

    #[test]
    fn noon_on_a_date_is_that_date_in_summer_and_in_winter() {
        for text in [
            "2026-01-10",
            "2026-03-29",
            "2026-06-21",
            "2026-10-25",
            "2026-12-25",
        ] {
            let hand = ManualClock::on(date(text));
            assert_eq!(hand.clock().today(), date(text), "{text}");
        }
    }
}
