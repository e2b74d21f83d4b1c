//! What payments reads from an agreement event: the schedule's terms (payee, calendar,
//! timing) and the agreed version (its lines with their weekly amounts and dates, and the
//! fee when it is paid on top). A field that breaks the rules is named in the refusal.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_proto::v1 as proto;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use uuid::Uuid;

use super::DEFAULT_ANCHOR;
use crate::domain::history::{AgreedVersion, Line, LineKind};
use crate::domain::terms::{
    Basis, Frequency, HoldingModel, PayeeKind, PaymentTiming, ScheduleTerms,
};

pub(super) fn uuid(text: &str) -> Result<Uuid, String> {
    Uuid::parse_str(text).map_err(|_| format!("{text:?} is not a UUID"))
}

fn day(field: &str, raw: Option<&proto::Date>) -> Result<Option<NaiveDate>, String> {
    match raw
        .map(|date| date.iso.as_str())
        .filter(|iso| !iso.is_empty())
    {
        None => Ok(None),
        Some(iso) => iso
            .parse()
            .map(Some)
            .map_err(|_| format!("{field} {iso:?} is not a date")),
    }
}

pub(super) fn required_day(field: &str, raw: Option<&proto::Date>) -> Result<NaiveDate, String> {
    day(field, raw)?.ok_or_else(|| format!("{field} is missing"))
}

fn money(field: &str, raw: Option<&proto::Money>) -> Result<Money, String> {
    let text = raw.map(|money| money.amount.as_str()).unwrap_or_default();
    Money::parse(text).map_err(|error| format!("{field}: {error}"))
}

/// The schedule's parties and calendar, from the agreement as first heard of.
pub(super) fn schedule_terms(
    agreement: &proto::Agreement,
    authority: &AuthorityId,
    anchor: Option<NaiveDate>,
) -> Result<ScheduleTerms, String> {
    let terms = agreement.terms.as_ref().ok_or("carries no terms")?;
    let frequency = match proto::PaymentFrequency::try_from(terms.frequency) {
        Ok(proto::PaymentFrequency::FourWeekly) => Frequency::FourWeekly,
        Ok(proto::PaymentFrequency::Quarterly) => Frequency::Quarterly,
        Ok(proto::PaymentFrequency::Monthly) => Frequency::Monthly,
        _ => return Err(format!("unknown payment frequency {}", terms.frequency)),
    };
    let (timing, payment_lag_days) = match terms
        .timing
        .as_ref()
        .and_then(|timing| timing.timing.as_ref())
    {
        Some(proto::payment_timing::Timing::Advance(_)) => (PaymentTiming::Advance, 0),
        Some(proto::payment_timing::Timing::Arrears(arrears)) if arrears.lag_days <= 90 => {
            (PaymentTiming::Arrears, arrears.lag_days)
        }
        _ => return Err("carries no payment timing, or a lag above 90 days".to_owned()),
    };
    let basis = match proto::PaymentBasis::try_from(terms.basis) {
        Ok(proto::PaymentBasis::Scheduled) => Basis::Scheduled,
        Ok(proto::PaymentBasis::Actuals) => Basis::Actuals,
        _ => return Err(format!("unknown payment basis {}", terms.basis)),
    };
    let flex_tolerance_percent: Decimal = if terms.flex_tolerance_percent.is_empty() {
        Decimal::ZERO
    } else {
        terms.flex_tolerance_percent.parse().map_err(|_| {
            format!(
                "flex tolerance {:?} is not a number",
                terms.flex_tolerance_percent
            )
        })?
    };
    let holding_model = match proto::FundHoldingModel::try_from(agreement.holding_model) {
        Ok(proto::FundHoldingModel::ThirdParty) => HoldingModel::ThirdParty,
        Ok(proto::FundHoldingModel::Provider) => HoldingModel::Provider,
        Ok(proto::FundHoldingModel::Authority) => HoldingModel::Authority,
        _ => return Err(format!("unknown holding model {}", agreement.holding_model)),
    };
    let payee_kind = match proto::PayeeKind::try_from(agreement.payee_kind) {
        Ok(proto::PayeeKind::Provider) => PayeeKind::Provider,
        Ok(proto::PayeeKind::Holder) => PayeeKind::Holder,
        _ => return Err(format!("unknown payee kind {}", agreement.payee_kind)),
    };
    let holder_id = if agreement.holder_id.is_empty() {
        None
    } else {
        Some(uuid(&agreement.holder_id)?)
    };
    // What the schedule table's checks hold, refused here as a bad event rather than retried
    // for ever as a failed write.
    if flex_tolerance_percent < Decimal::ZERO || flex_tolerance_percent > Decimal::ONE_HUNDRED {
        return Err(format!(
            "flex tolerance {flex_tolerance_percent} is not between 0 and 100"
        ));
    }
    let provider_id = uuid(&agreement.provider_id)?;
    let payee_id = uuid(&agreement.payee_id)?;
    let consistent = match (holding_model, holder_id, payee_kind) {
        (HoldingModel::ThirdParty, Some(holder), PayeeKind::Holder) => payee_id == holder,
        (HoldingModel::Provider | HoldingModel::Authority, None, PayeeKind::Provider) => {
            payee_id == provider_id
        }
        _ => false,
    };
    if !consistent {
        return Err(format!(
            "its holding model {}, holder {:?} and payee {} {payee_id} do not fit together",
            holding_model.name(),
            agreement.holder_id,
            payee_kind.name()
        ));
    }
    Ok(ScheduleTerms {
        agreement_id: uuid(&agreement.id)?,
        authority: authority.clone(),
        person_id: uuid(&agreement.person_id)?,
        provider_id,
        holding_model,
        holder_id,
        payee_kind,
        payee_id,
        frequency,
        anchor_date: (frequency == Frequency::FourWeekly)
            .then_some(anchor.unwrap_or(DEFAULT_ANCHOR)),
        timing,
        payment_lag_days,
        basis,
        flex_tolerance_percent,
    })
}

