//! `Money`: an amount of pounds sterling with exactly two decimal places, always within
//! what a PostgreSQL `NUMERIC(14,2)` column holds, plus the one rounding rule the
//! platform uses (to the penny, half away from zero).
//!
//! Every `Money` value that exists is valid: at most two decimal places and a magnitude
//! of at most 999,999,999,999.99. Constructors check this; arithmetic is checked.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest magnitude a `NUMERIC(14,2)` column holds, in pence.
const MAX_PENCE: i64 = 99_999_999_999_999;
/// Whole-pound digits allowed by `NUMERIC(14,2)`.
const MAX_WHOLE_POUND_DIGITS: usize = 12;

/// Why a piece of text or a number is not an amount of money.
///
/// Each message names the offending input and says what would be accepted, so it can be
/// shown to a person as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount is empty; expected pounds and pence such as \"375.00\"")]
    Empty,
    #[error("amount \"{input}\" is not a number; expected pounds and pence such as \"375.00\"")]
    NotANumber { input: String },
    #[error("amount \"{input}\" uses an exponent; write it out in full, such as \"1500.00\"")]
    Exponent { input: String },
    #[error("amount \"{input}\" has {places} decimal places; GBP takes at most 2")]
    TooManyDecimalPlaces { input: String, places: u32 },
    #[error(
        "amount \"{input}\" is too large; amounts must be between -999999999999.99 and 999999999999.99"
    )]
    OutOfRange { input: String },
}

/// An amount of GBP: whole pence, between -999,999,999,999.99 and 999,999,999,999.99.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

impl Default for Money {
    fn default() -> Money {
        Money::zero()
    }
}

impl Money {
    /// 0.00 GBP.
    pub fn zero() -> Money {
        Money(Decimal::new(0, 2))
    }

    /// Reads a plain decimal string: an optional `-`, digits, and optionally a `.` followed
    /// by one or two digits ("375", "375.5", "-12.34"). Exponents, spaces, a leading `+`
    /// and more than two decimal places are refused.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        if text.is_empty() {
            return Err(MoneyError::Empty);
        }
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let fraction_ok = fraction.is_none_or(all_digits);
        if !all_digits(whole) || !fraction_ok {
            if looks_like_exponent(unsigned) {
                return Err(MoneyError::Exponent {
                    input: quoted_excerpt(text),
                });
            }
            return Err(MoneyError::NotANumber {
                input: quoted_excerpt(text),
            });
        }
        let places = fraction.map_or(0, str::len);
        if places > 2 {
            return Err(MoneyError::TooManyDecimalPlaces {
                input: quoted_excerpt(text),
                places: u32::try_from(places).unwrap_or(u32::MAX),
            });
        }
        // Count significant whole digits before handing the text to `Decimal`, which
        // itself gives up beyond 28 digits with a less helpful error.
        if whole.trim_start_matches('0').len() > MAX_WHOLE_POUND_DIGITS {
            return Err(MoneyError::OutOfRange {
                input: quoted_excerpt(text),
            });
        }
        let value = Decimal::from_str(text).map_err(|_| MoneyError::NotANumber {
            input: quoted_excerpt(text),
        })?;
        Money::try_from(value).map_err(|_| MoneyError::OutOfRange {
            input: quoted_excerpt(text),
        })
    }

    /// An amount given in pence, e.g. `from_pence(42_000)` is 420.00.
    pub fn from_pence(pence: i64) -> Result<Money, MoneyError> {
        if pence.unsigned_abs() > MAX_PENCE.unsigned_abs() {
            return Err(MoneyError::OutOfRange {
                input: Decimal::new(pence, 2).to_string(),
            });
        }
        Ok(Money(Decimal::new(pence, 2)))
    }

    /// The amount in pence. Always fits: the range of `Money` is far inside `i64`.
    pub fn pence(self) -> i64 {
        let mut scaled = self.0;
        scaled.rescale(2);
        // With scale 2 the mantissa is exactly the number of pence, and the range check
        // at construction keeps it well inside i64.
        i64::try_from(scaled.mantissa()).unwrap_or(0)
    }

    /// The amount as a decimal with scale 2.
    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// `self + other`, or `None` if the sum is outside the range of `Money`.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        Money::from_pence(self.pence().checked_add(other.pence())?).ok()
    }

    /// `self - other`, or `None` if the difference is outside the range of `Money`.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        Money::from_pence(self.pence().checked_sub(other.pence())?).ok()
    }
}

/// The longest piece of rejected input repeated back in an error message.
const MAX_ECHOED_CHARS: usize = 40;

