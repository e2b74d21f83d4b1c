//! What contracts knows of a person's approved plan: each version as assessment's plan
//! events carried it, and which of its lines are ready for an agreement.
//!
//! What must stay true: only option 2 lines (the person chose the provider, someone other
//! than the person holds the fund) are funded by agreements; a line is ready only once the
//! person has chosen both the provider and, for a third-party fund, the holder; lines that
//! share a provider, holding model and holder are funded by one agreement.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::terms::HoldingModel;
use sds_vocabulary::NamedEnum as _;

/// How a plan line is arranged, as the plan event said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Arrangement {
    /// Option 1.
    DirectPayment,
    /// Option 2. The parts the person has not chosen yet are `None`; the provider is
    /// kept as the event named it (a directory id once assessment resolved it).
    PersonDirected {
        provider: Option<String>,
        holding_model: Option<String>,
        holder: Option<String>,
    },
    /// Option 3.
    AuthorityArranged { provider: Option<String> },
}

/// One line of a plan version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLineCopy {
    pub number: u32,
    /// The support type's name, such as `personal_care`.
    pub support_type: String,
    /// The amount a week, exact to 4 decimal places as the plan gives it.
    pub weekly: Decimal,
    /// Hours a week, when the plan gives the line as hours at a rate (copies stored before
    /// hours were kept have none).
    #[serde(default)]
    pub hours_per_week: Option<Decimal>,
    pub arrangement: Arrangement,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// A plan version as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanCopy {
    pub person_id: Uuid,
    pub version: u32,
    pub effective_from: NaiveDate,
    pub recorded_on: NaiveDate,
    pub ends_plan: bool,
    pub lines: Vec<PlanLineCopy>,
}

/// Who an option 2 line's agreement is with, once the person has chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chosen {
    pub provider_id: Uuid,
    pub holding_model: HoldingModel,
    /// Only for a third-party fund.
    pub holder_id: Option<Uuid>,
}

impl PlanLineCopy {
    /// The provider, holding model and holder of an option 2 line whose choice is complete;
    /// `None` for other options and for a choice still pending.
    pub fn chosen(&self) -> Option<Chosen> {
        let Arrangement::PersonDirected {
            provider,
            holding_model,
            holder,
        } = &self.arrangement
        else {
            return None;
        };
        let provider_id = Uuid::parse_str(provider.as_deref()?).ok()?;
        let holding_model = HoldingModel::from_name(holding_model.as_deref()?)?;
        let holder_id = match holding_model {
            HoldingModel::ThirdParty => Some(Uuid::parse_str(holder.as_deref()?).ok()?),
            HoldingModel::Provider | HoldingModel::Authority => None,
        };
        Some(Chosen {
            provider_id,
            holding_model,
            holder_id,
        })
    }

    /// Whether the line is still in the plan on or after `on` (ended lines stay in the
    /// plan's history).
    fn runs_on_or_after(&self, on: NaiveDate) -> bool {
        self.end.is_none_or(|end| end >= on)
    }
}

/// The agreements a plan version calls for: its ready option 2 lines not already funded,
/// grouped by who the agreement is with, in the order the lines first appear.
pub fn agreements_called_for<'a>(
    plan: &'a PlanCopy,
    funded: &[u32],
) -> Vec<(Chosen, Vec<&'a PlanLineCopy>)> {
    let mut groups: Vec<(Chosen, Vec<&PlanLineCopy>)> = Vec::new();
    let ready = plan.lines.iter().filter(|line| {
        !funded.contains(&line.number) && line.runs_on_or_after(plan.effective_from)
    });
    for line in ready {
        let Some(chosen) = line.chosen() else {
            continue;
        };
        match groups.iter_mut().find(|(with, _)| *with == chosen) {
            Some((_, lines)) => lines.push(line),
            None => groups.push((chosen, vec![line])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const PROVIDER: &str = "0192f0c1-0000-7000-8000-00000000c5a1";
    const OTHER: &str = "0192f0c1-0000-7000-8000-00000000c5a2";
    const HOLDER: &str = "0192f0c1-0000-7000-8000-0000000000b1";

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn line(number: u32, arrangement: Arrangement) -> PlanLineCopy {
        PlanLineCopy {
            number,
            support_type: "personal_care".into(),
            weekly: dec!(100),
            hours_per_week: None,
            arrangement,
            start: day("2026-12-01"),
            end: None,
        }
    }

    fn directed(provider: Option<&str>, model: Option<&str>, holder: Option<&str>) -> Arrangement {
        Arrangement::PersonDirected {
            provider: provider.map(str::to_owned),
            holding_model: model.map(str::to_owned),
            holder: holder.map(str::to_owned),
        }
    }

    #[test]
    fn ready_option_2_lines_are_grouped_by_provider_model_and_holder() {
        let mut ended = line(6, directed(Some(PROVIDER), Some("provider"), None));
        ended.end = Some(day("2026-11-30"));
        let plan = PlanCopy {
            person_id: Uuid::from_u128(1),
            version: 1,
            effective_from: day("2026-12-01"),
            recorded_on: day("2026-11-28"),
            ends_plan: false,
            lines: vec![
                line(
                    1,
                    directed(Some(PROVIDER), Some("third_party"), Some(HOLDER)),
                ),
                line(2, Arrangement::AuthorityArranged { provider: None }),
                line(
                    3,
                    directed(Some(PROVIDER), Some("third_party"), Some(HOLDER)),
                ),
                line(4, directed(Some(OTHER), Some("third_party"), None)),
                line(5, directed(None, Some("provider"), None)),
                ended,
                line(7, directed(Some(OTHER), Some("provider"), None)),
                line(8, Arrangement::DirectPayment),
            ],
        };
        let groups = agreements_called_for(&plan, &[]);
        let numbers: Vec<Vec<u32>> = groups
            .iter()
            .map(|(_, lines)| lines.iter().map(|line| line.number).collect())
            .collect();
        assert_eq!(numbers, vec![vec![1, 3], vec![7]]);
        assert_eq!(
            groups[0].0.holder_id,
            Some(Uuid::parse_str(HOLDER).unwrap())
        );
        assert_eq!(groups[1].0.holder_id, None);
        let left = agreements_called_for(&plan, &[1, 3]);
        assert_eq!(left.len(), 1, "funded lines are not drafted again");
    }
}
