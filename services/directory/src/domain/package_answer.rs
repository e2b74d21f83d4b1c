//! A provider's answer to a package request: an offer (its price, the earliest day it can
//! start, a note) or a decline (with a reason if it wishes to give one).
//!
//! What must stay true of an answer, checked here and again by CHECK constraints:
//! - an offer has exactly one price above zero: a weekly price, or an hourly rate, and an
//!   hourly rate only when the request asks for hours (a weekly budget says nothing of hours,
//!   so a rate could not be compared with it or with the other offers);
//! - an offer can start today or later, within a year; a decline has no price and no start;
//! - the note is at most [`MAX_NOTE_CHARS`] characters, and never has the shape of personal
//!   data: a note is read by the authority and the person, and a provider should not be
//!   writing about anyone by name in it.
//!
//! Offers are compared by their weekly cost: the weekly price, or the hourly rate times the
//! hours asked for, rounded to the penny once.

use chrono::{Days, NaiveDate};
use sds_money::{Money, round_to_penny};
use sds_vocabulary::Invalid;
use sds_vocabulary::text::optional_paragraphs;

use super::anonymity::ensure_anonymous;
use super::package_request::{Amount, MAX_DAYS_AHEAD};

/// A note is at most this many characters.
pub const MAX_NOTE_CHARS: usize = 1000;

/// What an offer charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Price {
    Weekly(Money),
    Hourly(Money),
}

/// A provider's answer, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Offer {
        price: Price,
        earliest_start: NaiveDate,
        note: String,
    },
    Decline {
        note: String,
    },
}

sds_vocabulary::wire_enum! {
    /// Which kind of answer the provider gave.
    pub enum AnswerKind("answer kind") => sds_proto::v1::PackageResponseKind {
        Offer = "offer",
        Decline = "decline",
    }
}

/// An answer as the provider gave it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerInput {
    /// `None` when the provider did not say.
    pub kind: Option<AnswerKind>,
    pub weekly_price: Option<Money>,
    pub hourly_rate: Option<Money>,
    pub earliest_start: Option<NaiveDate>,
    pub note: String,
}

impl Answer {
    /// Checks `input`, an answer on `today` to a request that asks for `asked`.
    pub fn new(input: AnswerInput, asked: Amount, today: NaiveDate) -> Result<Answer, Invalid> {
        let note = optional_paragraphs("note", &input.note, MAX_NOTE_CHARS)?.unwrap_or_default();
        ensure_anonymous("note", &note)?;
        match input.kind {
            None => Err(Invalid::new(
                "kind",
                "is unspecified; answer with offer or decline",
            )),
            Some(AnswerKind::Decline) => {
                if input.weekly_price.is_some() || input.hourly_rate.is_some() {
                    return Err(Invalid::new(
                        "price",
                        "is given with a decline; a decline has no price",
                    ));
                }
                if input.earliest_start.is_some() {
                    return Err(Invalid::new(
                        "earliest_start",
                        "is given with a decline; a decline has no start date",
                    ));
                }
                Ok(Answer::Decline { note })
            }
            Some(AnswerKind::Offer) => {
                let price = price(input.weekly_price, input.hourly_rate, asked)?;
                let earliest_start = input.earliest_start.ok_or_else(|| {
                    Invalid::new(
                        "earliest_start",
                        "is missing; give the first day the support could start",
                    )
                })?;
                let latest = today.checked_add_days(Days::new(MAX_DAYS_AHEAD));
                if earliest_start < today || latest.is_some_and(|latest| earliest_start > latest) {
                    return Err(Invalid::new(
                        "earliest_start",
                        format!(
                            "is {earliest_start}; give a day between today ({today}) and a year ahead"
                        ),
                    ));
                }
                Ok(Answer::Offer {
                    price,
                    earliest_start,
                    note,
                })
            }
        }
    }

