//! How summaries write amounts, dates and counts in everyday English ("£210.00",
//! "1 April 2027", "28 days' notice"), and tidy the names and phrases they are given.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;

/// "£210.00".
pub(crate) fn pounds(amount: Money) -> String {
    format!("£{amount}")
}

/// "1 April 2027".
pub(crate) fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// "1 day", "28 days".
pub(crate) fn days(count: u32) -> String {
    if count == 1 {
        "1 day".to_string()
    } else {
        format!("{count} days")
    }
}

/// "1 day's notice", "28 days' notice".
pub(crate) fn notice(count: u32) -> String {
    if count == 1 {
        "1 day's notice".to_string()
    } else {
        format!("{count} days' notice")
    }
}

/// "1 hour", "2.5 hours".
pub(crate) fn hours_text(hours: Decimal) -> String {
    let hours = hours.normalize();
    if hours == Decimal::ONE {
        "1 hour".to_string()
    } else {
        format!("{hours} hours")
    }
}

/// `text` with its whitespace, line breaks included, collapsed to single spaces.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` ending in a full stop unless it already ends a sentence.
pub(crate) fn with_full_stop(text: &str) -> String {
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// `text` with its first letter in capitals ("personal care" to "Personal care").
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_amounts_and_counts_read_as_words() {
        let date = NaiveDate::from_ymd_opt(2027, 4, 1).expect("valid date");
        assert_eq!(long_date(date), "1 April 2027");
        assert_eq!(
            pounds(Money::from_pence(21_000).expect("in range")),
            "£210.00"
        );
        assert_eq!(days(1), "1 day");
        assert_eq!(notice(28), "28 days' notice");
        assert_eq!(notice(1), "1 day's notice");
        assert_eq!(hours_text(Decimal::new(150, 2)), "1.5 hours");
        assert_eq!(hours_text(Decimal::new(100, 2)), "1 hour");
    }

    #[test]
    fn phrases_are_tidied() {
        assert_eq!(one_line("Deeside\n  Home Care "), "Deeside Home Care");
        assert_eq!(with_full_stop("see my friends"), "see my friends.");
        assert_eq!(with_full_stop("Really?"), "Really?");
        assert_eq!(capitalised("personal care"), "Personal care");
        assert_eq!(capitalised(""), "");
    }
}