/// `text` as it is shown back in error messages: cut short, with "...", when it is long,
/// so that a huge input cannot make a huge message.
pub(crate) fn quoted_excerpt(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHOED_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

fn looks_like_exponent(unsigned: &str) -> bool {
    match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            !mantissa.is_empty()
                && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && !exponent.is_empty()
                && exponent.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Accepts any decimal whose value has at most two decimal places once trailing zeros
/// are dropped (so a `NUMERIC` read back as `12.3400` is fine) and that is in range.
impl TryFrom<Decimal> for Money {
    type Error = MoneyError;

    fn try_from(value: Decimal) -> Result<Money, MoneyError> {
        let normalized = value.normalize();
        if normalized.scale() > 2 {
            return Err(MoneyError::TooManyDecimalPlaces {
                input: normalized.to_string(),
                places: normalized.scale(),
            });
        }
        let max = Decimal::new(MAX_PENCE, 2);
        if normalized.abs() > max {
            return Err(MoneyError::OutOfRange {
                input: normalized.to_string(),
            });
        }
        let mut scaled = if normalized.is_zero() {
            Decimal::ZERO
        } else {
            normalized
        };
        scaled.rescale(2);
        Ok(Money(scaled))
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(text: &str) -> Result<Money, MoneyError> {
        Money::parse(text)
    }
}

/// Always two decimal places: "420.00", "-428.58", "0.00".
impl fmt::Display for Money {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut scaled = self.0;
        scaled.rescale(2);
        write!(formatter, "{scaled}")
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let text = String::deserialize(deserializer)?;
        Money::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Rounds to the penny, half away from zero: 0.005 becomes 0.01 and -0.005 becomes -0.01.
pub fn round_to_penny(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn plain_decimal_strings_parse_and_display_with_two_places() {
        assert_eq!(
            Money::parse("375").map(|m| m.to_string()),
            Ok("375.00".into())
        );
        assert_eq!(
            Money::parse("375.5").map(|m| m.to_string()),
            Ok("375.50".into())
        );
        assert_eq!(
            Money::parse("-12.34").map(|m| m.to_string()),
            Ok("-12.34".into())
        );
        assert_eq!(Money::parse("0").map(|m| m.to_string()), Ok("0.00".into()));
        assert_eq!(
            Money::parse("-0.00").map(|m| m.to_string()),
            Ok("0.00".into())
        );
    }

    #[test]
    fn three_decimal_places_are_refused_with_an_actionable_message() {
        let error = Money::parse("12.345").unwrap_err();
        assert_eq!(
            error.to_string(),
            "amount \"12.345\" has 3 decimal places; GBP takes at most 2"
        );
    }

    #[test]
    fn exponents_empty_and_non_numeric_text_are_refused() {
        assert_eq!(
            Money::parse("1e3"),
            Err(MoneyError::Exponent {
                input: "1e3".into()
            })
        );
        assert_eq!(Money::parse(""), Err(MoneyError::Empty));
        for bad in [
            "abc", "1.2.3", " 1", "1 ", "+1", ".5", "5.", "-", "1,000", "NaN",
        ] {
            assert_eq!(
                Money::parse(bad),
                Err(MoneyError::NotANumber { input: bad.into() }),
                "{bad}"
            );
        }
    }

    #[test]
    fn magnitudes_beyond_numeric_14_2_are_refused() {
        assert!(Money::parse("999999999999.99").is_ok());
        assert!(Money::parse("-999999999999.99").is_ok());
        assert!(matches!(
            Money::parse("1000000000000"),
            Err(MoneyError::OutOfRange { .. })
        ));
        assert!(matches!(
            Money::parse("-1000000000000.00"),
            Err(MoneyError::OutOfRange { .. })
        ));
        assert!(matches!(
            Money::parse(&"9".repeat(40)),
            Err(MoneyError::OutOfRange { .. })
        ));
        assert!(Money::parse("000000000000000000001.00").is_ok());
    }

    #[test]
    fn a_very_long_rejected_input_is_cut_short_in_the_message() {
        let error = Money::parse(&"x".repeat(10_000)).unwrap_err().to_string();
        assert!(error.len() < 200, "{error}");
        assert!(error.contains("xxx...\" is not a number"), "{error}");
    }

    #[test]
    fn pence_round_trip_through_from_pence() {
        let money = Money::from_pence(-42_858).unwrap();
        assert_eq!(money.to_string(), "-428.58");
        assert_eq!(money.pence(), -42_858);
        assert!(money.is_negative());
        assert!(Money::from_pence(MAX_PENCE + 1).is_err());
        assert!(Money::from_pence(i64::MIN).is_err());
    }

    #[test]
    fn numeric_padding_is_normalised_but_extra_places_are_refused() {
        assert_eq!(Money::try_from(dec!(12.3400)).unwrap().to_string(), "12.34");
        assert_eq!(
            Money::try_from(dec!(12.3400)).unwrap().as_decimal().scale(),
            2
        );
        assert!(matches!(
            Money::try_from(dec!(12.341)),
            Err(MoneyError::TooManyDecimalPlaces { places: 3, .. })
        ));
        assert!(Money::try_from(dec!(1000000000000)).is_err());
    }

    #[test]
    fn checked_arithmetic_refuses_results_out_of_range() {
        let max = Money::parse("999999999999.99").unwrap();
        let one_penny = Money::from_pence(1).unwrap();
        assert_eq!(max.checked_add(one_penny), None);
        assert_eq!(
            max.checked_sub(one_penny).map(|m| m.to_string()),
            Some("999999999999.98".into())
        );
        assert_eq!(
            Money::zero().checked_sub(one_penny).map(Money::pence),
            Some(-1)
        );
    }

    #[test]
    fn money_serializes_as_a_two_place_string_and_back() {
        let money = Money::parse("420").unwrap();
        assert_eq!(serde_json::to_string(&money).unwrap(), "\"420.00\"");
        let back: Money = serde_json::from_str("\"420.00\"").unwrap();
        assert_eq!(back, money);
        let refused = serde_json::from_str::<Money>("\"1.234\"").unwrap_err();
        assert!(refused.to_string().contains("GBP takes at most 2"));
    }

    #[test]
    fn rounding_to_the_penny_goes_half_away_from_zero() {
        assert_eq!(round_to_penny(dec!(0.005)), dec!(0.01));
        assert_eq!(round_to_penny(dec!(-0.005)), dec!(-0.01));
        assert_eq!(round_to_penny(dec!(2.675)), dec!(2.68));
        assert_eq!(round_to_penny(dec!(2.6749)), dec!(2.67));
    }
}
