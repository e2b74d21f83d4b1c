//! The border between the wire and the domain. Protobuf messages become domain types only
//! through the validating conversions here, which refuse bad input with an [`Invalid`]
//! naming the field by its path in the request; domain types become messages through the
//! plain functions at the end. Nothing past this module sees a prost type.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sds_money::Money;
use sds_proto::v1 as proto;
use sds_vocabulary::date::{date, iso};
use sds_vocabulary::named_enum::WireEnum;
use sds_vocabulary::text::{MAX_TEXT_CHARS, required_text, text_list};
use sds_vocabulary::{AuthorityId, NamedEnum, shown};
use uuid::Uuid;

use crate::domain::limits::{DevolvedLimits, Limit, LimitsByAge};
use crate::domain::person::{ClientGroup, ClientGroups};
use crate::domain::ras::{BandAward, RasBand, RasQuestion, ResourceAllocationSystem};
use crate::domain::record::{
    CaseReference, PersonDetails, ensure_plausible_date_of_birth, ensure_some_client_group,
};
use crate::domain::review::ReviewInterval;
use crate::domain::{
    AuthorityPolicy, EligibilityLevel, EligibilityThreshold, Invalid, SendingLocation,
};
use crate::store::{AssessmentRecord, PersonRecord, PolicyRecord};

/// Most outcomes, needs or community resources in one assessment.
pub const MAX_ASSESSMENT_ENTRIES: usize = 50;
/// The longest outcome or need, in the person's own words.
pub const MAX_ASSESSMENT_TEXT_CHARS: usize = 1000;

// ---- requests, validated ------------------------------------------------------------

pub fn authority(field: &str, raw: &str) -> Result<AuthorityId, Invalid> {
    AuthorityId::parse(field, raw)
}

pub use sds_vocabulary::id::id;

fn date_field(field: &str, raw: Option<&proto::Date>) -> Result<NaiveDate, Invalid> {
    date(
        field,
        raw.map(|value| value.iso.as_str()).unwrap_or_default(),
    )
}

/// Money as the wire carries it: at most 2 decimal places, never negative.
fn money(field: &str, raw: Option<&proto::Money>) -> Result<Money, Invalid> {
    let raw = raw
        .map(|money| money.amount.as_str())
        .filter(|amount| !amount.trim().is_empty())
        .ok_or_else(|| Invalid::new(field, "is missing; give an amount such as \"375.00\""))?;
    let amount = Money::parse(raw.trim())
        .map_err(|error| Invalid::new(field, format!("is not valid: {error}")))?;
    if amount.is_negative() {
        return Err(Invalid::new(
            field,
            format!("is {}; it must be 0.00 or more", shown(raw)),
        ));
    }
    Ok(amount)
}

fn optional_money(field: &str, raw: Option<&proto::Money>) -> Result<Option<Money>, Invalid> {
    match raw {
        Some(given) if !given.amount.trim().is_empty() => money(field, Some(given)).map(Some),
        _ => Ok(None),
    }
}

pub fn person_details(
    raw: Option<proto::PersonDetails>,
    today: NaiveDate,
) -> Result<PersonDetails, Invalid> {
    let raw = raw.ok_or_else(|| Invalid::new("details", "is missing; it is required"))?;
    let within = |invalid: Invalid| invalid.within("details");
    let date_of_birth = date_field("date_of_birth", raw.date_of_birth.as_ref()).map_err(within)?;
    ensure_plausible_date_of_birth("date_of_birth", date_of_birth, today).map_err(within)?;
    let mut client_groups = ClientGroups::new();
    for (index, number) in raw.client_groups.iter().enumerate() {
        client_groups.insert(
            ClientGroup::from_wire(&format!("client_groups[{index}]"), *number).map_err(within)?,
        );
    }
    ensure_some_client_group("client_groups", &client_groups).map_err(within)?;
    Ok(PersonDetails {
        case_reference: CaseReference::parse("case_reference", &raw.case_reference)
            .map_err(within)?,
        display_name: required_text("display_name", &raw.display_name, MAX_TEXT_CHARS)
            .map_err(within)?,
        date_of_birth,
        locality: required_text("locality", &raw.locality, MAX_TEXT_CHARS).map_err(within)?,
        client_groups,
    })
}

