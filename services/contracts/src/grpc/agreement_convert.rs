//! Agreement requests into domain types (refusing bad input by field path) and agreements
//! into messages. The rules of [`super::convert`] hold here too.

use chrono::NaiveDate;
use sds_money::Money;
use sds_proto::v1 as proto;
use sds_vocabulary::date::iso;
use sds_vocabulary::named_enum::WireEnum as _;
use sds_vocabulary::text::{optional_text, required_text};
use sds_vocabulary::{AuthorityId, Invalid};
use uuid::Uuid;

use super::convert::{agreement_terms, authority, date_field, fee_message, id};
use crate::domain::agreement::{MAX_LINES, MAX_OUTCOMES_CHARS};
use crate::domain::{
    AgreementContent, Capacity, FundedLine, Payee, PaymentTiming, Representative, Terms,
};
use crate::store::AgreementRecord;

/// The longest name of someone acting for the person.
const MAX_NAME_CHARS: usize = 200;

fn representative(
    field: &str,
    raw: &proto::AgreementRepresentative,
) -> Result<Representative, Invalid> {
    let name = required_text(&format!("{field}.name"), &raw.name, MAX_NAME_CHARS)?;
    let at = format!("{field}.capacity");
    let capacity = Capacity::from_wire(&at, raw.capacity)?;
    if capacity == Capacity::Themselves {
        return Err(Invalid::new(
            at,
            "is themselves; a representative acts for the person in another capacity (leave the representative out when the person signs)",
        ));
    }
    Ok(Representative { name, capacity })
}

fn outcomes(raw: &str) -> Result<String, Invalid> {
    required_text("outcomes", raw, MAX_OUTCOMES_CHARS)
}

/// An agreement drafted by hand.
pub struct DraftRequest {
    pub authority: AuthorityId,
    pub person_id: Uuid,
    pub plan_lines: Vec<u32>,
    pub outcomes: String,
    pub representative: Option<Representative>,
    pub rate_card_id: Option<Uuid>,
}

/// A variation of an agreement's terms.
pub struct VaryRequest {
    pub agreement_id: Uuid,
    pub effective_from: NaiveDate,
    pub terms: Terms,
}

pub fn vary_request(raw: &proto::VaryAgreementRequest) -> Result<VaryRequest, Invalid> {
    Ok(VaryRequest {
        agreement_id: id("agreement_id", &raw.agreement_id)?,
        effective_from: date_field("effective_from", raw.effective_from.as_ref())?,
        terms: agreement_terms("terms", raw.terms.as_ref())?,
    })
}

fn optional_id(field: &str, raw: &str) -> Result<Option<Uuid>, Invalid> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        id(field, raw).map(Some)
    }
}

/// The most a reason for ending says.
const MAX_REASON_CHARS: usize = 300;

/// Notice given to end an agreement.
pub struct EndRequest {
    pub agreement_id: Uuid,
    pub last_day: NaiveDate,
    pub reason: String,
}

pub fn end_request(raw: &proto::EndAgreementRequest) -> Result<EndRequest, Invalid> {
    Ok(EndRequest {
        agreement_id: id("agreement_id", &raw.agreement_id)?,
        last_day: date_field("last_day", raw.last_day.as_ref())?,
        reason: required_text("reason", &raw.reason, MAX_REASON_CHARS)?,
    })
}

pub fn draft_request(raw: &proto::DraftAgreementRequest) -> Result<DraftRequest, Invalid> {
    let authority = authority("authority", &raw.authority)?;
    let person_id = id("person_id", &raw.person_id)?;
    if raw.plan_lines.is_empty() || raw.plan_lines.len() > MAX_LINES {
        return Err(Invalid::new(
            "plan_lines",
            format!(
                "has {} lines; name 1 to {MAX_LINES} plan lines to fund",
                raw.plan_lines.len()
            ),
        ));
    }
    for (index, line) in raw.plan_lines.iter().enumerate() {
        if *line == 0 {
            return Err(Invalid::new(
                format!("plan_lines[{index}]"),
                "is 0; plan lines are numbered from 1",
            ));
        }
        if raw.plan_lines[..index].contains(line) {
            return Err(Invalid::new(
                format!("plan_lines[{index}]"),
                format!("names line {line} again; each line is funded once"),
            ));
        }
    }
    Ok(DraftRequest {
        authority,
        person_id,
        plan_lines: raw.plan_lines.clone(),
        outcomes: outcomes(&raw.outcomes)?,
        representative: raw
            .representative
            .as_ref()
            .map(|given| representative("representative", given))
            .transpose()?,
        rate_card_id: optional_id("rate_card_id", &raw.rate_card_id)?,
    })
}

