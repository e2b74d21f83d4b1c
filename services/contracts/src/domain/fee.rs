//! The management fee a provider or holder charges for holding a person's fund, in the five
//! forms Scottish authorities use, each giving an exact weekly amount in whole pence and
//! saying whether it is paid on top of the person's budget or taken out of it.
//!
//! What must stay true: the weekly split adds up exactly (support + fee = what the
//! authority pays a week); a fee inside the budget never makes the authority pay more than
//! the budget, and one on top never takes from the support; a fraction of a penny is rounded
//! once, half away from zero, on the weekly fee (so schedules accrue whole pence a week, as
//! `sds_money`'s rule assumes), never on the support.

use rust_decimal::Decimal;
use sds_money::{Money, round_to_penny};
use sds_vocabulary::{Invalid, shown};

/// At most this many admin hours a week (there are 168 hours in a week).
const MAX_ADMIN_HOURS_PER_WEEK: i64 = 168;

sds_vocabulary::wire_enum! {
    /// The form of a management fee.
    pub enum FeeKind("management fee kind") => sds_proto::v1::ManagementFeeKind {
        None = "none",
        FlatWeekly = "flat_weekly",
        Percentage = "percentage",
        AdminHours = "admin_hours",
        IncludedInHourlyRate = "included_in_hourly_rate",
    }
}

sds_vocabulary::wire_enum! {
    /// Where a fee sits against the person's budget.
    pub enum FeePlacement("fee placement") => sds_proto::v1::FeePlacement {
        /// Paid in addition to the budget: the person's support keeps the whole budget.
        OnTop = "on_top",
        /// Taken out of the budget: the authority pays the budget, the support gets less.
        WithinBudget = "within_budget",
    }
}

/// A management fee as agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagementFee {
    /// Nothing is charged for holding the fund.
    None,
    /// A flat amount a week, on top of the budget.
    FlatWeekly { per_week: Money },
    /// A percentage of the weekly budget (above 0, at most 100, two decimal places at
    /// most), on top of it or taken out of it.
    Percentage {
        percent: Decimal,
        placement: FeePlacement,
    },
    /// Admin hours a week (above 0, at most 168, two decimal places at most) at an hourly
    /// rate, on top of the budget.
    AdminHours {
        hours_per_week: Decimal,
        hourly_rate: Money,
    },
    /// Built into the provider's hourly rate: nothing is charged separately, so it is inside
    /// the budget by construction.
    IncludedInHourlyRate,
}

/// A week's money under an agreement: what the authority pays, split into the person's
/// support and the fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklySplit {
    /// What goes to the person's support.
    pub support: Money,
    /// The management fee, shown separately.
    pub fee: Money,
    /// What the authority pays a week: support + fee.
    pub total: Money,
    /// Whether the fee is on top of the budget or inside it.
    pub placement: FeePlacement,
}

impl ManagementFee {
    /// Checks the amounts a fee carries; refusals name `field.<part>`.
    pub fn checked(self, field: &str) -> Result<ManagementFee, Invalid> {
        let within = |invalid: Invalid| invalid.within(field);
        match self {
            ManagementFee::None | ManagementFee::IncludedInHourlyRate => {}
            ManagementFee::FlatWeekly { per_week } => {
                if per_week.is_negative() || per_week.is_zero() {
                    return Err(within(Invalid::new(
                        "per_week",
                        format!(
                            "is {per_week}; a flat fee is above 0.00 a week (use none for no fee)"
                        ),
                    )));
                }
            }
            ManagementFee::Percentage { percent, .. } => {
                if percent <= Decimal::ZERO
                    || percent > Decimal::ONE_HUNDRED
                    || percent.normalize().scale() > 2
                {
                    return Err(within(Invalid::new(
                        "percent",
                        format!(
                            "is {}; a percentage fee is above 0 and at most 100, with at most 2 decimal places, such as 7.5",
                            shown(&percent.to_string())
                        ),
                    )));
                }
            }
            ManagementFee::AdminHours {
                hours_per_week,
                hourly_rate,
            } => {
                if hours_per_week <= Decimal::ZERO
                    || hours_per_week > Decimal::from(MAX_ADMIN_HOURS_PER_WEEK)
                    || hours_per_week.normalize().scale() > 2
                {
                    return Err(within(Invalid::new(
                        "hours_per_week",
                        format!(
                            "is {}; admin hours are above 0 and at most {MAX_ADMIN_HOURS_PER_WEEK} a week, with at most 2 decimal places",
                            shown(&hours_per_week.to_string())
                        ),
                    )));
                }
                if hourly_rate.is_negative() || hourly_rate.is_zero() {
                    return Err(within(Invalid::new(
                        "hourly_rate",
                        format!("is {hourly_rate}; an hourly rate is above 0.00"),
                    )));
                }
            }
        }
        Ok(self)
    }