/// The agreed version the agreement carries: its lines, cut to the agreement's end, and
/// the management fee as a line when it is paid on top of the budget.
pub(super) fn agreed_version(agreement: &proto::Agreement) -> Result<AgreedVersion, String> {
    let terms = agreement.terms.as_ref().ok_or("carries no terms")?;
    let agreement_end = day("terms.end", terms.end.as_ref())?;
    let cut = |end: Option<NaiveDate>| [end, agreement_end].into_iter().flatten().min();
    let mut lines = Vec::with_capacity(agreement.lines.len() + 1);
    for (index, line) in agreement.lines.iter().enumerate() {
        let start = required_day(&format!("lines[{index}].start"), line.start.as_ref())?;
        let end = cut(day(&format!("lines[{index}].end"), line.end.as_ref())?);
        if end.is_some_and(|end| end < start) {
            continue;
        }
        let weekly = money(&format!("lines[{index}].weekly"), line.weekly.as_ref())?;
        if weekly.is_negative() {
            return Err(format!("lines[{index}].weekly {weekly} is negative"));
        }
        if line.plan_line == 0 {
            return Err(format!(
                "lines[{index}].plan_line is 0; plan lines count from 1"
            ));
        }
        let hours_per_week = match line.hours_per_week.trim() {
            "" => None,
            raw => Some(
                raw.parse::<Decimal>()
                    .ok()
                    .filter(|hours| *hours > Decimal::ZERO && hours.scale() <= 2 && *hours < Decimal::from(10_000))
                    .ok_or_else(|| {
                        format!("lines[{index}].hours_per_week {raw:?} is not hours a week above 0 with at most 2 decimal places")
                    })?,
            ),
        };
        lines.push(Line {
            kind: LineKind::Support,
            plan_line: line.plan_line,
            support_type: line.support_type.chars().take(100).collect(),
            weekly,
            start,
            end,
            hours_per_week,
        });
    }
    if let Some(weekly) = agreement.weekly.as_ref() {
        let fee = money("weekly.fee", weekly.fee.as_ref())?;
        let on_top = weekly.fee_placement == proto::FeePlacement::OnTop as i32;
        let start = required_day("terms.start", terms.start.as_ref())?;
        let fee_runs = agreement_end.is_none_or(|end| end >= start);
        if on_top && fee_runs && !fee.is_zero() && !fee.is_negative() {
            lines.push(Line {
                kind: LineKind::Fee,
                plan_line: 0,
                support_type: "management_fee".to_owned(),
                weekly: fee,
                start,
                end: agreement_end,
                hours_per_week: None,
            });
        }
    }
    if agreement.version == 0 {
        return Err("version is 0; agreed versions count from 1".to_owned());
    }
    // A version is known to payments from the day it was agreed: contracts records a
    // variation when it is drafted, and it binds (and is published) only once signed.
    let recorded_on = required_day("recorded_on", agreement.recorded_on.as_ref())?;
    let agreed_on = day("agreed_on", agreement.agreed_on.as_ref())?;
    Ok(AgreedVersion {
        version: agreement.version,
        effective_from: required_day("effective_from", agreement.effective_from.as_ref())?,
        recorded_on: agreed_on.map_or(recorded_on, |agreed_on| agreed_on.max(recorded_on)),
        lines,
    })
}