fn limit(field: &str, raw: Option<&proto::Limit>) -> Result<Limit, Invalid> {
    match raw.and_then(|limit| limit.limit.as_ref()) {
        Some(proto::limit::Limit::UpTo(most)) => {
            money(&format!("{field}.up_to"), Some(most)).map(Limit::UpTo)
        }
        Some(proto::limit::Limit::Unlimited(true)) => Ok(Limit::Unlimited),
        _ => Err(Invalid::new(
            field,
            "is missing; give up_to (an amount a week) or unlimited: true",
        )),
    }
}

fn role_limits(field: &str, raw: Option<&proto::RoleLimits>) -> Result<LimitsByAge, Invalid> {
    let raw =
        raw.ok_or_else(|| Invalid::new(field, "is missing; give the child and adult limits"))?;
    Ok(LimitsByAge {
        child: limit(&format!("{field}.child"), raw.child.as_ref())?,
        adult: limit(&format!("{field}.adult"), raw.adult.as_ref())?,
    })
}

fn ras(raw: proto::ResourceAllocation) -> Result<ResourceAllocationSystem, Invalid> {
    let questions = raw
        .questions
        .into_iter()
        .enumerate()
        .map(|(index, question)| {
            let field = format!("questions[{index}]");
            Ok(RasQuestion {
                code: required_text(&format!("{field}.code"), &question.code, 64)?,
                label: required_text(&format!("{field}.label"), &question.label, MAX_TEXT_CHARS)?,
                max_score: question.max_score,
            })
        })
        .collect::<Result<Vec<_>, Invalid>>()?;
    let bands = raw
        .bands
        .into_iter()
        .enumerate()
        .map(|(index, band)| {
            let field = format!("bands[{index}]");
            let award = match band.award {
                Some(proto::ras_band::Award::FixedWeekly(amount)) => BandAward::Fixed {
                    per_week: money(&format!("{field}.fixed_weekly"), Some(&amount))?,
                },
                Some(proto::ras_band::Award::PricePerPoint(price)) => BandAward::PricePerPoint {
                    price: money(&format!("{field}.price_per_point"), Some(&price))?,
                },
                None => {
                    return Err(Invalid::new(
                        format!("{field}.award"),
                        "is missing; give fixed_weekly or price_per_point",
                    ));
                }
            };
            Ok(RasBand {
                from_points: band.from_points,
                to_points: band.to_points,
                award,
            })
        })
        .collect::<Result<Vec<_>, Invalid>>()?;
    Ok(ResourceAllocationSystem {
        questions,
        price_per_point: money("price_per_point", raw.price_per_point.as_ref())?,
        bands,
        weekly_cap: optional_money("weekly_cap", raw.weekly_cap.as_ref())?,
    })
}

fn threshold(field: &str, raw: i32) -> Result<EligibilityThreshold, Invalid> {
    let level = EligibilityLevel::from_wire(field, raw)?;
    EligibilityThreshold::from_name(level.name()).ok_or_else(|| {
        Invalid::new(
            field,
            "is no_risk, which cannot be a threshold (no one at no risk is eligible); accepted: critical, substantial, moderate, low",
        )
    })
}