    pub fn kind(&self) -> FeeKind {
        match self {
            ManagementFee::None => FeeKind::None,
            ManagementFee::FlatWeekly { .. } => FeeKind::FlatWeekly,
            ManagementFee::Percentage { .. } => FeeKind::Percentage,
            ManagementFee::AdminHours { .. } => FeeKind::AdminHours,
            ManagementFee::IncludedInHourlyRate => FeeKind::IncludedInHourlyRate,
        }
    }

    /// Where the fee sits against the budget. A fee of nothing (none, or included in the
    /// rate) is inside it: the authority pays the budget and no more.
    pub fn placement(&self) -> FeePlacement {
        match self {
            ManagementFee::None | ManagementFee::IncludedInHourlyRate => FeePlacement::WithinBudget,
            ManagementFee::FlatWeekly { .. } | ManagementFee::AdminHours { .. } => {
                FeePlacement::OnTop
            }
            ManagementFee::Percentage { placement, .. } => *placement,
        }
    }

    /// The fee for a week, in whole pence, on a weekly budget of `budget`.
    pub fn weekly_fee(&self, budget: Money) -> Result<Money, FeeError> {
        let exact = match *self {
            ManagementFee::None | ManagementFee::IncludedInHourlyRate => Decimal::ZERO,
            ManagementFee::FlatWeekly { per_week } => per_week.as_decimal(),
            ManagementFee::Percentage { percent, .. } => budget
                .as_decimal()
                .checked_mul(percent)
                .and_then(|product| product.checked_div(Decimal::ONE_HUNDRED))
                .ok_or(FeeError::OutOfRange)?,
            ManagementFee::AdminHours {
                hours_per_week,
                hourly_rate,
            } => hours_per_week
                .checked_mul(hourly_rate.as_decimal())
                .ok_or(FeeError::OutOfRange)?,
        };
        Money::try_from(round_to_penny(exact)).map_err(|_| FeeError::OutOfRange)
    }

