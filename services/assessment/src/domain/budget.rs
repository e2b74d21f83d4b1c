//! The indicative budget: the weekly amount a person is told up front, the same whatever
//! option they choose, worked out by the authority's RAS, from hours at rates, or set by
//! hand, always with its reasons shown line by line.
//!
//! What must stay true: a budget is never negative; a budget set by hand always carries the
//! practitioner's reason; hours-based lines are each rounded to the penny (half away from
//! zero) and the total is the sum of the lines as shown, so the breakdown always adds up.

use rust_decimal::Decimal;
use sds_money::{Money, money_from_pence, round_to_penny};
use sds_vocabulary::Invalid;
use sds_vocabulary::text::{MAX_TEXT_CHARS, required_text};

use super::amount::MAX_HOURS_PER_WEEK;
use super::ras::{RasAnswer, ResourceAllocationSystem};

/// Reasons for a budget set by hand may be a short paragraph.
pub const MAX_REASON_CHARS: usize = 2000;

sds_vocabulary::wire_enum! {
    /// How an indicative budget was worked out.
    pub enum BudgetMethod("budget method") => sds_proto::v1::BudgetMethod {
        ResourceAllocation = "resource_allocation",
        HoursAtRates = "hours_at_rates",
        SetByHand = "set_by_hand",
    }
}

/// One line of a budget's breakdown: what it is and why, with its points or amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetLine {
    pub description: String,
    pub points: Option<u32>,
    pub amount: Option<Money>,
}

/// A weekly indicative budget and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicativeBudget {
    pub method: BudgetMethod,
    pub weekly: Money,
    pub breakdown: Vec<BudgetLine>,
}

/// Hours a week of one kind of support at an hourly rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursItem {
    pub description: String,
    pub hours_per_week: Decimal,
    pub hourly_rate: Money,
}

/// The budget the RAS gives for `answers` (field names relative to the request: `answers[0]`).
pub fn budget_from_ras(
    ras: &ResourceAllocationSystem,
    answers: &[RasAnswer],
) -> Result<IndicativeBudget, Invalid> {
    let outcome = ras.score(answers)?;
    Ok(IndicativeBudget {
        method: BudgetMethod::ResourceAllocation,
        weekly: outcome.weekly,
        breakdown: outcome.breakdown,
    })
}

/// The budget from hours at rates: each item rounded to the penny, the total their sum.
/// Field names are relative to the request: `items[1].hours_per_week`.
pub fn budget_from_hours(items: &[HoursItem]) -> Result<IndicativeBudget, Invalid> {
    if items.is_empty() {
        return Err(Invalid::new(
            "items",
            "is empty; give at least one kind of support with its hours and rate",
        ));
    }
    let mut breakdown = Vec::with_capacity(items.len() + 1);
    let mut total_pence: i128 = 0;
    for (index, item) in items.iter().enumerate() {
        let field = format!("items[{index}]");
        let description = required_text(
            &format!("{field}.description"),
            &item.description,
            MAX_TEXT_CHARS,
        )?;
        let hours = item.hours_per_week;
        if hours <= Decimal::ZERO
            || hours > Decimal::from(MAX_HOURS_PER_WEEK)
            || hours.normalize().scale() > 2
        {
            return Err(Invalid::new(
                format!("{field}.hours_per_week"),
                format!(
                    "is {hours}; hours a week must be more than 0, at most {MAX_HOURS_PER_WEEK}, with at most 2 decimal places"
                ),
            ));
        }
        if item.hourly_rate.is_negative() {
            return Err(Invalid::new(
                format!("{field}.hourly_rate"),
                format!("is {}; a rate must be 0.00 or more", item.hourly_rate),
            ));
        }
        // Hours (2 places) times a rate (2 places) is exact in Decimal at 4 places; it is
        // rounded once, here, so the line shown is the line added.
        let exact = hours * item.hourly_rate.as_decimal();
        let amount = Money::try_from(round_to_penny(exact)).map_err(|_| {
            Invalid::new(
                format!("{field}.hourly_rate"),
                "gives more than any budget can be",
            )
        })?;
        total_pence += i128::from(amount.pence());
        breakdown.push(BudgetLine {
            description: format!(
                "{description}: {} hours a week at {} an hour",
                hours.normalize(),
                item.hourly_rate
            ),
            points: None,
            amount: Some(amount),
        });
    }
    let weekly = money_from_pence(total_pence)
        .map_err(|_| Invalid::new("items", "add up to more than any budget can be"))?;
    breakdown.push(BudgetLine {
        description: format!("Total: {weekly} a week"),
        points: None,
        amount: Some(weekly),
    });
    Ok(IndicativeBudget {
        method: BudgetMethod::HoursAtRates,
        weekly,
        breakdown,
    })
}