pub fn policy(raw: Option<proto::PolicyDetails>) -> Result<AuthorityPolicy, Invalid> {
    let raw = raw.ok_or_else(|| Invalid::new("details", "is missing; it is required"))?;
    let within = |invalid: Invalid| invalid.within("details");
    let limits = raw
        .approval_limits
        .as_ref()
        .ok_or_else(|| Invalid::new("approval_limits", "is missing; it is required"))
        .and_then(|limits| {
            Ok(DevolvedLimits {
                practitioner: role_limits(
                    "approval_limits.practitioner",
                    limits.practitioner.as_ref(),
                )?,
                team_manager: role_limits(
                    "approval_limits.team_manager",
                    limits.team_manager.as_ref(),
                )?,
                panel: role_limits("approval_limits.panel", limits.panel.as_ref())?,
            })
        })
        .map_err(within)?;
    let review_interval = match raw.review_interval {
        Some(proto::policy_details::ReviewInterval::ReviewIntervalMonths(months)) => {
            ReviewInterval::Months(months)
        }
        Some(proto::policy_details::ReviewInterval::ReviewIntervalDays(days)) => {
            ReviewInterval::Days(days)
        }
        None => {
            return Err(within(Invalid::new(
                "review_interval",
                "is missing; give review_interval_months or review_interval_days",
            )));
        }
    };
    let policy = AuthorityPolicy {
        authority: authority("authority", &raw.authority).map_err(within)?,
        effective_from: date_field("effective_from", raw.effective_from.as_ref())
            .map_err(within)?,
        eligibility_threshold: threshold("eligibility_threshold", raw.eligibility_threshold)
            .map_err(within)?,
        ras: raw
            .resource_allocation
            .map(ras)
            .transpose()
            .map_err(|invalid| within(invalid.within("resource_allocation")))?,
        standard_hourly_rate: optional_money(
            "standard_hourly_rate",
            raw.standard_hourly_rate.as_ref(),
        )
        .map_err(within)?,
        approval_limits: limits,
        backdating_window_days: raw.backdating_days,
        review_interval,
        sending_location: SendingLocation::parse("sending_location", &raw.sending_location)
            .map_err(within)?,
    };
    policy
        .validate()
        .map_err(|invalid| within(policy_field(invalid)))?;
    Ok(policy)
}

/// The domain names some policy fields differently from the wire; a refusal names the
/// field as the request does.
fn policy_field(invalid: Invalid) -> Invalid {
    let field = invalid.field();
    let renamed = if let Some(rest) = field.strip_prefix("ras") {
        format!("resource_allocation{rest}")
    } else if field == "backdating_window_days" {
        "backdating_days".to_owned()
    } else if field == "review_interval" {
        "review_interval".to_owned()
    } else {
        return invalid;
    };
    Invalid::new(renamed, invalid.problem().to_owned())
}

/// The validated content of an assessment.
#[derive(Debug)]
pub struct NewAssessment {
    pub person_id: Uuid,
    pub outcomes: Vec<String>,
    pub needs: Vec<String>,
    pub eligibility: EligibilityLevel,
    pub assessed_on: NaiveDate,
    pub community_resources: Vec<String>,
}

pub fn assessment(
    raw: proto::RecordAssessmentRequest,
    today: NaiveDate,
) -> Result<NewAssessment, Invalid> {
    let list = |field: &str, raw: &[String]| {
        text_list(
            field,
            raw,
            MAX_ASSESSMENT_ENTRIES,
            MAX_ASSESSMENT_TEXT_CHARS,
        )
    };
    let outcomes = list("outcomes", &raw.outcomes)?;
    if outcomes.is_empty() {
        return Err(Invalid::new(
            "outcomes",
            "is empty; record at least one outcome in the person's own words, such as \"I want to be part of my community\"",
        ));
    }
    let assessed_on = date_field("assessed_on", raw.assessed_on.as_ref())?;
    if assessed_on > today {
        return Err(Invalid::new(
            "assessed_on",
            format!(
                "{assessed_on} is after today ({today}); record an assessment that has happened"
            ),
        ));
    }
    Ok(NewAssessment {
        person_id: id("person_id", &raw.person_id)?,
        outcomes,
        needs: list("needs", &raw.needs)?,
        eligibility: EligibilityLevel::from_wire("eligibility", raw.eligibility)?,
        assessed_on,
        community_resources: list("community_resources", &raw.community_resources)?,
    })
}

// ---- responses -----------------------------------------------------------------------

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn date_message(on: NaiveDate) -> proto::Date {
    proto::Date { iso: iso(on) }
}

fn money_message(amount: Money) -> proto::Money {
    proto::Money {
        amount: amount.to_string(),
    }
}