    /// A week's money on a weekly budget of `budget`: the fee and what the authority pays.
    pub fn weekly_split(&self, budget: Money) -> Result<WeeklySplit, FeeError> {
        if budget.is_negative() {
            return Err(FeeError::NegativeBudget { budget });
        }
        let fee = self.weekly_fee(budget)?;
        let placement = self.placement();
        let (support, total) = match placement {
            FeePlacement::OnTop => (budget, budget.checked_add(fee).ok_or(FeeError::OutOfRange)?),
            FeePlacement::WithinBudget => {
                (budget.checked_sub(fee).ok_or(FeeError::OutOfRange)?, budget)
            }
        };
        Ok(WeeklySplit {
            support,
            fee,
            total,
            placement,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeeError {
    #[error("a weekly budget of {budget} is below zero")]
    NegativeBudget { budget: Money },
    #[error("the fee is too large to represent")]
    OutOfRange,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn names_follow_the_wire() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<FeeKind>();
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<FeePlacement>();
    }

    fn money(text: &str) -> Money {
        Money::parse(text).expect("money")
    }

    /// (fee, weekly budget, support, fee, total, placement) — worked by hand.
    #[test]
    fn every_fee_kind_gives_an_exact_weekly_split() {
        let cases: Vec<(ManagementFee, &str, &str, &str, &str, FeePlacement)> = vec![
            (
                ManagementFee::None,
                "210.00",
                "210.00",
                "0.00",
                "210.00",
                FeePlacement::WithinBudget,
            ),
            (
                ManagementFee::FlatWeekly {
                    per_week: money("12.50"),
                },
                "210.00",
                "210.00",
                "12.50",
                "222.50",
                FeePlacement::OnTop,
            ),
            (
                ManagementFee::Percentage {
                    percent: dec!(7.5),
                    placement: FeePlacement::OnTop,
                },
                "210.00",
                "210.00",
                "15.75",
                "225.75",
                FeePlacement::OnTop,
            ),
            (
                ManagementFee::Percentage {
                    percent: dec!(7.5),
                    placement: FeePlacement::WithinBudget,
                },
                "210.00",
                "194.25",
                "15.75",
                "210.00",
                FeePlacement::WithinBudget,
            ),
            // 333.33 x 7.5% = 24.99975: rounded once, on the fee.
            (
                ManagementFee::Percentage {
                    percent: dec!(7.5),
                    placement: FeePlacement::WithinBudget,
                },
                "333.33",
                "308.33",
                "25.00",
                "333.33",
                FeePlacement::WithinBudget,
            ),
            // 10% of 0.05 is half a penny: half away from zero.
            (
                ManagementFee::Percentage {
                    percent: dec!(10),
                    placement: FeePlacement::OnTop,
                },
                "0.05",
                "0.05",
                "0.01",
                "0.06",
                FeePlacement::OnTop,
            ),
            // 1.5 hours at 23.33 = 34.995.
            (
                ManagementFee::AdminHours {
                    hours_per_week: dec!(1.5),
                    hourly_rate: money("23.33"),
                },
                "400.00",
                "400.00",
                "35.00",
                "435.00",
                FeePlacement::OnTop,
            ),
            (
                ManagementFee::AdminHours {
                    hours_per_week: dec!(0.25),
                    hourly_rate: money("20.00"),
                },
                "100.00",
                "100.00",
                "5.00",
                "105.00",
                FeePlacement::OnTop,
            ),
            (
                ManagementFee::IncludedInHourlyRate,
                "310.50",
                "310.50",
                "0.00",
                "310.50",
                FeePlacement::WithinBudget,
            ),
            (
                ManagementFee::Percentage {
                    percent: dec!(100),
                    placement: FeePlacement::WithinBudget,
                },
                "80.00",
                "0.00",
                "80.00",
                "80.00",
                FeePlacement::WithinBudget,
            ),
        ];
        for (fee, budget, support, charged, total, placement) in cases {
            let split = fee.weekly_split(money(budget)).expect("a split");
            assert_eq!(
                split,
                WeeklySplit {
                    support: money(support),
                    fee: money(charged),
                    total: money(total),
                    placement,
                },
                "{fee:?} on {budget}"
            );
            assert_eq!(split.support.checked_add(split.fee), Some(split.total));
        }
    }

    #[test]
    fn fee_amounts_out_of_range_are_refused_by_field() {
        let cases: Vec<(ManagementFee, &str)> = vec![
            (
                ManagementFee::FlatWeekly {
                    per_week: money("0.00"),
                },
                "fee.per_week",
            ),
            (
                ManagementFee::FlatWeekly {
                    per_week: money("-1.00"),
                },
                "fee.per_week",
            ),
            (
                ManagementFee::Percentage {
                    percent: dec!(0),
                    placement: FeePlacement::OnTop,
                },
                "fee.percent",
            ),
            (
                ManagementFee::Percentage {
                    percent: dec!(100.01),
                    placement: FeePlacement::OnTop,
                },
                "fee.percent",
            ),
            (
                ManagementFee::Percentage {
                    percent: dec!(7.125),
                    placement: FeePlacement::OnTop,
                },
                "fee.percent",
            ),
            (
                ManagementFee::AdminHours {
                    hours_per_week: dec!(0),
                    hourly_rate: money("20.00"),
                },
                "fee.hours_per_week",
            ),
            (
                ManagementFee::AdminHours {
                    hours_per_week: dec!(168.01),
                    hourly_rate: money("20.00"),
                },
                "fee.hours_per_week",
            ),
            (
                ManagementFee::AdminHours {
                    hours_per_week: dec!(2),
                    hourly_rate: money("0.00"),
                },
                "fee.hourly_rate",
            ),
        ];
        for (fee, field) in cases {
            let refusal = fee.checked("fee").expect_err("refused");
            assert_eq!(refusal.field(), field, "{fee:?}");
        }
        assert!(
            ManagementFee::Percentage {
                percent: dec!(7.50),
                placement: FeePlacement::OnTop
            }
            .checked("fee")
            .is_ok(),
            "trailing zeros are not extra places"
        );
    }

    #[test]
    fn a_negative_budget_is_refused() {
        assert_eq!(
            ManagementFee::None.weekly_split(money("-1.00")),
            Err(FeeError::NegativeBudget {
                budget: money("-1.00")
            })
        );
    }

    proptest::proptest! {
        /// Whatever the fee, the split adds up, an on-top fee never reduces support and a
        /// fee inside the budget never makes the authority pay more than the budget.
        #[test]
        fn the_split_always_adds_up(
            budget_pence in 0i64..10_000_000,
            percent_hundredths in 1i64..=10_000,
            within in proptest::bool::ANY,
        ) {
            let budget = Money::from_pence(budget_pence).expect("money");
            let placement = if within { FeePlacement::WithinBudget } else { FeePlacement::OnTop };
            let fee = ManagementFee::Percentage {
                percent: Decimal::new(percent_hundredths, 2),
                placement,
            };
            let split = fee.weekly_split(budget).expect("a split");
            proptest::prop_assert_eq!(split.support.checked_add(split.fee), Some(split.total));
            match placement {
                FeePlacement::OnTop => proptest::prop_assert_eq!(split.support, budget),
                FeePlacement::WithinBudget => proptest::prop_assert_eq!(split.total, budget),
            }
            proptest::prop_assert!(!split.support.is_negative());
        }
    }
}
