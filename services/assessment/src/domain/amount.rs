//! The amount of a support plan line, as it was given (a weekly amount, an annual amount, or
//! hours a week at an hourly rate), and its exact rate.
//!
//! An annual amount A is A/52 a week, which is usually not whole pence, and hours with two
//! decimals at a rate in pence give a weekly figure in hundredths of a penny. So a line's
//! rate is held exactly as an integer: **hundredths of a penny per 52-week year** (364
//! days), the [`YearlyRate`]:
//!
//! | given | yearly rate |
//! |---|---|
//! | W pence a week | W x 52 x 100 |
//! | A pence a year | A x 100 |
//! | H hundredths of an hour a week at r pence an hour | H x r x 52 |
//!
//! Every given form converts without loss, and a year of 364 days accrues exactly the
//! yearly figure. A day accrues rate/364 hundredths of a penny, so accrual over a span is
//! counted exactly as `rate x days` in units of 1/36400 of a penny and rounded once, to the
//! penny, half away from zero. For a weekly line this is W x days / 7 pence: the same figure
//! as the pence-sevenths of `sds_money::accrual`, so payments agree with plans.
//!
//! What must stay true: over 364 days a line accrues exactly 52W, A or 52 x h x r (the
//! last rounded to the penny); over any span the rounded accrual is within half a penny of
//! the exact one; nothing here uses floating point or loses a fraction before the end.

use rust_decimal::Decimal;
use sds_money::{Money, money_from_pence};

use sds_vocabulary::Invalid;

/// Weeks in the year the yearly rate counts: budgets are 52 weeks, not calendar years.
pub const WEEKS_PER_YEAR: i128 = 52;
/// Days in those 52 weeks.
pub const DAYS_PER_YEAR: i128 = 364;
/// The yearly rate counts hundredths of a penny.
pub const UNITS_PER_PENNY: i128 = 100;
/// At most this many hours a week: the hours in a week.
pub const MAX_HOURS_PER_WEEK: i64 = 168;
/// Hours are given to the hundredth (7.25 hours), no finer.
pub const HOURS_DECIMAL_PLACES: u32 = 2;
/// The most one line may cost a week, in pence: 100,000.00. Far above any real package
/// (round-the-clock care by two workers is a few thousand a week), and far enough below
/// what the plan's columns hold that no sum of lines can overflow them.
pub const MAX_WEEKLY_PENCE: i64 = 10_000_000;

/// A line's amount as the practitioner gave it; kept so it can be shown back unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GivenAmount {
    Weekly {
        per_week: Money,
    },
    Annual {
        per_year: Money,
    },
    /// Hours a week (more than 0, at most 168, at most two decimal places) at a rate.
    HoursAtRate {
        hours_per_week: Decimal,
        hourly_rate: Money,
    },
}

/// A validated line amount: never negative, hours within a week. Construct with
/// [`LineAmount::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAmount {
    given: GivenAmount,
    yearly_rate: YearlyRate,
}

/// A line's exact rate, in hundredths of a penny per 52-week year; never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct YearlyRate(i128);

impl LineAmount {
    /// Checks the amount; field names in errors are relative to the amount (`per_week`,
    /// `hours_per_week`, `hourly_rate`), so callers place them with [`Invalid::within`].
    pub fn new(given: GivenAmount) -> Result<LineAmount, Invalid> {
        let yearly_rate = match given {
            GivenAmount::Weekly { per_week } => {
                not_negative("per_week", per_week)?;
                i128::from(per_week.pence()) * WEEKS_PER_YEAR * UNITS_PER_PENNY
            }
            GivenAmount::Annual { per_year } => {
                not_negative("per_year", per_year)?;
                i128::from(per_year.pence()) * UNITS_PER_PENNY
            }
            GivenAmount::HoursAtRate {
                hours_per_week,
                hourly_rate,
            } => {
                let hundredths = hundredths_of_an_hour(hours_per_week)?;
                not_negative("hourly_rate", hourly_rate)?;
                hundredths * i128::from(hourly_rate.pence()) * WEEKS_PER_YEAR
            }
        };
        if yearly_rate > i128::from(MAX_WEEKLY_PENCE) * WEEKS_PER_YEAR * UNITS_PER_PENNY {
            let most = Money::from_pence(MAX_WEEKLY_PENCE).unwrap_or_else(|_| Money::zero());
            let (field, what) = match given {
                GivenAmount::Weekly { per_week } => {
                    ("per_week", format!("is {per_week}, more than"))
                }
                GivenAmount::Annual { per_year } => (
                    "per_year",
                    format!("is {per_year} a year, which comes to more than"),
                ),
                GivenAmount::HoursAtRate {
                    hours_per_week,
                    hourly_rate,
                } => (
                    "hourly_rate",
                    format!(
                        "is {hourly_rate}, and {hours_per_week} hours a week at it come to more than"
                    ),
                ),
            };
            return Err(Invalid::new(
                field,
                format!("{what} {most} a week, the most one line may cost"),
            ));
        }
        Ok(LineAmount {
            given,
            yearly_rate: YearlyRate(yearly_rate),
        })
    }