    pub fn kind(&self) -> AnswerKind {
        match self {
            Answer::Offer { .. } => AnswerKind::Offer,
            Answer::Decline { .. } => AnswerKind::Decline,
        }
    }

    pub fn note(&self) -> &str {
        match self {
            Answer::Offer { note, .. } | Answer::Decline { note } => note,
        }
    }
}

fn price(weekly: Option<Money>, hourly: Option<Money>, asked: Amount) -> Result<Price, Invalid> {
    let price = match (weekly, hourly) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(Invalid::new(
                "price",
                "must be one of weekly_price or hourly_rate: an offer names one price",
            ));
        }
        (Some(weekly), None) => Price::Weekly(weekly),
        (None, Some(hourly)) => {
            if matches!(asked, Amount::WeeklyBudget(_)) {
                return Err(Invalid::new(
                    "hourly_rate",
                    "is given, but the request asks for a weekly budget, not hours; give a weekly_price",
                ));
            }
            Price::Hourly(hourly)
        }
    };
    let (field, amount) = match price {
        Price::Weekly(amount) => ("weekly_price", amount),
        Price::Hourly(amount) => ("hourly_rate", amount),
    };
    if amount <= Money::zero() {
        return Err(Invalid::new(
            field,
            format!("is {amount}; give a price above 0.00"),
        ));
    }
    Ok(price)
}

