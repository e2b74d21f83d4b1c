//! Drafting an agreement from plan lines: the parties follow from the person's choice, the
//! lines from the plan, the terms from the authority's contract defaults and the payee
//! from who holds the fund.
//!
//! What must stay true: the drafted content passes the same checks as any agreement (an
//! agreement that could not be signed is never drafted); the weekly amount of a line is
//! the plan's to the penny; the agreement spans its lines, from the earliest start to the
//! latest end (open-ended when any line is).

use rust_decimal::Decimal;
use sds_money::{Money, round_to_penny};
use sds_vocabulary::{AuthorityId, Invalid};
use uuid::Uuid;

use super::agreement::{AgreementContent, FundedLine, Parties, Representative};
use super::defaults::DefaultTerms;
use super::plan_copy::{Chosen, PlanLineCopy};
use super::terms::Payee;

/// The outcomes of an agreement drafted from a plan, which carries none: the practitioner
/// agrees them with the person before anyone signs.
pub const PLACEHOLDER_OUTCOMES: &str = "To be agreed with the person before signing";

sds_vocabulary::wire_enum! {
    /// Where an agreement stands.
    pub enum AgreementStatus("agreement status") => sds_proto::v1::AgreementStatus {
        /// Waiting for its first version to be signed by every party.
        Draft = "draft",
        /// Signed by every party; payments follow it.
        Active = "active",
        Ended = "ended",
    }
}

/// What an agreement drafted from plan lines is made of, besides the lines.
#[derive(Debug, Clone)]
pub struct DraftFrom<'a> {
    pub authority: &'a AuthorityId,
    pub person_id: Uuid,
    pub chosen: Chosen,
    pub defaults: &'a DefaultTerms,
    pub outcomes: String,
    pub representative: Option<Representative>,
}

/// A plan's weekly amount (exact to 4 places) to the penny, half away from zero.
pub(crate) fn weekly(field: &str, amount: Decimal) -> Result<Money, Invalid> {
    Money::try_from(round_to_penny(amount))
        .map_err(|_| Invalid::new(field, format!("{amount} is not an amount a week")))
}

/// The content of an agreement funding `lines` (at least one).
pub fn draft_content(
    from: DraftFrom<'_>,
    lines: &[&PlanLineCopy],
) -> Result<AgreementContent, Invalid> {
    let start = lines
        .iter()
        .map(|line| line.start)
        .min()
        .ok_or_else(|| Invalid::new("plan_lines", "is empty; name the plan lines to fund"))?;
    let end = if lines.iter().any(|line| line.end.is_none()) {
        None
    } else {
        lines.iter().filter_map(|line| line.end).max()
    };
    let funded = lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            Ok(FundedLine {
                plan_line: line.number,
                support_type: line.support_type.clone(),
                weekly: weekly(&format!("lines[{index}].weekly"), line.weekly)?,
                hours_per_week: line.hours_per_week,
                start: line.start,
                end: line.end,
            })
        })
        .collect::<Result<Vec<_>, Invalid>>()?;
    let Chosen {
        provider_id,
        holding_model,
        holder_id,
    } = from.chosen;
    AgreementContent {
        parties: Parties {
            person_id: from.person_id,
            representative: from.representative,
            provider_id,
            authority: from.authority.clone(),
            holder_id,
        },
        lines: funded,
        outcomes: from.outcomes,
        terms: from.defaults.terms_for(start, end)?,
        payee: Payee::follows_from(holding_model, provider_id, holder_id)?,
        rate: None,
    }
    .checked()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::defaults::DefaultTermsDraft;
    use crate::domain::fee::{FeePlacement, ManagementFee};
    use crate::domain::plan_copy::Arrangement;
    use crate::domain::terms::{Frequency, HoldingModel, PaymentBasis, PaymentTiming};
    use rust_decimal_macros::dec;

    fn day(text: &str) -> chrono::NaiveDate {
        text.parse().expect("a date")
    }

    #[test]
    fn a_draft_spans_its_lines_to_the_penny_and_pays_the_holder_of_a_third_party_fund() {
        let defaults = DefaultTerms::new(
            "terms",
            DefaultTermsDraft {
                frequency: Frequency::FourWeekly,
                timing: PaymentTiming::Arrears { lag_days: 14 },
                basis: PaymentBasis::Actuals,
                flex_tolerance_percent: dec!(10),
                fee: ManagementFee::Percentage {
                    percent: dec!(7.5),
                    placement: FeePlacement::WithinBudget,
                },
                notice_days: 28,
                review_after_months: 6,
            },
        )
        .expect("defaults");
        let line = |number, start: &str, end: Option<&str>| PlanLineCopy {
            number,
            support_type: "personal_care".into(),
            weekly: dec!(210.1250),
            hours_per_week: None,
            arrangement: Arrangement::DirectPayment,
            start: day(start),
            end: end.map(day),
        };
        let first = line(1, "2026-12-01", Some("2027-05-31"));
        let second = line(2, "2027-01-01", Some("2027-09-30"));
        let authority = AuthorityId::parse("authority", "fife").expect("authority");
        let content = draft_content(
            DraftFrom {
                authority: &authority,
                person_id: Uuid::from_u128(1),
                chosen: Chosen {
                    provider_id: Uuid::from_u128(2),
                    holding_model: HoldingModel::ThirdParty,
                    holder_id: Some(Uuid::from_u128(3)),
                },
                defaults: &defaults,
                outcomes: PLACEHOLDER_OUTCOMES.into(),
                representative: None,
            },
            &[&first, &second],
        )
        .expect("drafted");
        assert_eq!(content.lines[0].weekly.to_string(), "210.13");
        assert_eq!(content.terms.start(), day("2026-12-01"));
        assert_eq!(content.terms.end(), Some(day("2027-09-30")));
        assert_eq!(content.terms.review_on(), day("2027-06-01"));
        assert_eq!(
            content.payee,
            Payee::Holder {
                holder_id: Uuid::from_u128(3)
            }
        );
    }
}
