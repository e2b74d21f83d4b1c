//! Why input is refused, and the small readers every field goes through.
//!
//! An [`Invalid`] names the field by its path in the request (`details.capacity`,
//! `grades[2].inspected_on`) and says what is wrong and what would be accepted, so the
//! message can be shown to a person as it is. Readers build the error with the field's own
//! name; callers place it inside its parent with [`Invalid::within`].

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Free text fields (names, service types, localities) hold at most this many characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// How much of a refused value is echoed back in a message.
const MAX_ECHOED_CHARS: usize = 40;

/// Input that the directory refuses, with the path of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct Invalid {
    field: String,
    problem: String,
}

impl Invalid {
    /// `problem` reads on from the field name: `is -3; it must be 0 or more`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Invalid {
        Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// Places the field inside `parent`: `capacity` within `details` is `details.capacity`.
    pub fn within(mut self, parent: &str) -> Invalid {
        self.field = format!("{parent}.{}", self.field);
        self
    }

    /// The path of the field at fault.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it, without the field name.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

/// A refused value as it is safe to echo: quoted, escaped and cut short.
pub fn shown(raw: &str) -> String {
    let mut shortened: String = raw.chars().take(MAX_ECHOED_CHARS).collect();
    if shortened.len() < raw.len() {
        shortened.push_str("...");
    }
    format!("{shortened:?}")
}

/// Trimmed text that must be given.
pub fn required_text(field: &str, raw: &str, max_chars: usize) -> Result<String, Invalid> {
    optional_text(field, raw, max_chars)?
        .ok_or_else(|| Invalid::new(field, "is empty; it is required"))
}

/// Trimmed text, `None` when empty. Control characters are refused: every text here is a
/// single line a person reads, and none may smuggle separators into storage or logs.
pub fn optional_text(field: &str, raw: &str, max_chars: usize) -> Result<Option<String>, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let length = text.chars().count();
    if length > max_chars {
        return Err(Invalid::new(
            field,
            format!("is {length} characters long; at most {max_chars} are accepted"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(Invalid::new(
            field,
            "contains a control character such as a tab or line break; use plain text on one line",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// A list of short texts (service types, localities): each entry trimmed and required,
/// repeats that differ only in case dropped, at most `max_items` entries.
pub fn text_list(
    field: &str,
    raw: &[String],
    max_items: usize,
    max_chars: usize,
) -> Result<Vec<String>, Invalid> {
    if raw.len() > max_items {
        return Err(Invalid::new(
            field,
            format!(
                "has {} entries; at most {max_items} are accepted",
                raw.len()
            ),
        ));
    }
    let mut kept: Vec<String> = Vec::with_capacity(raw.len());
    for (index, item) in raw.iter().enumerate() {
        let item_field = format!("{field}[{index}]");
        let text = optional_text(&item_field, item, max_chars)?.ok_or_else(|| {
            Invalid::new(&item_field, "is empty; remove the entry or give it text")
        })?;
        let folded = text.to_lowercase();
        if !kept.iter().any(|earlier| earlier.to_lowercase() == folded) {
            kept.push(text);
        }
    }
    Ok(kept)
}

/// The earliest and latest dates accepted anywhere in the directory.
pub fn earliest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN)
}

pub fn latest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2200, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// A calendar date written `YYYY-MM-DD`, between 1900 and 2200.
pub fn date(field: &str, raw: &str) -> Result<NaiveDate, Invalid> {
    if raw.is_empty() {
        return Err(Invalid::new(
            field,
            "is missing; expected a date as YYYY-MM-DD",
        ));
    }
    let not_a_date = || {
        Invalid::new(
            field,
            format!("{} is not a date; expected YYYY-MM-DD", shown(raw)),
        )
    };
    let bytes = raw.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(index, byte)| index == 4 || index == 7 || byte.is_ascii_digit());
    if !shaped {
        return Err(not_a_date());
    }
    let number = |range: std::ops::Range<usize>| raw[range].parse::<u32>().ok();
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return Err(not_a_date());
    };
    let year = i32::try_from(year).map_err(|_| not_a_date())?;
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(not_a_date)?;
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

/// A plain decimal such as `7.5`: digits, optionally a point and at most `max_places`
/// more digits. No sign, no exponent, no spaces.
pub fn decimal(field: &str, raw: &str, max_places: u32) -> Result<Decimal, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::new(
            field,
            "is empty; expected a number such as 7.5",
        ));
    }
    if text.starts_with('-') {
        return Err(Invalid::new(
            field,
            format!("is {}; it must be 0 or more", shown(text)),
        ));
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    let fraction_given = text.contains('.');
    if whole.is_empty()
        || whole.len() > 12
        || !all_digits(whole)
        || !all_digits(fraction)
        || (fraction_given && fraction.is_empty())
    {
        return Err(Invalid::new(
            field,
            format!(
                "is {}, which is not a number; expected a number such as 7.5",
                shown(text)
            ),
        ));
    }
    let places = u32::try_from(fraction.len()).unwrap_or(u32::MAX);
    if places > max_places {
        return Err(Invalid::new(
            field,
            format!(
                "is {} with {places} decimal places; at most {max_places} are accepted",
                shown(text)
            ),
        ));
    }
    Decimal::from_str(text).map_err(|_| {
        Invalid::new(
            field,
            format!(
                "is {}, which is not a number; expected a number such as 7.5",
                shown(text)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_inside_a_parent_is_named_by_its_path() {
        let error = Invalid::new("capacity", "is -3; it must be 0 or more").within("details");
        assert_eq!(
            error.to_string(),
            "details.capacity is -3; it must be 0 or more"
        );
        assert_eq!(error.field(), "details.capacity");
    }

    #[test]
    fn text_is_trimmed_limited_and_kept_on_one_line() {
        assert_eq!(
            required_text("name", "  Fife Care  ", 200).unwrap(),
            "Fife Care"
        );
        assert!(
            required_text("name", "   ", 200)
                .unwrap_err()
                .problem()
                .contains("empty")
        );
        let long = "x".repeat(201);
        assert!(
            required_text("name", &long, 200)
                .unwrap_err()
                .problem()
                .contains("201 characters")
        );
        assert!(
            optional_text("name", "two\nlines", 200)
                .unwrap_err()
                .problem()
                .contains("control character")
        );
    }

    #[test]
    fn list_entries_repeated_in_another_case_are_kept_once() {
        let raw = vec![
            "Day support".to_owned(),
            "day SUPPORT".to_owned(),
            "Respite".to_owned(),
        ];
        assert_eq!(
            text_list("service_types", &raw, 50, 200).unwrap(),
            vec!["Day support", "Respite"]
        );
        let error = text_list("service_types", &["".to_owned()], 50, 200).unwrap_err();
        assert_eq!(error.field(), "service_types[0]");
    }

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
    fn decimals_are_plain_and_limited_in_places() {
        assert_eq!(decimal("percentage", "7.5", 2).unwrap().to_string(), "7.5");
        assert!(
            decimal("percentage", "7.555", 2)
                .unwrap_err()
                .problem()
                .contains("3 decimal places")
        );
        assert!(
            decimal("percentage", "-1", 2)
                .unwrap_err()
                .problem()
                .contains("0 or more")
        );
        for bad in ["1e3", "7.", ".5", "seven", "1 000", "+5"] {
            assert!(decimal("percentage", bad, 2).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn long_values_are_echoed_cut_short() {
        let echoed = shown(&"a".repeat(1000));
        assert!(echoed.len() < 60, "{echoed}");
    }
}