/// What an offer costs a week for the support asked: the weekly price, or the hourly rate
/// times the hours asked, rounded to the penny. `None` only for an hourly rate on a request
/// for a weekly budget, which [`Answer::new`] refuses, or an amount too large for `Money`.
pub fn weekly_cost(price: Price, asked: Amount) -> Option<Money> {
    match (price, asked) {
        (Price::Weekly(weekly), _) => Some(weekly),
        (Price::Hourly(rate), Amount::HoursPerWeek(hours)) => {
            let cost = round_to_penny(rate.as_decimal().checked_mul(hours)?);
            Money::parse(&cost.to_string()).ok()
        }
        (Price::Hourly(_), Amount::WeeklyBudget(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()
    }

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap_or_default()
    }

    fn hours(value: i64) -> Amount {
        Amount::HoursPerWeek(Decimal::new(value, 0))
    }

    fn offer() -> AnswerInput {
        AnswerInput {
            kind: Some(AnswerKind::Offer),
            weekly_price: Some(money("240.00")),
            hourly_rate: None,
            earliest_start: Some(today()),
            note: "We have a worker free on Tuesdays and Thursdays.".to_owned(),
        }
    }

    #[test]
    fn a_good_offer_and_a_decline_are_accepted() {
        let answer = Answer::new(offer(), hours(10), today()).expect("a good offer");
        assert_eq!(answer.kind(), AnswerKind::Offer);
        let decline = AnswerInput {
            kind: Some(AnswerKind::Decline),
            weekly_price: None,
            earliest_start: None,
            note: "  No capacity in this area until spring.  ".to_owned(),
            ..offer()
        };
        let answer = Answer::new(decline, hours(10), today()).expect("a decline");
        assert_eq!(answer.note(), "No capacity in this area until spring.");
    }

    #[test]
    fn bad_answers_name_the_field_and_what_is_accepted() {
        let budget = Amount::WeeklyBudget(money("300.00"));
        let cases: Vec<(AnswerInput, Amount, &str, &str)> = vec![
            (
                AnswerInput {
                    kind: None,
                    ..offer()
                },
                hours(10),
                "kind",
                "offer or decline",
            ),
            (
                AnswerInput {
                    weekly_price: None,
                    ..offer()
                },
                hours(10),
                "price",
                "one of weekly_price or hourly_rate",
            ),
            (
                AnswerInput {
                    hourly_rate: Some(money("24.00")),
                    ..offer()
                },
                hours(10),
                "price",
                "one price",
            ),
            (
                AnswerInput {
                    weekly_price: None,
                    hourly_rate: Some(money("24.00")),
                    ..offer()
                },
                budget,
                "hourly_rate",
                "give a weekly_price",
            ),
            (
                AnswerInput {
                    weekly_price: Some(money("0.00")),
                    ..offer()
                },
                hours(10),
                "weekly_price",
                "above 0.00",
            ),
            (
                AnswerInput {
                    weekly_price: Some(money("-5.00")),
                    ..offer()
                },
                hours(10),
                "weekly_price",
                "above 0.00",
            ),
            (
                AnswerInput {
                    earliest_start: None,
                    ..offer()
                },
                hours(10),
                "earliest_start",
                "first day",
            ),
            (
                AnswerInput {
                    earliest_start: today().pred_opt(),
                    ..offer()
                },
                hours(10),
                "earliest_start",
                "between today (2026-12-01) and a year ahead",
            ),
            (
                AnswerInput {
                    earliest_start: today().checked_add_days(Days::new(400)),
                    ..offer()
                },
                hours(10),
                "earliest_start",
                "a year ahead",
            ),
            (
                AnswerInput {
                    note: "x".repeat(1001),
                    ..offer()
                },
                hours(10),
                "note",
                "1001 characters long",
            ),
            (
                AnswerInput {
                    note: "Call Mrs Smith on 01224 555123 first".to_owned(),
                    ..offer()
                },
                hours(10),
                "note",
                "",
            ),
            (
                AnswerInput {
                    kind: Some(AnswerKind::Decline),
                    earliest_start: None,
                    ..offer()
                },
                hours(10),
                "price",
                "a decline has no price",
            ),
            (
                AnswerInput {
                    kind: Some(AnswerKind::Decline),
                    weekly_price: None,
                    ..offer()
                },
                hours(10),
                "earliest_start",
                "a decline has no start date",
            ),
        ];
        for (input, asked, field, says) in cases {
            let refused = Answer::new(input.clone(), asked, today())
                .expect_err(&format!("{input:?} is refused"));
            assert_eq!(refused.field(), field, "{refused}");
            assert!(refused.problem().contains(says), "{refused}");
        }
    }

    #[test]
    fn a_note_with_a_phone_number_is_refused_without_repeating_it() {
        let input = AnswerInput {
            note: "Ring 07700900123 to arrange".to_owned(),
            ..offer()
        };
        let refused = Answer::new(input, hours(10), today()).expect_err("refused");
        assert_eq!(refused.field(), "note");
        assert!(!refused.problem().contains("07700900123"), "{refused}");
    }

    #[test]
    fn an_hourly_rate_costs_the_hours_asked_rounded_to_the_penny_once() {
        let asked = Amount::HoursPerWeek(Decimal::new(1250, 2));
        assert_eq!(
            weekly_cost(Price::Hourly(money("23.17")), asked),
            Some(money("289.63")),
            "12.5 hours at 23.17 is 289.625, rounded half away from zero"
        );
        assert_eq!(
            weekly_cost(Price::Weekly(money("250.00")), asked),
            Some(money("250.00"))
        );
        assert_eq!(
            weekly_cost(
                Price::Hourly(money("23.17")),
                Amount::WeeklyBudget(money("1.00"))
            ),
            None
        );
    }

    proptest! {
        #[test]
        fn the_weekly_cost_of_a_rate_is_within_half_a_penny_of_the_exact_product(
            rate_pence in 1i64..100_000,
            hundredths_of_hours in 1i64..16_800,
        ) {
            let rate = Money::from_pence(rate_pence).unwrap_or_default();
            let hours = Decimal::new(hundredths_of_hours, 2);
            let cost = weekly_cost(Price::Hourly(rate), Amount::HoursPerWeek(hours));
            let exact = rate.as_decimal() * hours;
            let cost = cost.map(Money::as_decimal).unwrap_or_default();
            prop_assert!((cost - exact).abs() <= Decimal::new(5, 3));
            prop_assert_eq!(cost.scale(), 2);
        }
    }
}