    /// A weekly amount; for callers that already hold valid money.
    pub fn per_week(per_week: Money) -> Result<LineAmount, Invalid> {
        LineAmount::new(GivenAmount::Weekly { per_week })
    }

    pub fn given(&self) -> GivenAmount {
        self.given
    }

    pub fn yearly_rate(&self) -> YearlyRate {
        self.yearly_rate
    }

    /// The weekly figure for display and storage: pounds at scale 4 (NUMERIC(14,4)), exact
    /// for weekly and hours-based amounts, rounded half away from zero for annual ones.
    pub fn weekly(&self) -> Decimal {
        self.yearly_rate.weekly()
    }

    /// A sentence describing the amount: `12.50 hours a week at 21.40 an hour`.
    pub fn describe(&self) -> String {
        match self.given {
            GivenAmount::Weekly { per_week } => format!("{per_week} a week"),
            GivenAmount::Annual { per_year } => {
                format!("{per_year} a year ({} a week)", self.weekly())
            }
            GivenAmount::HoursAtRate {
                hours_per_week,
                hourly_rate,
            } => format!(
                "{hours_per_week} hours a week at {hourly_rate} an hour ({} a week)",
                self.weekly()
            ),
        }
    }
}

impl YearlyRate {
    pub const ZERO: YearlyRate = YearlyRate(0);

    /// The rate in hundredths of a penny per 52-week year.
    pub fn hundredths_of_a_penny_per_year(self) -> i128 {
        self.0
    }

    /// The sum of two rates (the rate of several lines together).
    pub fn plus(self, other: YearlyRate) -> YearlyRate {
        YearlyRate(self.0 + other.0)
    }

    /// Pounds a week at scale 4, rounded half away from zero (exact unless the rate came
    /// from an annual amount not divisible by 52).
    pub fn weekly(self) -> Decimal {
        // Hundredths of a penny a week are ten-thousandths of a pound.
        let ten_thousandths = divide_rounding_half_away_from_zero(self.0, WEEKS_PER_YEAR);
        Decimal::try_from_i128_with_scale(ten_thousandths, 4).unwrap_or(Decimal::MAX)
    }

    /// Pounds a week rounded to the penny, half away from zero, as approval limits and
    /// budgets compare; `None` beyond the range of `Money`.
    pub fn weekly_to_the_penny(self) -> Option<Money> {
        let pence = divide_rounding_half_away_from_zero(self.0, WEEKS_PER_YEAR * UNITS_PER_PENNY);
        money_from_pence(pence).ok()
    }

    /// The exact accrual of `days` days, in 1/36400ths of a penny.
    pub fn exact_accrual(self, days: i64) -> ExactAccrual {
        ExactAccrual(self.0 * i128::from(days.max(0)))
    }
}

/// An exact accrual in 1/36400ths of a penny (hundredths of a penny times days, over the
/// 364 days of a budget year). Sums of accruals stay exact; round once at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ExactAccrual(i128);

impl ExactAccrual {
    /// Parts of a penny in one unit of exact accrual.
    pub const PER_PENNY: i128 = UNITS_PER_PENNY * DAYS_PER_YEAR;

    pub fn plus(self, other: ExactAccrual) -> ExactAccrual {
        ExactAccrual(self.0 + other.0)
    }

