//! The person's choice of provider (and of who holds the fund) for an option 2 line, recorded
//! on the latest approved version: by practitioners through `RecordProviderChoice`, and from
//! the directory's `package.accepted` when the person accepts an offer. The amounts do not
//! change, so the choice becomes a new approved version carrying the approval it follows
//! from, and `plan.provider_chosen` is published with it.
//!
//! What must stay true: the same choice recorded again changes nothing (a retried call, a
//! redelivered event); a line is only ever stored naming a provider the directory has
//! published; only an option 2 line takes a choice.

use chrono::NaiveDate;
use sds_events::NewEvent;
use sds_proto::v1 as proto;
use sqlx::PgConnection;
use tracing::info;

use crate::domain::Invalid;
use crate::domain::option::{Arrangement, FundHolder, PersonsChoice, ProviderRef};
use crate::domain::plan::PlanVersion;
use crate::error::AssessmentError;
use crate::providers::KnownProviders;
use crate::store::{self, PersonRecord, StoredVersion};

use super::plans::plan_message;

/// A choice for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub line_number: u32,
    pub provider: ProviderRef,
    pub holder: FundHolder,
}

/// What recording a choice did.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The plan as it stands after the choice.
    pub plan: proto::Plan,
    /// False when the plan carried this choice already: nothing was written, and the caller
    /// may roll back.
    pub changed: bool,
}

/// Records `choice` on `latest`, the person's latest version, which the caller has checked
/// is approved and holds locked, as `actor` on `today`.
pub async fn record_choice(
    connection: &mut PgConnection,
    actor: &str,
    person: &PersonRecord,
    latest: &StoredVersion,
    today: NaiveDate,
    choice: &Choice,
) -> Result<Recorded, AssessmentError> {
    let provider = KnownProviders::of(connection, [&choice.provider])
        .await?
        .resolve("provider", &choice.provider)?;
    let chosen = PersonsChoice {
        provider: Some(provider),
        holder: Some(choice.holder.clone()),
    };
    let mut lines = latest.plan.lines().to_vec();
    let line = lines
        .iter_mut()
        .find(|line| line.number == choice.line_number)
        .ok_or_else(|| {
            Invalid::new(
                "line_number",
                format!(
                    "is {}, but the plan has no such line; its lines are {}",
                    choice.line_number,
                    latest
                        .plan
                        .lines()
                        .iter()
                        .map(|line| line.number.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    match &line.arrangement {
        Arrangement::PersonDirected(current) if *current == chosen => {
            // Recorded already: a retry changes nothing.
            return Ok(Recorded {
                plan: plan_message(connection, person, latest).await?,
                changed: false,
            });
        }
        Arrangement::PersonDirected(_) => line.arrangement = Arrangement::PersonDirected(chosen),
        other => {
            return Err(Invalid::new(
                "line_number",
                format!(
                    "is line {}, which is option {}; the person chooses the provider only on an option 2 line (vary the plan to change how a line is arranged)",
                    choice.line_number,
                    other.option().number()
                ),
            )
            .into());
        }
    }
    let carried = PlanVersion::restore(
        latest.plan.version() + 1,
        latest.plan.effective_from(),
        today,
        lines,
        latest.plan.state().clone(),
        latest.plan.over_budget_reason().map(str::to_owned),
    )?;
    let stored = StoredVersion {
        plan: carried,
        review_due: latest.review_due,
        previous_version: Some(latest.plan.version()),
        ends_plan: false,
    };
    store::save_version(connection, person.id, &person.authority, &stored, actor).await?;
    store::audit(connection, person, actor, "plan.provider_chosen").await?;
    let message = plan_message(connection, person, &stored).await?;
    sds_events::enqueue(
        connection,
        NewEvent::new(
            person.authority.clone(),
            person.id.to_string(),
            u64::from(stored.plan.version()),
            proto::event::Body::PlanProviderChosen(proto::PlanProviderChosen {
                plan: Some(message.clone()),
                line_number: choice.line_number,
            }),
        ),
    )
    .await
    .map_err(|error| {
        AssessmentError::Internal(
            anyhow::Error::new(error).context("write plan.provider_chosen to the outbox"),
        )
    })?;
    info!(person_id = %person.id, version = stored.plan.version(), line = choice.line_number, "provider chosen");
    Ok(Recorded {
        plan: message,
        changed: true,
    })
}
