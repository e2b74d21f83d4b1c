//! The 80-character labels around the records. Their layout follows the ANSI tape labels
//! Bacs kept for Standard 18; the fields Bacs gives a meaning are filled, the rest are
//! blank. Positions are 1-based.

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::BacsTotals;
use crate::exports::bank::RunHeader;

/// What the header labels (and EOF1, EOF2, which repeat HDR1, HDR2) are built from.
pub(super) struct Header<'a> {
    sun: &'a str,
    serial: String,
    created: NaiveDate,
    processing: NaiveDate,
}

impl<'a> Header<'a> {
    pub(super) fn new(sun: &'a str, run: &RunHeader) -> Header<'a> {
        Header {
            sun,
            serial: volume_serial(run.run_id),
            created: run.created_at.date_naive(),
            processing: run.processing_date,
        }
    }

    /// 1-4 "VOL1", 5-10 volume serial, 11 accessibility (blank), 12-37 reserved, 38-51
    /// owner identifier (four blanks, the SUN, four blanks), 52-79 reserved, 80 label
    /// standard level "1".
    pub(super) fn vol1(&self) -> String {
        format!("VOL1{}{:31}{}{:32}1", self.serial, "", self.sun, "")
    }

    /// 1-4 label, 5-21 file identifier ("A", SUN, "S", three blanks, SUN), 22-27 set
    /// identifier (the volume serial), 28-31 section "0001", 32-35 sequence "0001", 36-41
    /// generation number and version (blank), 42-47 creation date, 48-53 expiry date, 54
    /// accessibility (blank), 55-60 block count "000000", 61-73 system code and 74-80
    /// reserved (blank).
    pub(super) fn hdr1(&self, label: &str) -> String {
        // The expiry date is the earliest day the file may be overwritten: never before it
        // was created, and kept until the day it is processed.
        let expires = self.processing.max(self.created);
        format!(
            "{label}A{sun}S   {sun}{serial}00010001{:6}{}{} 000000{:20}",
            "",
            julian(self.created),
            julian(expires),
            "",
            sun = self.sun,
            serial = self.serial,
        )
    }

    /// 1-4 label, 5 record format "F" (fixed), 6-10 block length "02000", 11-15 record
    /// length "00100", 16-50 reserved, 51-52 buffer offset "00", 53-80 reserved.
    pub(super) fn hdr2(&self, label: &str) -> String {
        format!("{label}F0200000100{:35}00{:28}", "", "")
    }

    /// 1-4 "UHL1", 5-10 processing day, 11-20 receiving party ("999999" and four blanks:
    /// Bacs itself), 21-22 currency "00" (sterling), 23-28 country "000000", 29-37 work
    /// code "1 DAILY  ", 38-40 file number "001", 41-80 reserved and audit print
    /// identifier (blank).
    pub(super) fn uhl1(&self) -> String {
        format!(
            "UHL1{}999999    000000001 DAILY  001{:40}",
            julian(self.processing),
            ""
        )
    }
}

/// 1-4 "UTL1", 5-17 debit value total, 18-30 credit value total, 31-37 debit count, 38-44
/// credit count (all in pence and counts of records, contra included), 45-80 blank.
pub(super) fn utl1(totals: &BacsTotals) -> String {
    format!(
        "UTL1{:013}{:013}{:07}{:07}{:36}",
        totals.debit_pence, totals.credit_pence, totals.debit_count, totals.credit_count, ""
    )
}

/// A date as Bacs writes it: a space, the year's last two digits and the day of the year
/// (2026-02-01 is " 26032").
pub(super) fn julian(date: NaiveDate) -> String {
    format!(" {:02}{:03}", date.year().rem_euclid(100), date.ordinal())
}

/// The volume serial: six digits, never all zeros (Bacs refuses that), derived from the
/// run id so the file is the same each time the run is finished. Every bit of the id
/// counts (999,999 is odd), so two runs on one day share a serial one time in a million.
pub(super) fn volume_serial(run_id: Uuid) -> String {
    format!("{:06}", run_id.as_u128() % 999_999 + 1)
}