/// What a draft's update changes; `None` keeps it.
pub struct DraftUpdate {
    pub agreement_id: Uuid,
    pub outcomes: Option<String>,
    pub representative: Option<Option<Representative>>,
}

pub fn draft_update(raw: &proto::UpdateAgreementDraftRequest) -> Result<DraftUpdate, Invalid> {
    let agreement_id = id("agreement_id", &raw.agreement_id)?;
    let outcomes = optional_text("outcomes", &raw.outcomes, MAX_OUTCOMES_CHARS)?;
    let representative = match (&raw.representative, raw.no_representative) {
        (Some(_), true) => {
            return Err(Invalid::new(
                "no_representative",
                "is set, but a representative is given too; give one or the other",
            ));
        }
        (Some(given), false) => Some(Some(representative("representative", given)?)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    if outcomes.is_none() && representative.is_none() {
        return Err(Invalid::new(
            "outcomes",
            "is empty and nothing else is given; give outcomes, a representative or no_representative",
        ));
    }
    Ok(DraftUpdate {
        agreement_id,
        outcomes,
        representative,
    })
}

/// A signature asked for.
pub struct SignRequest {
    pub agreement_id: Uuid,
    pub version: u32,
    pub capacity: Option<Capacity>,
}

pub fn sign_request(raw: &proto::SignAgreementRequest) -> Result<SignRequest, Invalid> {
    let agreement_id = id("agreement_id", &raw.agreement_id)?;
    // Versions are numbered from 1 and stored as PostgreSQL integers.
    if raw.version == 0 || i32::try_from(raw.version).is_err() {
        return Err(Invalid::new(
            "version",
            format!(
                "is {}; give the version awaiting signatures (awaiting_version, from GetAgreement)",
                raw.version
            ),
        ));
    }
    let capacity = match raw.capacity {
        0 => None,
        given => Some(Capacity::from_wire("capacity", given)?),
    };
    Ok(SignRequest {
        agreement_id,
        version: raw.version,
        capacity,
    })
}

/// A list asked for, before the caller's scope is applied.
pub struct ListRequest {
    pub authority: Option<AuthorityId>,
    pub person_id: Option<Uuid>,
    pub page_size: u32,
    pub page_token: String,
}

pub fn list_request(raw: &proto::ListAgreementsRequest) -> Result<ListRequest, Invalid> {
    let page = raw.page.clone().unwrap_or_default();
    Ok(ListRequest {
        authority: Some(raw.authority.trim())
            .filter(|given| !given.is_empty())
            .map(|given| authority("authority", given))
            .transpose()?,
        person_id: Some(raw.person_id.trim())
            .filter(|given| !given.is_empty())
            .map(|given| id("person_id", given))
            .transpose()?,
        page_size: page.page_size,
        page_token: page.page_token,
    })
}

// ---- agreements, as messages ------------------------------------------------------

pub fn money_message(amount: Money) -> proto::Money {
    proto::Money {
        amount: amount.to_string(),
    }
}

pub fn date_message(day: NaiveDate) -> proto::Date {
    proto::Date { iso: iso(day) }
}

pub fn agreement_message(record: &AgreementRecord) -> proto::Agreement {
    let latest = &record.latest;
    let content = &latest.content;
    let parties = &content.parties;
    let terms = &content.terms;
    let timing = match terms.timing() {
        PaymentTiming::Advance => proto::payment_timing::Timing::Advance(proto::InAdvance {}),
        PaymentTiming::Arrears { lag_days } => {
            proto::payment_timing::Timing::Arrears(proto::InArrears { lag_days })
        }
    };
    let (payee_kind, payee_id) = match content.payee {
        Payee::Provider { provider_id } => (proto::PayeeKind::Provider, provider_id),
        Payee::Holder { holder_id } => (proto::PayeeKind::Holder, holder_id),
    };
    let (state, agreed_on) = match latest.state {
        crate::domain::VersionState::Awaiting => (proto::AgreementVersionState::Awaiting, None),
        crate::domain::VersionState::Agreed { on } => {
            (proto::AgreementVersionState::Agreed, Some(date_message(on)))
        }
        crate::domain::VersionState::Superseded => (proto::AgreementVersionState::Superseded, None),
    };
    proto::Agreement {
        id: record.id.to_string(),
        authority: parties.authority.as_str().to_owned(),
        person_id: parties.person_id.to_string(),
        provider_id: parties.provider_id.to_string(),
        holding_model: record.holding_model.wire_number(),
        holder_id: parties
            .holder_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        status: record.status.wire_number(),
        version: latest.version,
        effective_from: Some(date_message(latest.effective_from)),
        recorded_on: Some(date_message(latest.recorded_on)),
        state: state as i32,
        agreed_on,
        lines: content.lines.iter().map(line_message).collect(),
        terms: Some(proto::AgreementTerms {
            frequency: terms.frequency().to_wire() as i32,
            timing: Some(proto::PaymentTiming {
                timing: Some(timing),
            }),
            basis: terms.basis().to_wire() as i32,
            flex_tolerance_percent: terms.flex_tolerance_percent().normalize().to_string(),
            fee: Some(fee_message(terms.fee())),
            notice_days: terms.notice_days(),
            review_on: Some(date_message(terms.review_on())),
            start: Some(date_message(terms.start())),
            end: terms.end().map(date_message),
        }),
        outcomes: content.outcomes.clone(),
        representative: parties.representative.as_ref().map(|representative| {
            proto::AgreementRepresentative {
                name: representative.name.clone(),
                capacity: representative.capacity.wire_number(),
            }
        }),
        payee_kind: payee_kind as i32,
        payee_id: payee_id.to_string(),
        rate: content.rate.map(|rate| proto::RateCardReference {
            rate_card_id: rate.rate_card_id.to_string(),
            version: rate.version,
        }),
        signatures: latest
            .signatures
            .iter()
            .map(|signature| proto::AgreementSignature {
                role: signature.role.wire_number(),
                signed_by: signature.signed_by.clone(),
                capacity: signature
                    .capacity
                    .map_or(0, |capacity| capacity.wire_number()),
                signed_on: Some(date_message(signature.signed_on)),
            })
            .collect(),
        unsigned: latest
            .unsigned()
            .into_iter()
            .map(|role| role.wire_number())
            .collect(),
        weekly: weekly_message(content, latest.effective_from),
        cause: latest.cause.wire_number(),
        awaiting_version: record.awaiting.unwrap_or_default(),
        last_day: record.ended.map(|(last_day, _)| date_message(last_day)),
        end_cause: record.ended.map_or(0, |(_, cause)| cause.wire_number()),
    }
}

pub fn line_message(line: &FundedLine) -> proto::AgreementLine {
    proto::AgreementLine {
        plan_line: line.plan_line,
        support_type: line.support_type.clone(),
        weekly: Some(money_message(line.weekly)),
        start: Some(date_message(line.start)),
        end: line.end.map(date_message),
        hours_per_week: line
            .hours_per_week
            .map(|hours| hours.normalize().to_string())
            .unwrap_or_default(),
    }
}

/// The week's money under `content` on `on`. The split exists whenever the lines add up
/// (they were checked on the way in); a version whose lines start later has none that day.
pub fn weekly_message(content: &AgreementContent, on: NaiveDate) -> Option<proto::AgreementWeekly> {
    content
        .weekly_split_on(on)
        .ok()
        .map(|split| proto::AgreementWeekly {
            support: Some(money_message(split.support)),
            fee: Some(money_message(split.fee)),
            total: Some(money_message(split.total)),
            fee_placement: split.placement.to_wire() as i32,
        })
}
