//! A run's Bacs Standard 18 file: the fixed-width text a Bacstel-IP package submits to
//! Bacs, for one processing day ("1 DAILY"), paying each credit from the authority's
//! account.
//!
//! The file, line by line (positions below are 1-based, as the Bacs specification and
//! banks' implementation guides number them):
//!
//! ```text
//! VOL1   volume label          80   serial 5-10, SUN 42-47 (in the owner identifier 38-51)
//! HDR1   file header 1         80   "A" SUN "S" ... SUN, serial, creation and expiry dates
//! HDR2   file header 2         80   fixed-length records of 100 characters
//! UHL1   user header           80   processing day " YYDDD", "999999", "1 DAILY  ", file 001
//! credit (code 99), one a payee 100
//! contra (code 17)            100   debits the authority's account with the total
//! EOF1, EOF2                   80   HDR1 and HDR2 again under their own labels
//! UTL1   user trailer          80   debit and credit values and counts
//! ```
//!
//! What must stay true: every label is 80 characters and every record 100, each ending
//! "\r\n"; every field is exactly its width (digits are checked, text is cleaned and cut
//! by [`bacs_text`], amounts are refused when they would not fit); the contra debits the
//! sum of the credits, and the UTL1 values and counts are those of the records above it
//! (contra included), so debits and credits balance. A run finished again writes the same
//! bytes: nothing here reads the clock.

mod labels;
#[cfg(test)]
mod tests;
pub(in crate::exports) mod text;

use std::io;

use super::bank::{Credit, Originator, RunHeader};
pub use text::bacs_text;
use text::{checked_total_within, digits, invalid, originator_account};

/// What the file's UTL1 trailer says it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacsTotals {
    pub credit_count: u64,
    pub credit_pence: i64,
    pub debit_count: u64,
    pub debit_pence: i64,
}

/// Every line ends with CR LF: banks' Standard 18 guides ask for ASCII records each ended
/// by carriage return and line feed, and that is the form every Bacstel-IP package (most
/// run on Windows) reads. Some also take a bare LF, but not all are documented to, and a
/// file refused on the submission day delays every payee in it.
const LINE_END: &str = "\r\n";
const LABEL_LEN: usize = 80;
const RECORD_LEN: usize = 100;

/// The largest amount the 11-digit amount field holds (just under £1bn): a credit, or the
/// contra carrying the sum of them all, above it cannot be written.
const MAX_RECORD_PENCE: i64 = 99_999_999_999;
/// What a UTL1 value field holds (13 digits of pence).
const MAX_FILE_PENCE: i64 = 9_999_999_999_999;
/// The UTL1 counts are 7 digits.
const MAX_COUNT: usize = 9_999_999;

/// Bacs transaction codes.
const DIRECT_CREDIT: &str = "99";
const CONTRA_DEBIT: &str = "17";

/// Writes the whole file: VOL1, HDR1, HDR2, UHL1 (80-character labels), one 100-character
/// standard record per credit (transaction code 99), one contra record (transaction code
/// 17, debiting the originator's account with the total), EOF1, EOF2, UTL1 (totals and
/// counts that match the records).
///
/// Everything is checked before the first byte is written; a refusal is
/// [`io::ErrorKind::InvalidInput`] (no credit, an amount of zero or below or too large for
/// its field, bank details or a service user number that are not digits of their length).
pub fn write_bacs(
    out: &mut impl io::Write,
    originator: &Originator,
    run: &RunHeader,
    credits: &[Credit],
) -> io::Result<BacsTotals> {
    let sun = digits(
        "the authority's service user number",
        &originator.service_user_number,
        6,
    )?;
    let (own_sort_code, own_account) = originator_account(originator)?;
    if credits.len() > MAX_COUNT {
        return Err(invalid(format!(
            "a Bacs file holds at most {MAX_COUNT} credits; split the run"
        )));
    }
    let total = checked_total_within(credits, MAX_RECORD_PENCE, MAX_FILE_PENCE)?;
    // A contra's amount field holds at most 11 digits of pence: a run paying more than
    // that in all has a contra after each group of credits that fits (Bacs balances each
    // group), and the UTL1 counts every contra as a debit.
    let mut groups: Vec<(&[Credit], i64)> = Vec::new();
    let mut first = 0;
    let mut sum = 0_i64;
    for (index, credit) in credits.iter().enumerate() {
        if sum + credit.amount_pence > MAX_RECORD_PENCE {
            groups.push((&credits[first..index], sum));
            first = index;
            sum = 0;
        }
        sum += credit.amount_pence;
    }
    groups.push((&credits[first..], sum));
    let totals = BacsTotals {
        credit_count: credits.len() as u64,
        credit_pence: total,
        debit_count: groups.len() as u64,
        debit_pence: total,
    };

    let header = labels::Header::new(sun, run);
    let service_user_name = bacs_text(&originator.name, 18);
    let mut line = |text: String, len: usize| {
        debug_assert_eq!(text.len(), len, "{text:?}");
        out.write_all(text.as_bytes())?;
        out.write_all(LINE_END.as_bytes())
    };

    line(header.vol1(), LABEL_LEN)?;
    line(header.hdr1("HDR1"), LABEL_LEN)?;
    line(header.hdr2("HDR2"), LABEL_LEN)?;
    line(header.uhl1(), LABEL_LEN)?;
    for (group, group_total) in &groups {
        for credit in *group {
            line(
                record(Record {
                    to_sort_code: &credit.sort_code,
                    to_account: &credit.account_number,
                    code: DIRECT_CREDIT,
                    from_sort_code: own_sort_code,
                    from_account: own_account,
                    pence: credit.amount_pence,
                    service_user_name: &service_user_name,
                    reference: &bacs_text(&credit.reference, 18),
                    to_name: &bacs_text(&credit.account_name, 18),
                }),
                RECORD_LEN,
            )?;
        }
        // The contra takes the total out of the authority's own account: destination and
        // origin are both that account, and its reference is "CONTRA" as Bacs requires.
        line(
            record(Record {
                to_sort_code: own_sort_code,
                to_account: own_account,
                code: CONTRA_DEBIT,
                from_sort_code: own_sort_code,
                from_account: own_account,
                pence: *group_total,
                service_user_name: &service_user_name,
                reference: &bacs_text("CONTRA", 18),
                to_name: &bacs_text(&originator.account_name, 18),
            }),
            RECORD_LEN,
        )?;
    }
    line(header.hdr1("EOF1"), LABEL_LEN)?;
    line(header.hdr2("EOF2"), LABEL_LEN)?;
    line(labels::utl1(&totals), LABEL_LEN)?;
    Ok(totals)
}

/// One 100-character standard or contra record; every text field already cleaned to 18.
struct Record<'a> {
    to_sort_code: &'a str,
    to_account: &'a str,
    code: &'a str,
    from_sort_code: &'a str,
    from_account: &'a str,
    pence: i64,
    service_user_name: &'a str,
    reference: &'a str,
    to_name: &'a str,
}

fn record(r: Record<'_>) -> String {
    // 1-6 destination sort code, 7-14 account, 15 account type "0", 16-17 transaction
    // code, 18-23 originating sort code, 24-31 account, 32-35 free format (blank: no
    // real-time information checksum), 36-46 amount in pence, 47-64 service user's name,
    // 65-82 service user's reference, 83-100 destination account name.
    format!(
        "{}{}0{}{}{}    {:011}{}{}{}",
        r.to_sort_code,
        r.to_account,
        r.code,
        r.from_sort_code,
        r.from_account,
        r.pence,
        r.service_user_name,
        r.reference,
        r.to_name,
    )
}
