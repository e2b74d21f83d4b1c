//! A provider's rate card for a service type: the components of its hourly rate (care
//! worker wage, on-costs, travel, training, overheads, management, surplus), effective from
//! a date, and the uplifts scheduled ahead that change it from their own dates without
//! re-contracting (a percentage, or new values for some components, such as a new Scottish
//! Living Wage from 1 April).
//!
//! What must stay true: the hourly rate is always exactly the sum of its components (a
//! percentage uplift rounds each component to the penny, half away from zero, and the rate
//! is their sum, so the card still adds up); a rate in force on a date is the latest
//! version effective on or before it; the weekly amount of hours at a rate is rounded once,
//! to whole pence, and the accrual of a line splits at each uplift date exactly.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::{AccrualLine, Money, round_to_penny};
use sds_vocabulary::{Invalid, NamedEnum as _, shown};

sds_vocabulary::wire_enum! {
    /// A part of an hourly rate.
    pub enum RateComponent("rate component") => sds_proto::v1::RateComponent {
        CareWorkerWage = "care_worker_wage",
        OnCosts = "on_costs",
        Travel = "travel",
        Training = "training",
        Overheads = "overheads",
        Management = "management",
        Surplus = "surplus",
    }
}

/// An hourly rate as the sum of its components; a component not given is 0.00.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCard {
    components: BTreeMap<RateComponent, Money>,
}

impl RateCard {
    /// Reads the components given under `field`: each at most once, none negative, and a
    /// care worker wage above 0.00 (a rate without one pays nobody to care).
    pub fn new(field: &str, given: &[(RateComponent, Money)]) -> Result<RateCard, Invalid> {
        let card = RateCard {
            components: components(field, given)?,
        };
        if card.component(RateComponent::CareWorkerWage).is_zero() {
            return Err(Invalid::new(
                field,
                "has no care_worker_wage above 0.00 an hour; the wage is the core of the rate",
            ));
        }
        card.hourly_rate()
            .map_err(|_| Invalid::new(field, "adds up to more than an hourly rate can be"))?;
        Ok(card)
    }

    /// The amount of one component an hour (0.00 when not given).
    pub fn component(&self, component: RateComponent) -> Money {
        self.components
            .get(&component)
            .copied()
            .unwrap_or_else(Money::zero)
    }

    /// Every component given, in a fixed order.
    pub fn components(&self) -> impl Iterator<Item = (RateComponent, Money)> + '_ {
        self.components
            .iter()
            .map(|(component, amount)| (*component, *amount))
    }

    /// The hourly rate: exactly the sum of the components.
    pub fn hourly_rate(&self) -> Result<Money, RateError> {
        self.components
            .values()
            .try_fold(Money::zero(), |sum, amount| sum.checked_add(*amount))
            .ok_or(RateError::OutOfRange)
    }

    /// The card after `uplift`.
    pub fn uplifted(&self, uplift: &Uplift) -> Result<RateCard, RateError> {
        let mut components = self.components.clone();
        match uplift {
            Uplift::Percentage(percent) => {
                let factor = Decimal::ONE_HUNDRED
                    .checked_add(*percent)
                    .ok_or(RateError::OutOfRange)?;
                for amount in components.values_mut() {
                    let raised = amount
                        .as_decimal()
                        .checked_mul(factor)
                        .and_then(|product| product.checked_div(Decimal::ONE_HUNDRED))
                        .ok_or(RateError::OutOfRange)?;
                    *amount = Money::try_from(round_to_penny(raised))
                        .map_err(|_| RateError::OutOfRange)?;
                }
            }
            Uplift::NewValues(values) => {
                for (component, amount) in values {
                    components.insert(*component, *amount);
                }
            }
        }
        let card = RateCard { components };
        card.hourly_rate()?;
        Ok(card)
    }
}

/// Hourly amounts by component, each given once and none negative.
fn components(
    field: &str,
    given: &[(RateComponent, Money)],
) -> Result<BTreeMap<RateComponent, Money>, Invalid> {
    let mut components = BTreeMap::new();
    for (index, (component, amount)) in given.iter().enumerate() {
        let at = format!("{field}[{index}]");
        if amount.is_negative() {
            return Err(Invalid::new(
                at,
                format!(
                    "{} is {amount}; a component is 0.00 or more an hour",
                    component.name()
                ),
            ));
        }
        if components.insert(*component, *amount).is_some() {
            return Err(Invalid::new(
                at,
                format!(
                    "gives {} a second time; give each component once",
                    component.name()
                ),
            ));
        }
    }
    Ok(components)
}

