//! A UK bank account as finance staff type it, read into the form the bank files need: a
//! six-digit sort code, an eight-digit account number and a name banks accept.
//!
//! What must stay true: nothing unreadable reaches a bank file. A sort code or account
//! number is digits only after the separators people type are removed; an account name
//! keeps only characters Bacs and ISO 20022 both carry (the Bacs writer upper-cases it).
//! Refusals never repeat the digits, so a message logged anywhere carries no bank details.

use crate::domain::modulus::{ModulusTable, ModulusVerdict, check};

/// A bank account read from what was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankDetails {
    pub sort_code: String,
    pub account_number: String,
    pub account_name: String,
}

/// What the modulus check said, as recorded with the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modulus {
    Valid,
    /// The sort code is in no range of the table: no check applies.
    NotChecked,
    /// No table was supplied.
    NoTable,
}

impl Modulus {
    pub fn as_str(self) -> &'static str {
        match self {
            Modulus::Valid => "valid",
            Modulus::NotChecked => "not_checked",
            Modulus::NoTable => "no_table",
        }
    }

    pub fn parse(text: &str) -> Option<Modulus> {
        match text {
            "valid" => Some(Modulus::Valid),
            "not_checked" => Some(Modulus::NotChecked),
            "no_table" => Some(Modulus::NoTable),
            _ => None,
        }
    }
}

/// Six digits; spaces and hyphens between them are ignored.
/// `raw` without the spaces and hyphens people type between digits; `None` when it starts
/// or ends with one (a minus sign is not a separator).
fn without_separators(raw: &str) -> Option<String> {
    let text = raw.trim();
    let digit_ends = text.starts_with(|c: char| c.is_ascii_digit())
        && text.ends_with(|c: char| c.is_ascii_digit());
    digit_ends.then(|| text.chars().filter(|c| !matches!(c, ' ' | '-')).collect())
}

pub fn sort_code(field: &str, raw: &str) -> Result<String, String> {
    let digits = without_separators(raw).unwrap_or_default();
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) && digits != "000000" {
        Ok(digits)
    } else if raw.trim().is_empty() {
        Err(format!(
            "{field}: missing; give the six-digit sort code, such as 12-34-56"
        ))
    } else {
        Err(format!(
            "{field}: not a sort code; expected six digits, such as 12-34-56"
        ))
    }
}

/// Six to eight digits, read with leading zeros to eight. Ten-digit numbers (some building
/// societies) and nine-digit ones are refused: the bank gives an eight-digit number for
/// Bacs (with a roll number where it needs one), and guessing which digits to drop would
/// pay the wrong account.
pub fn account_number(field: &str, raw: &str) -> Result<String, String> {
    let digits = without_separators(raw).unwrap_or_default();
    if !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.is_empty()
        || digits.bytes().all(|b| b == b'0')
    {
        return Err(if raw.trim().is_empty() {
            format!("{field}: missing; give the account number (six to eight digits)")
        } else {
            format!("{field}: not an account number; expected six to eight digits")
        });
    }
    match digits.len() {
        6..=8 => Ok(format!("{digits:0>8}")),
        9 | 10 => Err(format!(
            "{field}: has {} digits; Bacs takes eight: ask the payee for the eight-digit number their bank gives for Bacs credits",
            digits.len()
        )),
        _ => Err(format!(
            "{field}: not an account number; expected six to eight digits"
        )),
    }
}

/// Whether a character may be in an account or paying name.
fn name_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || " .&/'(),-".contains(character)
}

/// 1 to 70 letters, digits, spaces and . & / ' ( ) , -; runs of spaces become one.
pub fn account_name(field: &str, raw: &str) -> Result<String, String> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(format!("{field}: missing; give the name on the account"));
    }
    if name.chars().count() > 70 {
        return Err(format!(
            "{field}: longer than 70 characters; give the name as the bank holds it"
        ));
    }
    if let Some(bad) = name.chars().find(|c| !name_character(*c)) {
        return Err(format!(
            "{field}: {bad:?} cannot go to a bank; use letters, digits, spaces and . & / ' ( ) , -"
        ));
    }
    Ok(name)
}

/// Checks an account against the modulus table, when there is one. `Err` is the refusal.
pub fn modulus_check(
    field: &str,
    table: Option<&ModulusTable>,
    details: &BankDetails,
) -> Result<Modulus, String> {
    let Some(table) = table else {
        return Ok(Modulus::NoTable);
    };
    match check(table, &details.sort_code, &details.account_number) {
        ModulusVerdict::Valid => Ok(Modulus::Valid),
        ModulusVerdict::NotChecked => Ok(Modulus::NotChecked),
        ModulusVerdict::Invalid => Err(format!(
            "{field}: the account number does not pass the modulus check for its sort code; check both with the payee"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sort_code_is_read_with_or_without_separators() {
        for typed in ["123456", "12-34-56", "12 34 56", " 12-34-56 "] {
            assert_eq!(sort_code("s", typed).unwrap(), "123456", "{typed}");
        }
        for typed in [
            "",
            "12345",
            "1234567",
            "12-34-5a",
            "12.34.56",
            "00-00-00",
            "-12-34-56",
        ] {
            let refusal = sort_code("account.sort_code", typed).unwrap_err();
            assert!(refusal.starts_with("account.sort_code: "), "{refusal}");
            assert!(!refusal.contains("12.34"), "echoes the digits: {refusal}");
        }
    }

    #[test]
    fn short_account_numbers_gain_leading_zeros_and_long_ones_are_refused() {
        assert_eq!(account_number("a", "123456").unwrap(), "00123456");
        assert_eq!(account_number("a", "1234567").unwrap(), "01234567");
        assert_eq!(account_number("a", "1234 5678").unwrap(), "12345678");
        for typed in [
            "",
            "12345",
            "123456789",
            "1234567890",
            "1234567a",
            "-1234567",
            "00000000",
        ] {
            let refusal = account_number("account.account_number", typed).unwrap_err();
            assert!(refusal.starts_with("account.account_number: "), "{refusal}");
            assert!(!refusal.contains("12345"), "echoes the digits: {refusal}");
        }
    }

    #[test]
    fn account_names_keep_what_banks_carry_and_refuse_the_rest() {
        assert_eq!(
            account_name("n", "  O'Brien   Care (Scotland) Ltd ").unwrap(),
            "O'Brien Care (Scotland) Ltd"
        );
        assert!(account_name("n", "").is_err());
        assert!(account_name("n", "Caf\u{e9} Care").is_err());
        assert!(account_name("n", "a=1+2").is_err());
        assert!(account_name("n", &"x".repeat(71)).is_err());
    }

    #[test]
    fn without_a_table_the_details_are_recorded_as_unchecked() {
        let details = BankDetails {
            sort_code: "123456".to_owned(),
            account_number: "12345678".to_owned(),
            account_name: "A".to_owned(),
        };
        assert_eq!(
            modulus_check("account", None, &details),
            Ok(Modulus::NoTable)
        );
    }
}
