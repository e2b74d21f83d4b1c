//! The run's progress on standard error: one line rewritten in place on a terminal, else
//! one line per simulated month (and the last day), so a log of a long run stays short.

use std::io::{IsTerminal as _, Write as _};

use chrono::{Datelike as _, NaiveDate};

#[derive(Debug)]
pub struct Progress {
    days: u64,
    in_place: bool,
}

impl Progress {
    pub fn new(days: u64) -> Progress {
        Progress {
            days,
            in_place: std::io::stderr().is_terminal(),
        }
    }

    /// Says where the run is after `done` days, the last of them `day`.
    pub fn day_done(&self, done: u64, day: NaiveDate, events: u64, faults: u64, checks: u64) {
        let line = format!(
            "simulate: day {done}/{} ({day}): {events} events, {faults} faults, {checks} checks passed",
            self.days
        );
        let last = done == self.days;
        let month_end = day
            .succ_opt()
            .is_none_or(|next| next.month() != day.month());
        let mut stderr = std::io::stderr().lock();
        if self.in_place {
            let _ = write!(stderr, "\r\x1b[2K{line}");
            if last {
                let _ = writeln!(stderr);
            }
        } else if last || month_end {
            let _ = writeln!(stderr, "{line}");
        }
        let _ = stderr.flush();
    }

    /// Ends the line in place before something else is said.
    pub fn interrupt(&self) {
        if self.in_place {
            eprintln!();
        }
    }
}
