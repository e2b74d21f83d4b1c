//! A person's record as the platform keeps it: the minimum the plans, the statistics and
//! the national return need (case reference, display name, date of birth, locality, client
//! groups). The case system stays the record of everything else.
//!
//! What must stay true: one record per case reference within an authority; a date of birth
//! is never in the future; at least one client group.

use chrono::NaiveDate;

use super::person::ClientGroups;
use sds_vocabulary::{Invalid, shown};

/// The longest case reference kept.
pub const MAX_CASE_REFERENCE_CHARS: usize = 50;
/// Dates of birth before this are typing mistakes.
pub const EARLIEST_DATE_OF_BIRTH: (i32, u32, u32) = (1900, 1, 1);

/// The case system's reference: 1-50 printable ASCII characters, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseReference(String);

impl CaseReference {
    pub fn parse(field: &str, raw: &str) -> Result<CaseReference, Invalid> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(Invalid::new(
                field,
                "is empty; give the person's reference in the case system",
            ));
        }
        if text.len() <= MAX_CASE_REFERENCE_CHARS
            && text.bytes().all(|byte| byte.is_ascii_graphic())
        {
            Ok(CaseReference(text.to_owned()))
        } else {
            Err(Invalid::new(
                field,
                format!(
                    "{} is not a case reference; use 1 to {MAX_CASE_REFERENCE_CHARS} letters, digits or punctuation without spaces, such as SW-004512",
                    shown(raw)
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CaseReference {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// What is recorded about a person; every value has passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDetails {
    pub case_reference: CaseReference,
    pub display_name: String,
    pub date_of_birth: NaiveDate,
    pub locality: String,
    pub client_groups: ClientGroups,
}

/// A date of birth from before 1900 or after `today` is a typing mistake.
pub fn ensure_plausible_date_of_birth(
    field: &str,
    date_of_birth: NaiveDate,
    today: NaiveDate,
) -> Result<(), Invalid> {
    let (year, month, day) = EARLIEST_DATE_OF_BIRTH;
    let earliest = NaiveDate::from_ymd_opt(year, month, day).expect("a valid date");
    if date_of_birth > today {
        return Err(Invalid::new(
            field,
            format!("{date_of_birth} is after today ({today}); give the person's date of birth"),
        ));
    }
    if date_of_birth < earliest {
        return Err(Invalid::new(
            field,
            format!("{date_of_birth} is before {earliest}; check the year"),
        ));
    }
    Ok(())
}

/// At least one client group applies to everyone the authority supports.
pub fn ensure_some_client_group(field: &str, groups: &ClientGroups) -> Result<(), Invalid> {
    if groups.is_empty() {
        return Err(Invalid::new(
            field,
            "is empty; give every client group that applies (at least one), such as elderly_frail or other_vulnerable",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_case_reference_is_printable_ascii_without_spaces() {
        assert_eq!(
            CaseReference::parse("r", " SW-004512 ").unwrap().as_str(),
            "SW-004512"
        );
        for bad in ["", "SW 1", "SW\n1", "Søren", &"x".repeat(51)] {
            assert!(CaseReference::parse("r", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_date_of_birth_is_after_1900_and_not_after_today() {
        let today = day("2026-11-28");
        assert!(ensure_plausible_date_of_birth("d", day("1940-03-02"), today).is_ok());
        assert!(ensure_plausible_date_of_birth("d", today, today).is_ok());
        assert!(ensure_plausible_date_of_birth("d", day("2026-11-29"), today).is_err());
        assert!(ensure_plausible_date_of_birth("d", day("1899-12-31"), today).is_err());
    }

    #[test]
    fn someone_supported_belongs_to_at_least_one_client_group() {
        let error = ensure_some_client_group("client_groups", &ClientGroups::new()).unwrap_err();
        assert_eq!(error.field(), "client_groups");
    }
}
