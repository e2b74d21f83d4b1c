//! The person's choice of an offered package, recorded on their plan: when the directory
//! publishes `package.accepted`, the chosen provider and the fund's holder are recorded on
//! the plan line the request was for, exactly as `RecordProviderChoice` records them, and
//! `plan.provider_chosen` follows.
//!
//! What must stay true: the choice is recorded once, in the transaction that marks the event
//! consumed, so a redelivered event changes nothing; a provider the directory has not yet
//! told assessment about is waited for (the event is tried again), never refused; an event
//! that cannot apply (a person of another authority, a line that is not option 2, a line on
//! which staff have since recorded another provider, or the same provider with another fund
//! holder) is set aside in the dead-letter table
//! with its reason, and never half-applied; while a variation of the plan is open the event
//! waits (it is tried again later) and is recorded on the version the variation leads to.

use sds_events::{EventHandler, EventType, HandlerError, Received};
use sds_platform::Clock;
use sds_proto::v1::event::Body;
use sds_vocabulary::named_enum::WireEnum as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::option::{Arrangement, FundHolder, FundHoldingModel, ProviderId, ProviderRef};
use crate::domain::plan::PlanState;
use crate::error::AssessmentError;
use crate::grpc::choice::{Choice, record_choice};
use crate::store;

/// Who the plan's audit trail says recorded the choice.
const ACTOR: &str = "directory (offer accepted)";

/// Records the choice of `package.accepted` on the person's plan.
#[derive(Debug, Clone)]
pub struct PackageAcceptedHandler {
    pub clock: Clock,
}

fn permanent(what: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("package.accepted: {what}"))
}

fn id(field: &str, raw: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(raw).map_err(|_| permanent(format!("{field} {raw:?} is not an id")))
}

impl EventHandler for PackageAcceptedHandler {
    const HANDLES: &'static [EventType] = &[EventType::PackageAccepted];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        let Body::PackageAccepted(accepted) = body else {
            return Err(permanent(format!("handler given {}", event.event_type)));
        };
        let person_id = id("person_id", &accepted.person_id)?;
        let provider = ProviderId::from_uuid(id("provider_id", &accepted.provider_id)?);
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM known_provider WHERE provider_id = $1)",
        )
        .bind(provider.as_uuid())
        .fetch_one(&mut *transaction)
        .await?;
        if !known {
            // Its provider.registered is still on its way: try again later.
            return Err(HandlerError::Transient(anyhow::anyhow!(
                "package.accepted names provider {}, not yet known here",
                provider.as_uuid()
            )));
        }
        let person = store::load_person(transaction, person_id)
            .await
            .map_err(transient)?
            .filter(|person| person.authority == event.authority)
            .ok_or_else(|| {
                permanent(format!(
                    "names person {person_id}, who is not a person of {}",
                    event.authority
                ))
            })?;
        store::lock_plan(transaction, person.id)
            .await
            .map_err(transient)?;
        let versions = store::plan_versions(transaction, person.id, &person.authority)
            .await
            .map_err(transient)?;
        let latest = versions
            .last()
            .ok_or_else(|| permanent(format!("person {person_id} has no plan")))?;
        if !matches!(latest.plan.state(), PlanState::Approved(_)) {
            // A variation is being drafted or approved: the choice waits for it, and is
            // recorded on the version it leads to.
            return Err(HandlerError::Transient(anyhow::anyhow!(
                "package.accepted waits: person {person_id}'s latest plan version {} is {}, not approved",
                latest.plan.version(),
                latest.plan.status()
            )));
        }
        let chosen = ProviderRef::Directory(provider);
        let current = latest
            .plan
            .lines()
            .iter()
            .find(|line| line.number == accepted.line_number)
            .and_then(|line| match &line.arrangement {
                Arrangement::PersonDirected(current) => Some(current.clone()),
                _ => None,
            });
        let named = current
            .as_ref()
            .and_then(|current| current.provider.clone());
        if let Some(named) = named.filter(|named| *named != chosen) {
            // Staff recorded another provider since (by hand): theirs stands, and the
            // event is set aside with the reason for someone to look at.
            return Err(permanent(format!(
                "line {} of person {person_id}'s plan already names provider {named:?}, not the accepted offer's; the choice on the plan stands",
                accepted.line_number
            )));
        }
        let holder = match FundHoldingModel::from_wire("holding_model", accepted.holding_model)
            .map_err(permanent)?
        {
            FundHoldingModel::ThirdParty => FundHolder::ThirdParty {
                holder: id("holder", &accepted.holder)?,
            },
            FundHoldingModel::Provider => FundHolder::Provider,
            FundHoldingModel::Authority => FundHolder::Authority {
                authority: person.authority.clone(),
            },
        };
        if let Some(held_by) = current
            .as_ref()
            .filter(|current| current.provider.as_ref() == Some(&chosen))
            .and_then(|current| current.holder.as_ref())
            .filter(|held_by| **held_by != holder)
        {
            // The same provider chosen again with another holder (a second request for the
            // line, accepted): who holds the fund changes by varying the plan, not by this.
            return Err(permanent(format!(
                "line {} of person {person_id}'s plan already names this provider with the fund held {held_by:?}, not as the accepted offer says; the choice on the plan stands",
                accepted.line_number
            )));
        }
        let choice = Choice {
            line_number: accepted.line_number,
            provider: chosen,
            holder,
        };
        record_choice(
            transaction,
            ACTOR,
            &person,
            latest,
            self.clock.today(),
            &choice,
        )
        .await
        .map_err(|error| match error {
            AssessmentError::InvalidInput(invalid) => permanent(invalid),
            other => transient(other),
        })?;
        Ok(())
    }
}

fn transient(error: AssessmentError) -> HandlerError {
    HandlerError::Transient(anyhow::Error::new(error))
}