/// A change to a rate card from a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uplift {
    /// Every component raised by this percentage (above 0, at most 100, two places).
    Percentage(Decimal),
    /// New hourly values for the components named; the others stay as they were.
    NewValues(Vec<(RateComponent, Money)>),
}

impl Uplift {
    /// Checks the uplift's amounts; refusals name `field.<part>`.
    pub fn checked(self, field: &str) -> Result<Uplift, Invalid> {
        match &self {
            Uplift::Percentage(percent) => {
                if *percent <= Decimal::ZERO
                    || *percent > Decimal::ONE_HUNDRED
                    || percent.normalize().scale() > 2
                {
                    return Err(Invalid::new(
                        format!("{field}.percent"),
                        format!(
                            "is {}; an uplift is above 0 and at most 100 percent, with at most 2 decimal places, such as 3.5",
                            shown(&percent.to_string())
                        ),
                    ));
                }
            }
            Uplift::NewValues(values) => {
                if values.is_empty() {
                    return Err(Invalid::new(
                        format!("{field}.new_values"),
                        "is empty; name at least one component and its new hourly value",
                    ));
                }
                // New values need not include the wage; only their own amounts count.
                components(&format!("{field}.new_values"), values)?;
            }
        }
        Ok(self)
    }
}

/// One version of a rate card: the card in force from `effective_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateVersion {
    pub effective_from: NaiveDate,
    pub card: RateCard,
}

/// A rate card with its versions, oldest first: the first as agreed, each later one an
/// uplift of the one before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateHistory {
    versions: Vec<RateVersion>,
}

impl RateHistory {
    pub fn new(effective_from: NaiveDate, card: RateCard) -> RateHistory {
        RateHistory {
            versions: vec![RateVersion {
                effective_from,
                card,
            }],
        }
    }

    pub fn versions(&self) -> &[RateVersion] {
        &self.versions
    }

    /// Schedules `uplift` from `effective_from`, which must be after every version so far
    /// (an uplift changes the rate from then on; the past stays as it was agreed).
    pub fn schedule(
        &mut self,
        effective_from: NaiveDate,
        uplift: &Uplift,
    ) -> Result<&RateVersion, UpliftRefused> {
        let latest = self.versions.last().ok_or(UpliftRefused::OutOfRange)?;
        if effective_from <= latest.effective_from {
            return Err(UpliftRefused::NotAfterLatest {
                effective_from,
                latest: latest.effective_from,
            });
        }
        let card = latest
            .card
            .uplifted(uplift)
            .map_err(|_| UpliftRefused::OutOfRange)?;
        self.versions.push(RateVersion {
            effective_from,
            card,
        });
        Ok(&self.versions[self.versions.len() - 1])
    }

    /// The card in force on `date`, if the history has started by then.
    pub fn card_on(&self, date: NaiveDate) -> Option<&RateCard> {
        self.versions
            .iter()
            .rev()
            .find(|version| version.effective_from <= date)
            .map(|version| &version.card)
    }

    /// A line of `hours_per_week` at this rate from `start` to `end` (inclusive, open when
    /// `None`), as accrual lines split at every version's date: what payments accrues.
    pub fn accrual_lines(
        &self,
        hours_per_week: Decimal,
        start: NaiveDate,
        end: Option<NaiveDate>,
    ) -> Result<Vec<AccrualLine>, RateError> {
        let mut lines = Vec::new();
        for (index, version) in self.versions.iter().enumerate() {
            let next_from = self.versions.get(index + 1).map(|next| next.effective_from);
            let from = version.effective_from.max(start);
            let until = match (next_from.and_then(|next| next.pred_opt()), end) {
                (Some(last), Some(end)) => Some(last.min(end)),
                (Some(last), None) => Some(last),
                (None, end) => end,
            };
            if until.is_some_and(|until| until < from) {
                continue;
            }
            let weekly = weekly_for_hours(hours_per_week, &version.card)?;
            lines.push(AccrualLine::new(weekly, from, until).map_err(|_| RateError::OutOfRange)?);
        }
        Ok(lines)
    }
}