/// A budget the practitioner sets by hand, with the reason that is shown to the person.
pub fn budget_set_by_hand(weekly: Money, reason: &str) -> Result<IndicativeBudget, Invalid> {
    if weekly.is_negative() {
        return Err(Invalid::new(
            "weekly",
            format!("is {weekly}; a budget must be 0.00 or more"),
        ));
    }
    let reason = required_text("reason", reason, MAX_REASON_CHARS).map_err(|error| {
        if error.problem().contains("empty") {
            Invalid::new("reason", "is empty; a budget set by hand needs the reason it was set that way, shown to the person")
        } else {
            error
        }
    })?;
    Ok(IndicativeBudget {
        method: BudgetMethod::SetByHand,
        weekly,
        breakdown: vec![BudgetLine {
            description: format!("Set by hand: {reason}"),
            points: None,
            amount: Some(weekly),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn money(text: &str) -> Money {
        Money::parse(text).expect("test amounts are valid")
    }

    fn item(description: &str, hours: Decimal, rate: &str) -> HoursItem {
        HoursItem {
            description: description.to_owned(),
            hours_per_week: hours,
            hourly_rate: money(rate),
        }
    }

    #[test]
    fn a_budget_from_hours_rounds_each_line_and_the_total_is_their_sum() {
        let budget = budget_from_hours(&[
            item("Personal care", dec!(7.25), "11.53"),
            item("Social support", dec!(3.5), "21.40"),
        ])
        .unwrap();
        // 7.25 x 11.53 = 83.5925 -> 83.59; 3.5 x 21.40 = 74.90.
        assert_eq!(budget.weekly.to_string(), "158.49");
        let shown: Vec<String> = budget
            .breakdown
            .iter()
            .map(|line| {
                format!(
                    "{} = {}",
                    line.description,
                    line.amount.map(|m| m.to_string()).unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "Personal care: 7.25 hours a week at 11.53 an hour = 83.59",
                "Social support: 3.5 hours a week at 21.40 an hour = 74.90",
                "Total: 158.49 a week = 158.49",
            ]
        );
    }

    #[test]
    fn a_budget_from_hours_refuses_empty_lists_and_impossible_hours_or_rates() {
        assert_eq!(budget_from_hours(&[]).unwrap_err().field(), "items");
        let cases = [
            (item("Care", dec!(0), "10.00"), "items[0].hours_per_week"),
            (item("Care", dec!(169), "10.00"), "items[0].hours_per_week"),
            (
                item("Care", dec!(1.005), "10.00"),
                "items[0].hours_per_week",
            ),
            (item("Care", dec!(1), "-10.00"), "items[0].hourly_rate"),
            (item("  ", dec!(1), "10.00"), "items[0].description"),
        ];
        for (bad, field) in cases {
            assert_eq!(budget_from_hours(&[bad]).unwrap_err().field(), field);
        }
    }

    #[test]
    fn a_budget_set_by_hand_needs_a_reason_and_shows_it() {
        let budget = budget_set_by_hand(
            money("250.00"),
            " Interim budget while the RAS is reviewed ",
        )
        .unwrap();
        assert_eq!(budget.method, BudgetMethod::SetByHand);
        assert_eq!(
            budget.breakdown[0].description,
            "Set by hand: Interim budget while the RAS is reviewed"
        );
        let error = budget_set_by_hand(money("250.00"), "   ").unwrap_err();
        assert_eq!(error.field(), "reason");
        assert!(error.problem().contains("needs the reason"), "{error}");
        assert_eq!(
            budget_set_by_hand(money("-1.00"), "why")
                .unwrap_err()
                .field(),
            "weekly"
        );
    }

    #[test]
    fn a_budget_from_the_ras_carries_its_breakdown() {
        let ras = crate::domain::ras::tests::example_ras();
        let answers = [
            ("personal_care", 10),
            ("daily_living", 10),
            ("community", 10),
        ]
        .map(|(code, score)| RasAnswer {
            code: code.to_owned(),
            score,
        });
        let budget = budget_from_ras(&ras, &answers).unwrap();
        assert_eq!(budget.method, BudgetMethod::ResourceAllocation);
        assert_eq!(budget.weekly.to_string(), "255.00");
        assert_eq!(
            budget
                .breakdown
                .last()
                .map(|line| line.description.as_str()),
            Some("30 points at 8.50 a point")
        );
    }
}
