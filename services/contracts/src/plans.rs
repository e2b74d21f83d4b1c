//! The consumer `contracts-plans`: keeps a copy of every approved plan version assessment
//! publishes (`plan.approved`, `plan.varied`, `plan.ended`, `plan.provider_chosen`), varies
//! or ends the agreements a new version changes, and drafts those it calls for.
//!
//! What must stay true: each version is stored once and never changed, so a replayed event
//! (the inbox already drops one it has seen) or another event about a version already held
//! changes nothing; contracts learns of plans only from these events, never from
//! assessment's tables.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_events::{EventHandler, EventType, HandlerError, Received};
use sds_proto::v1 as proto;
use sds_proto::v1::event::Body;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::plan_copy::{Arrangement, PlanCopy, PlanLineCopy};
use crate::drafting;
use crate::store;
use crate::variations;
use sds_platform::Clock;

/// Stores each plan version once and, for an approval or a provider chosen, drafts the
/// agreements it calls for (consumer `contracts-plans`).
#[derive(Debug, Clone)]
pub struct PlanCopyHandler {
    pub clock: Clock,
}

impl EventHandler for PlanCopyHandler {
    const HANDLES: &'static [EventType] = &[
        EventType::PlanApproved,
        EventType::PlanVaried,
        EventType::PlanEnded,
        EventType::PlanProviderChosen,
    ];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        let plan = match body {
            Body::PlanApproved(approved) => approved.plan,
            Body::PlanVaried(varied) => varied.plan,
            Body::PlanEnded(ended) => ended.plan,
            Body::PlanProviderChosen(chosen) => chosen.plan,
            _ => None,
        }
        .ok_or_else(|| {
            HandlerError::Permanent(anyhow::anyhow!("{} carries no plan", event.event_type))
        })?;
        if plan.authority != event.authority.as_str() {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "{} of {} carries a plan of another authority",
                event.event_type,
                event.authority
            )));
        }
        let copy = plan_copy(&plan).map_err(|problem| {
            HandlerError::Permanent(anyhow::anyhow!("{}: {problem}", event.event_type))
        })?;
        let new = store::save_plan_copy(
            transaction,
            event.authority.as_str(),
            &event.event_type.to_string(),
            &copy,
        )
        .await
        .map_err(|error| HandlerError::Transient(anyhow::Error::new(error)))?;
        tracing::info!(
            authority = %event.authority,
            version = copy.version,
            new,
            "plan copy received"
        );
        if !new {
            return Ok(());
        }
        // Every new version may vary or end the agreements already drafted from earlier
        // ones (a choice moved to another provider ends that line, say); then the lines it
        // newly makes ready are drafted.
        store::lock_person(transaction, copy.person_id)
            .await
            .map_err(|error| HandlerError::Transient(anyhow::Error::new(error)))?;
        variations::follow_plan(transaction, &copy, self.clock.today())
            .await
            .map_err(|error| HandlerError::Transient(anyhow::Error::new(error)))?;
        if !copy.ends_plan {
            drafting::draft_from_plan(
                transaction,
                &event.authority,
                &copy,
                self.clock.today(),
                "contracts-plans",
            )
            .await
            .map_err(|error| HandlerError::Transient(anyhow::Error::new(error)))?;
        }
        Ok(())
    }
}

fn day(field: &str, raw: Option<&proto::Date>) -> Result<Option<NaiveDate>, String> {
    match raw
        .map(|date| date.iso.trim())
        .filter(|iso| !iso.is_empty())
    {
        None => Ok(None),
        Some(iso) => iso
            .parse()
            .map(Some)
            .map_err(|_| format!("{field} is not a date")),
    }
}

fn required_day(field: &str, raw: Option<&proto::Date>) -> Result<NaiveDate, String> {
    day(field, raw)?.ok_or_else(|| format!("{field} is missing"))
}

fn given(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|text| !text.is_empty())
}

/// The plan as contracts keeps it. Refusals describe the event's fault, never its content.
pub fn plan_copy(plan: &proto::Plan) -> Result<PlanCopy, String> {
    let person_id = Uuid::parse_str(&plan.person_id).map_err(|_| "person_id is not an id")?;
    if plan.version == 0 {
        return Err("plan.version is 0".into());
    }
    let lines = plan
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| plan_line(line).map_err(|problem| format!("lines[{index}].{problem}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PlanCopy {
        person_id,
        version: plan.version,
        effective_from: required_day("effective_from", plan.effective_from.as_ref())?,
        recorded_on: required_day("recorded_on", plan.recorded_on.as_ref())?,
        ends_plan: plan.ends_plan,
        lines,
    })
}

fn plan_line(line: &proto::PlanLine) -> Result<PlanLineCopy, String> {
    use proto::arrangement::Arrangement as Wire;
    let support_type = proto::SupportType::try_from(line.support_type)
        .ok()
        .filter(|kind| *kind != proto::SupportType::Unspecified)
        .ok_or("support_type is unspecified")?
        .as_str_name()
        .trim_start_matches("SUPPORT_TYPE_")
        .to_ascii_lowercase();
    let weekly: Decimal = line
        .weekly
        .trim()
        .parse()
        .map_err(|_| "weekly is not a decimal amount")?;
    let arrangement = match line
        .arrangement
        .as_ref()
        .and_then(|a| a.arrangement.as_ref())
    {
        Some(Wire::DirectPayment(_)) => Arrangement::DirectPayment,
        Some(Wire::PersonDirected(directed)) => Arrangement::PersonDirected {
            provider: given(&directed.provider),
            holding_model: proto::FundHoldingModel::try_from(directed.holding_model)
                .ok()
                .filter(|model| *model != proto::FundHoldingModel::Unspecified)
                .map(|model| {
                    model
                        .as_str_name()
                        .trim_start_matches("FUND_HOLDING_MODEL_")
                        .to_ascii_lowercase()
                }),
            holder: given(&directed.holder),
        },
        Some(Wire::AuthorityArranged(arranged)) => Arrangement::AuthorityArranged {
            provider: given(&arranged.provider),
        },
        None => return Err("arrangement is missing".into()),
    };
    let hours_per_week = match line
        .amount
        .as_ref()
        .and_then(|amount| amount.amount.as_ref())
    {
        Some(proto::line_amount::Amount::HoursAtRate(hours)) => Some(
            hours
                .hours_per_week
                .trim()
                .parse::<Decimal>()
                .map_err(|_| "amount.hours_at_rate.hours_per_week is not a decimal")?,
        ),
        _ => None,
    };
    Ok(PlanLineCopy {
        number: line.number,
        support_type,
        weekly,
        hours_per_week,
        arrangement,
        start: required_day("start", line.start.as_ref())?,
        end: day("end", line.end.as_ref())?,
    })
}
