//! Plain decimals (percentages, hours) as people type them.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::invalid::{Invalid, shown};

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
    let not_a_number = || {
        Invalid::new(
            field,
            format!(
                "is {}, which is not a number; expected a number such as 7.5",
                shown(text)
            ),
        )
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    let fraction_given = text.contains('.');
    if whole.is_empty()
        || whole.len() > 12
        || !all_digits(whole)
        || !all_digits(fraction)
        || (fraction_given && fraction.is_empty())
    {
        return Err(not_a_number());
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
    Decimal::from_str(text).map_err(|_| not_a_number())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
