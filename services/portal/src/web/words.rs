//! Money and dates as the pages write them: money always to the penny with the pound sign
//! ("£1,540.00", "minus £428.58"), dates written out ("1 April 2026"), so that nobody has
//! to decode "2026-04-01" or wonder whether "-428.58" is a debt.

use chrono::{Datelike as _, NaiveDate};
use rust_decimal::Decimal;
use sds_money::Money;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "1 April 2026".
pub fn date(day: NaiveDate) -> String {
    format!("{} {} {}", day.day(), month_name(day), day.year())
}

/// "April 2026".
pub fn month(day: NaiveDate) -> String {
    format!("{} {}", month_name(day), day.year())
}

fn month_name(day: NaiveDate) -> &'static str {
    // month0 is 0..=11 for every valid date.
    MONTHS[day.month0() as usize]
}

/// A date as another service sent it (ISO), written out; the text itself when it is not a
/// date, and "not set" when empty, so a page never fails for one odd field.
pub fn iso_date(iso: &str) -> String {
    if iso.is_empty() {
        return "not set".to_owned();
    }
    match NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(day) => date(day),
        Err(_) => iso.to_owned(),
    }
}

/// "£1,540.00"; a negative amount as "minus £428.58".
pub fn money(amount: Money) -> String {
    pounds(amount.as_decimal())
}

/// Money as another service sent it (a decimal string, perhaps with more places, as a
/// plan's weekly amounts have), written as [`money`] writes it; the text itself when it is
/// not an amount.
pub fn money_text(amount: &str) -> String {
    if amount.is_empty() {
        return "£0.00".to_owned();
    }
    match amount.parse::<Decimal>() {
        Ok(parsed) => pounds(parsed),
        Err(_) => amount.to_owned(),
    }
}

/// A decimal amount of pounds rounded to the penny, with thousands separated.
pub fn pounds(amount: Decimal) -> String {
    let mut rounded =
        amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = rounded.abs().to_string();
    let (whole, pence) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if negative {
        format!("minus £{grouped}.{pence}")
    } else {
        format!("£{grouped}.{pence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_out_in_full() {
        let day = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(date(day), "1 April 2026");
        assert_eq!(month(day), "April 2026");
        assert_eq!(iso_date("2026-12-25"), "25 December 2026");
        assert_eq!(iso_date(""), "not set");
    }

    #[test]
    fn money_is_always_to_the_penny_with_the_pound_sign() {
        assert_eq!(money(Money::parse("1540").unwrap()), "£1,540.00");
        assert_eq!(money(Money::parse("0").unwrap()), "£0.00");
        assert_eq!(money(Money::parse("-428.58").unwrap()), "minus £428.58");
        assert_eq!(money_text("1234567.5"), "£1,234,567.50");
        assert_eq!(money_text("210.0000"), "£210.00");
        assert_eq!(pounds(Decimal::new(30_00005, 5)), "£30.00");
        assert_eq!(money_text(""), "£0.00");
    }
}