/// The weekly amount of `hours_per_week` at the card's hourly rate, rounded once to whole
/// pence (half away from zero).
pub fn weekly_for_hours(hours_per_week: Decimal, card: &RateCard) -> Result<Money, RateError> {
    let exact = hours_per_week
        .checked_mul(card.hourly_rate()?.as_decimal())
        .ok_or(RateError::OutOfRange)?;
    Money::try_from(round_to_penny(exact)).map_err(|_| RateError::OutOfRange)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("the rate is too large to represent")]
    OutOfRange,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpliftRefused {
    #[error(
        "an uplift from {effective_from} is not after the rate's latest version, from {latest}; an uplift changes the rate from a later date"
    )]
    NotAfterLatest {
        effective_from: NaiveDate,
        latest: NaiveDate,
    },
    #[error("the uplifted rate is too large to represent")]
    OutOfRange,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use sds_money::{Calendar, cumulative_instalments, rounded_accrual};

    #[test]
    fn names_follow_the_wire() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<RateComponent>();
    }

    fn money(text: &str) -> Money {
        Money::parse(text).expect("money")
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    /// Scottish Living Wage 2026/27 style: 12.60 wage and the rest, 25.37 an hour.
    fn card() -> RateCard {
        RateCard::new(
            "components",
            &[
                (RateComponent::CareWorkerWage, money("12.60")),
                (RateComponent::OnCosts, money("3.15")),
                (RateComponent::Travel, money("2.10")),
                (RateComponent::Training, money("0.52")),
                (RateComponent::Overheads, money("4.00")),
                (RateComponent::Management, money("2.00")),
                (RateComponent::Surplus, money("1.00")),
            ],
        )
        .expect("a card")
    }

    #[test]
    fn the_components_add_up_to_the_hourly_rate() {
        assert_eq!(card().hourly_rate(), Ok(money("25.37")));
        let wage_only =
            RateCard::new("c", &[(RateComponent::CareWorkerWage, money("13.45"))]).expect("card");
        assert_eq!(wage_only.hourly_rate(), Ok(money("13.45")));
        assert_eq!(wage_only.component(RateComponent::Surplus), Money::zero());
    }

    #[test]
    fn a_card_without_a_wage_a_negative_or_a_repeated_component_is_refused() {
        let cases: Vec<(Vec<(RateComponent, Money)>, &str)> = vec![
            (vec![(RateComponent::OnCosts, money("3.00"))], "components"),
            (
                vec![(RateComponent::CareWorkerWage, money("0.00"))],
                "components",
            ),
            (
                vec![
                    (RateComponent::CareWorkerWage, money("12.60")),
                    (RateComponent::Travel, money("-0.01")),
                ],
                "components[1]",
            ),
            (
                vec![
                    (RateComponent::CareWorkerWage, money("12.60")),
                    (RateComponent::CareWorkerWage, money("12.60")),
                ],
                "components[1]",
            ),
        ];
        for (given, field) in cases {
            let refusal = RateCard::new("components", &given).expect_err("refused");
            assert_eq!(refusal.field(), field, "{given:?}");
        }
    }

    #[test]
    fn a_percentage_uplift_rounds_each_component_and_the_card_still_adds_up() {
        // 12.60, 3.15, 2.10, 0.52, 4.00, 2.00, 1.00 raised 3.5%:
        // 13.041 -> 13.04, 3.26025 -> 3.26, 2.1735 -> 2.17, 0.5382 -> 0.54, 4.14, 2.07, 1.035 -> 1.04
        let raised = card()
            .uplifted(&Uplift::Percentage(dec!(3.5)))
            .expect("uplifted");
        assert_eq!(
            raised.component(RateComponent::CareWorkerWage),
            money("13.04")
        );
        assert_eq!(raised.component(RateComponent::Surplus), money("1.04"));
        assert_eq!(raised.hourly_rate(), Ok(money("26.26")));
        let sum = raised
            .components()
            .try_fold(Money::zero(), |sum, (_, amount)| sum.checked_add(amount));
        assert_eq!(Some(raised.hourly_rate().unwrap()), sum);
    }

    #[test]
    fn new_component_values_replace_only_those_named() {
        let raised = card()
            .uplifted(&Uplift::NewValues(vec![(
                RateComponent::CareWorkerWage,
                money("13.45"),
            )]))
            .expect("uplifted");
        assert_eq!(raised.hourly_rate(), Ok(money("26.22")), "25.37 + 0.85");
        assert_eq!(raised.component(RateComponent::OnCosts), money("3.15"));
    }

    #[test]
    fn uplift_amounts_out_of_range_are_refused_by_field() {
        for (uplift, field) in [
            (Uplift::Percentage(dec!(0)), "uplift.percent"),
            (Uplift::Percentage(dec!(100.5)), "uplift.percent"),
            (Uplift::Percentage(dec!(2.125)), "uplift.percent"),
            (Uplift::NewValues(vec![]), "uplift.new_values"),
            (
                Uplift::NewValues(vec![(RateComponent::Travel, money("-1.00"))]),
                "uplift.new_values[0]",
            ),
        ] {
            let refusal = uplift.clone().checked("uplift").expect_err("refused");
            assert_eq!(refusal.field(), field, "{uplift:?}");
        }
        assert!(
            Uplift::NewValues(vec![(RateComponent::Travel, money("2.50"))])
                .checked("uplift")
                .is_ok(),
            "new values need not name the wage"
        );
    }

    #[test]
    fn the_rate_on_a_date_is_the_latest_version_in_force_and_uplifts_go_forward_only() {
        let mut history = RateHistory::new(day("2026-04-01"), card());
        history
            .schedule(day("2027-04-01"), &Uplift::Percentage(dec!(3.5)))
            .expect("scheduled");
        assert_eq!(history.card_on(day("2026-03-31")), None);
        assert_eq!(
            history.card_on(day("2027-03-31")).unwrap().hourly_rate(),
            Ok(money("25.37"))
        );
        assert_eq!(
            history.card_on(day("2027-04-01")).unwrap().hourly_rate(),
            Ok(money("26.26"))
        );
        assert_eq!(
            history.schedule(day("2027-04-01"), &Uplift::Percentage(dec!(1))),
            Err(UpliftRefused::NotAfterLatest {
                effective_from: day("2027-04-01"),
                latest: day("2027-04-01"),
            })
        );
    }

    #[test]
    fn hours_at_a_rate_are_rounded_once_to_whole_pence_a_week() {
        // 7.5 hours at 25.37 = 190.275 -> 190.28.
        assert_eq!(weekly_for_hours(dec!(7.5), &card()), Ok(money("190.28")));
        assert_eq!(weekly_for_hours(dec!(10), &card()), Ok(money("253.70")));
    }

    #[test]
    fn an_uplift_in_the_middle_of_a_period_accrues_each_day_at_the_rate_in_force() {
        // Four-weekly periods from 2026-04-06: 2027-03-08..2027-04-04 holds the uplift of
        // 1 April; 10 hours a week at 25.00, then 26.00 (4%).
        let base =
            RateCard::new("c", &[(RateComponent::CareWorkerWage, money("25.00"))]).expect("card");
        let mut history = RateHistory::new(day("2026-04-01"), base);
        history
            .schedule(day("2027-04-01"), &Uplift::Percentage(dec!(4)))
            .expect("scheduled");
        let lines = history
            .accrual_lines(dec!(10), day("2026-10-01"), None)
            .expect("lines");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].end(), Some(day("2027-03-31")));
        assert_eq!(lines[1].start(), day("2027-04-01"));
        assert_eq!(lines[1].weekly_amount(), money("260.00"));
        let calendar = Calendar::FourWeekly {
            anchor: day("2026-04-06"),
        };
        let across = calendar.period_containing(day("2027-04-01"));
        assert_eq!(
            (across.start, across.end),
            (day("2027-03-08"), day("2027-04-04"))
        );
        // 24 days at 250/7 and 4 days at 260/7: 7040/7 = 1005.714... -> 1005.71.
        assert_eq!(
            rounded_accrual(&lines, across.start, across.end),
            Ok(money("1005.71"))
        );
        let after = calendar.period_after(&across).expect("the next period");
        assert_eq!(
            rounded_accrual(&lines, after.start, after.end),
            Ok(money("1040.00"))
        );
        // Split cumulatively, the two periods lose nothing.
        let instalments = cumulative_instalments(&lines, &[across, after]).expect("instalments");
        assert_eq!(instalments, vec![money("1005.71"), money("1040.00")]);
    }

    #[test]
    fn a_line_ending_before_an_uplift_never_sees_it_and_one_starting_after_starts_uplifted() {
        let mut history = RateHistory::new(day("2026-04-01"), card());
        history
            .schedule(day("2027-04-01"), &Uplift::Percentage(dec!(3.5)))
            .expect("scheduled");
        let ended = history
            .accrual_lines(dec!(10), day("2026-05-01"), Some(day("2027-01-31")))
            .expect("lines");
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].weekly_amount(), money("253.70"));
        let later = history
            .accrual_lines(dec!(10), day("2027-06-01"), None)
            .expect("lines");
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].weekly_amount(), money("262.60"));
        assert_eq!(later[0].start(), day("2027-06-01"));
    }
}
