//! Calendar dates as every message carries them: ISO 8601 `YYYY-MM-DD`, written in full.

use chrono::NaiveDate;

use crate::invalid::{Invalid, shown};

/// What a date field expects, for messages.
pub const DATE_EXPECTATION: &str = "expected YYYY-MM-DD";

/// The earliest date accepted in any record.
pub fn earliest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// The latest date accepted in any record.
pub fn latest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2200, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// Strictly `YYYY-MM-DD`: four-digit year, two-digit month and day, a real date; `None`
/// for anything else. No range check: callers bound dates as their domain needs.
pub fn parse_iso_date(raw: &str) -> Option<NaiveDate> {
    let bytes = raw.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    let number = |range: std::ops::Range<usize>| raw.get(range)?.parse::<u32>().ok();
    let year = i32::try_from(number(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

/// The ISO form of a date, as messages carry it.
pub fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A calendar date written `YYYY-MM-DD`, between 1900 and 2200.
pub fn date(field: &str, raw: &str) -> Result<NaiveDate, Invalid> {
    if raw.is_empty() {
        return Err(Invalid::new(
            field,
            "is missing; expected a date as YYYY-MM-DD",
        ));
    }
    let date = parse_iso_date(raw).ok_or_else(|| {
        Invalid::new(
            field,
            format!("{} is not a date; {DATE_EXPECTATION}", shown(raw)),
        )
    })?;
    if date < earliest_date() || date > latest_date() {
        return Err(Invalid::new(
            field,
            format!(
                "{raw} is out of range; dates from {} to {} are accepted",
                earliest_date(),
                latest_date()
            ),
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_exist_and_be_written_in_full() {
        assert_eq!(
            date("expires_on", "2026-02-28").unwrap(),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        assert_eq!(
            date("expires_on", "2026-02-30").unwrap_err().to_string(),
            "expires_on \"2026-02-30\" is not a date; expected YYYY-MM-DD"
        );
        assert!(date("expires_on", "2026-2-3").is_err());
        assert!(date("expires_on", "+026-02-03").is_err());
        assert!(
            date("expires_on", "")
                .unwrap_err()
                .problem()
                .contains("missing")
        );
        assert!(
            date("expires_on", "1899-12-31")
                .unwrap_err()
                .problem()
                .contains("out of range")
        );
        assert!(date("expires_on", "2201-01-01").is_err());
    }

    #[test]
    fn only_the_full_iso_shape_of_a_real_date_parses() {
        assert_eq!(
            parse_iso_date("0001-01-01"),
            NaiveDate::from_ymd_opt(1, 1, 1)
        );
        for bad in [
            "2026-4-01",
            "26-04-01",
            "2026/04/01",
            "2026-02-30",
            "+2026-04-01",
            "2026-04-01 ",
            "",
            "２０２６-04-01",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad:?} parsed");
        }
        assert_eq!(
            iso(NaiveDate::from_ymd_opt(2026, 4, 6).unwrap()),
            "2026-04-06"
        );
    }
}