    /// The raw count of 1/36400ths of a penny.
    pub fn parts(self) -> i128 {
        self.0
    }

    /// Whole pence, rounded half away from zero.
    pub fn rounded_pence(self) -> i128 {
        divide_rounding_half_away_from_zero(self.0, Self::PER_PENNY)
    }

    /// Rounded to the penny as `Money`; `None` beyond its range.
    pub fn rounded(self) -> Option<Money> {
        money_from_pence(self.rounded_pence()).ok()
    }
}

/// `numerator / denominator` rounded half away from zero; `denominator` must be positive.
fn divide_rounding_half_away_from_zero(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder.abs() * 2 >= denominator {
        quotient + numerator.signum()
    } else {
        quotient
    }
}

fn not_negative(field: &str, amount: Money) -> Result<(), Invalid> {
    if amount.is_negative() {
        return Err(Invalid::new(
            field,
            format!("is {amount}; an amount must be 0.00 or more"),
        ));
    }
    Ok(())
}

/// Hours a week as a whole number of hundredths of an hour.
fn hundredths_of_an_hour(hours_per_week: Decimal) -> Result<i128, Invalid> {
    let field = "hours_per_week";
    if hours_per_week <= Decimal::ZERO || hours_per_week > Decimal::from(MAX_HOURS_PER_WEEK) {
        return Err(Invalid::new(
            field,
            format!(
                "is {hours_per_week}; hours a week must be more than 0 and at most {MAX_HOURS_PER_WEEK}"
            ),
        ));
    }
    let normalized = hours_per_week.normalize();
    if normalized.scale() > HOURS_DECIMAL_PLACES {
        return Err(Invalid::new(
            field,
            format!(
                "is {normalized} with {} decimal places; at most {HOURS_DECIMAL_PLACES} are accepted",
                normalized.scale()
            ),
        ));
    }
    let mut scaled = normalized;
    scaled.rescale(HOURS_DECIMAL_PLACES);
    Ok(scaled.mantissa())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn money(text: &str) -> Money {
        Money::parse(text).expect("test amounts are valid")
    }

    fn amount(given: GivenAmount) -> LineAmount {
        LineAmount::new(given).expect("test amounts are valid")
    }

    #[test]
    fn each_given_form_converts_to_hundredths_of_a_penny_a_year_without_loss() {
        let weekly = amount(GivenAmount::Weekly {
            per_week: money("210.00"),
        });
        assert_eq!(
            weekly.yearly_rate().hundredths_of_a_penny_per_year(),
            21_000 * 52 * 100
        );
        let annual = amount(GivenAmount::Annual {
            per_year: money("1000.00"),
        });
        assert_eq!(
            annual.yearly_rate().hundredths_of_a_penny_per_year(),
            100_000 * 100
        );
        let hours = amount(GivenAmount::HoursAtRate {
            hours_per_week: dec!(7.25),
            hourly_rate: money("11.53"),
        });
        assert_eq!(
            hours.yearly_rate().hundredths_of_a_penny_per_year(),
            725 * 1153 * 52
        );
    }

    #[test]
    fn the_weekly_figure_has_four_places_and_is_exact_unless_an_annual_amount_divides_unevenly() {
        let weekly = amount(GivenAmount::Weekly {
            per_week: money("210.00"),
        });
        assert_eq!(weekly.weekly().to_string(), "210.0000");
        let hours = amount(GivenAmount::HoursAtRate {
            hours_per_week: dec!(7.25),
            hourly_rate: money("11.53"),
        });
        // 7.25 x 11.53 = 83.5925 exactly.
        assert_eq!(hours.weekly().to_string(), "83.5925");
        assert_eq!(
            hours
                .yearly_rate()
                .weekly_to_the_penny()
                .map(|m| m.to_string()),
            Some("83.59".to_owned())
        );
        let annual = amount(GivenAmount::Annual {
            per_year: money("1000.00"),
        });
        // 1000 / 52 = 19.230769..., shown as 19.2308.
        assert_eq!(annual.weekly().to_string(), "19.2308");
        assert_eq!(
            annual
                .yearly_rate()
                .weekly_to_the_penny()
                .map(|m| m.to_string()),
            Some("19.23".to_owned())
        );
    }

    #[test]
    fn a_budget_year_of_364_days_accrues_exactly_the_annual_figure() {
        let annual = amount(GivenAmount::Annual {
            per_year: money("1000.00"),
        });
        assert_eq!(
            annual.yearly_rate().exact_accrual(364).rounded_pence(),
            100_000
        );
        // One day of 1000.00 a year is 2.747..., which rounds to 2.75.
        assert_eq!(annual.yearly_rate().exact_accrual(1).rounded_pence(), 275);
    }

    #[test]
    fn a_line_costing_more_than_the_most_a_week_is_refused_in_every_form() {
        let cases = [
            (
                GivenAmount::Weekly {
                    per_week: money("100000.01"),
                },
                "per_week",
            ),
            (
                GivenAmount::Annual {
                    per_year: money("999999999999.99"),
                },
                "per_year",
            ),
            (
                GivenAmount::HoursAtRate {
                    hours_per_week: dec!(168),
                    hourly_rate: money("9999999999.99"),
                },
                "hourly_rate",
            ),
        ];
        for (given, field) in cases {
            let refusal = LineAmount::new(given).expect_err("refused");
            assert_eq!(refusal.field(), field, "{given:?}");
            assert!(
                refusal
                    .problem()
                    .contains("more than 100000.00 a week, the most one line may cost"),
                "{refusal}"
            );
        }
        assert!(
            LineAmount::new(GivenAmount::Weekly {
                per_week: money("100000.00")
            })
            .is_ok(),
            "the most is allowed"
        );
        assert!(
            LineAmount::new(GivenAmount::Annual {
                per_year: money("5200000.00")
            })
            .is_ok()
        );
    }

    #[test]
    fn negative_amounts_and_impossible_hours_are_refused_with_the_field_at_fault() {
        let cases = [
            (
                GivenAmount::Weekly {
                    per_week: money("-0.01"),
                },
                "per_week",
                "0.00 or more",
            ),
            (
                GivenAmount::Annual {
                    per_year: money("-5.00"),
                },
                "per_year",
                "0.00 or more",
            ),
            (
                GivenAmount::HoursAtRate {
                    hours_per_week: dec!(0),
                    hourly_rate: money("20.00"),
                },
                "hours_per_week",
                "more than 0",
            ),
            (
                GivenAmount::HoursAtRate {
                    hours_per_week: dec!(168.01),
                    hourly_rate: money("20.00"),
                },
                "hours_per_week",
                "at most 168",
            ),
            (
                GivenAmount::HoursAtRate {
                    hours_per_week: dec!(7.125),
                    hourly_rate: money("20.00"),
                },
                "hours_per_week",
                "3 decimal places",
            ),
            (
                GivenAmount::HoursAtRate {
                    hours_per_week: dec!(7.5),
                    hourly_rate: money("-20.00"),
                },
                "hourly_rate",
                "0.00 or more",
            ),
        ];
        for (given, field, problem) in cases {
            let error = LineAmount::new(given).unwrap_err();
            assert_eq!(error.field(), field, "{given:?}");
            assert!(error.problem().contains(problem), "{error}");
        }
        // Trailing zeros are not extra places.
        assert!(
            LineAmount::new(GivenAmount::HoursAtRate {
                hours_per_week: dec!(7.5000),
                hourly_rate: money("20.00"),
            })
            .is_ok()
        );
    }

    #[test]
    fn rounding_goes_half_away_from_zero() {
        assert_eq!(divide_rounding_half_away_from_zero(5, 10), 1);
        assert_eq!(divide_rounding_half_away_from_zero(4, 10), 0);
        assert_eq!(divide_rounding_half_away_from_zero(-5, 10), -1);
        assert_eq!(divide_rounding_half_away_from_zero(-4, 10), 0);
    }

    #[test]
    fn amounts_describe_themselves_as_given() {
        let hours = amount(GivenAmount::HoursAtRate {
            hours_per_week: dec!(12.5),
            hourly_rate: money("21.40"),
        });
        assert_eq!(
            hours.describe(),
            "12.5 hours a week at 21.40 an hour (267.5000 a week)"
        );
    }
}