pub fn person_message(record: &PersonRecord) -> proto::Person {
    let details = &record.details;
    proto::Person {
        id: record.id.to_string(),
        authority: record.authority.to_string(),
        details: Some(proto::PersonDetails {
            case_reference: details.case_reference.to_string(),
            display_name: details.display_name.clone(),
            date_of_birth: Some(date_message(details.date_of_birth)),
            locality: details.locality.clone(),
            client_groups: details
                .client_groups
                .iter()
                .map(|group| group.wire_number())
                .collect(),
        }),
        version: record.version,
        recorded_at: timestamp(record.recorded_at),
        updated_at: timestamp(record.updated_at),
    }
}

fn limit_message(limit: Limit) -> proto::Limit {
    proto::Limit {
        limit: Some(match limit {
            Limit::UpTo(most) => proto::limit::Limit::UpTo(money_message(most)),
            Limit::Unlimited => proto::limit::Limit::Unlimited(true),
        }),
    }
}

fn role_limits_message(limits: &LimitsByAge) -> proto::RoleLimits {
    proto::RoleLimits {
        child: Some(limit_message(limits.child)),
        adult: Some(limit_message(limits.adult)),
    }
}

pub fn policy_message(record: &PolicyRecord) -> proto::Policy {
    let policy = &record.policy;
    proto::Policy {
        details: Some(proto::PolicyDetails {
            authority: policy.authority.to_string(),
            effective_from: Some(date_message(policy.effective_from)),
            eligibility_threshold: policy.eligibility_threshold.level().wire_number(),
            resource_allocation: policy.ras.as_ref().map(|ras| proto::ResourceAllocation {
                questions: ras
                    .questions
                    .iter()
                    .map(|question| proto::RasQuestion {
                        code: question.code.clone(),
                        label: question.label.clone(),
                        max_score: question.max_score,
                    })
                    .collect(),
                price_per_point: Some(money_message(ras.price_per_point)),
                bands: ras
                    .bands
                    .iter()
                    .map(|band| proto::RasBand {
                        from_points: band.from_points,
                        to_points: band.to_points,
                        award: Some(match band.award {
                            BandAward::Fixed { per_week } => {
                                proto::ras_band::Award::FixedWeekly(money_message(per_week))
                            }
                            BandAward::PricePerPoint { price } => {
                                proto::ras_band::Award::PricePerPoint(money_message(price))
                            }
                        }),
                    })
                    .collect(),
                weekly_cap: ras.weekly_cap.map(money_message),
            }),
            standard_hourly_rate: policy.standard_hourly_rate.map(money_message),
            approval_limits: Some(proto::ApprovalLimits {
                practitioner: Some(role_limits_message(&policy.approval_limits.practitioner)),
                team_manager: Some(role_limits_message(&policy.approval_limits.team_manager)),
                panel: Some(role_limits_message(&policy.approval_limits.panel)),
            }),
            backdating_days: policy.backdating_window_days,
            review_interval: Some(match policy.review_interval {
                ReviewInterval::Months(months) => {
                    proto::policy_details::ReviewInterval::ReviewIntervalMonths(months)
                }
                ReviewInterval::Days(days) => {
                    proto::policy_details::ReviewInterval::ReviewIntervalDays(days)
                }
            }),
            sending_location: policy.sending_location.as_str().to_owned(),
        }),
        recorded_at: timestamp(record.recorded_at),
        recorded_by: record.recorded_by.clone(),
    }
}

pub fn assessment_message(record: &AssessmentRecord) -> proto::Assessment {
    proto::Assessment {
        id: record.id.to_string(),
        person_id: record.person_id.to_string(),
        outcomes: record.outcomes.clone(),
        needs: record.needs.clone(),
        eligibility: record.decision.level.wire_number(),
        eligible: record.decision.eligible,
        decision_reason: record.decision.reason.clone(),
        community_resources: record.community_resources.clone(),
        assessed_on: Some(date_message(record.assessed_on)),
        recorded_at: timestamp(record.recorded_at),
        recorded_by: record.recorded_by.clone(),
    }
}
