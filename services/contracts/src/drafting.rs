//! Drafting agreements from a plan copy, with the authority's contract defaults: by the
//! plan consumer for every complete option 2 choice, and by hand (`DraftAgreement`).
//!
//! What must stay true: a plan line is funded by at most one agreement of the person that
//! has not ended (drafting holds a per-person lock and skips lines already funded); a draft
//! that the domain refuses is never written; hours are priced on the provider's rate card
//! when it is named, or, drafting from a plan, when the provider has only one.

use chrono::NaiveDate;
use sds_vocabulary::{AuthorityId, Invalid};
use sqlx::PgConnection;
use tracing::{info, warn};
use uuid::Uuid;

use crate::domain::drafting::{DraftFrom, PLACEHOLDER_OUTCOMES, draft_content};
use crate::domain::plan_copy::{PlanCopy, agreements_called_for};
use crate::domain::{AgreementContent, AgreementVersion, RateReference};
use crate::error::ContractsError;
use crate::store;

/// Drafts one agreement for each group of ready, unfunded option 2 lines of `plan`.
/// Returns how many were drafted; none when the authority has no defaults yet (drafting by
/// hand works once they are set).
pub async fn draft_from_plan(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    plan: &PlanCopy,
    today: NaiveDate,
    created_by: &str,
) -> Result<usize, ContractsError> {
    store::lock_person(connection, plan.person_id).await?;
    let funded = store::funded_lines(connection, plan.person_id).await?;
    let groups = agreements_called_for(plan, &funded);
    if groups.is_empty() {
        return Ok(0);
    }
    let Some(defaults) = store::load_defaults(connection, authority).await? else {
        info!(
            %authority,
            waiting = groups.len(),
            "no contract defaults yet: plan lines left to draft by hand"
        );
        return Ok(0);
    };
    let mut drafted = 0;
    for (chosen, lines) in groups {
        let from = DraftFrom {
            authority,
            person_id: plan.person_id,
            chosen,
            defaults: &defaults.terms,
            outcomes: PLACEHOLDER_OUTCOMES.to_owned(),
            representative: None,
        };
        match draft_content(from, &lines) {
            Ok(content) => {
                let content = priced_on_the_only_card(connection, content).await?;
                let first = AgreementVersion::first(content, today);
                store::insert_agreement(
                    connection,
                    chosen.holding_model,
                    plan.version,
                    created_by,
                    &first,
                )
                .await?;
                drafted += 1;
            }
            // The plan's lines do not make an agreement the defaults allow (a one-day
            // span leaves no room for a review, say): staff draft it by hand.
            Err(refusal) => warn!(
                %authority,
                field = refusal.field(),
                "plan lines not drafted automatically"
            ),
        }
    }
    info!(%authority, drafted, "agreements drafted from a plan");
    Ok(drafted)
}

/// `content` with its hours priced on the provider's rate card `rate_card_id` as in force on
/// the agreement's start. Refusals name `rate_card_id`.
pub async fn on_rate_card(
    connection: &mut sqlx::PgConnection,
    content: AgreementContent,
    rate_card_id: Uuid,
) -> Result<AgreementContent, ContractsError> {
    let card = store::load_rate_card(connection, rate_card_id)
        .await?
        .ok_or(ContractsError::RateCardNotFound(rate_card_id))?;
    if card.provider_id != content.parties.provider_id {
        return Err(Invalid::new(
            "rate_card_id",
            "is another provider's rate card; an agreement is priced on its own provider's card",
        )
        .into());
    }
    if content
        .lines
        .iter()
        .all(|line| line.hours_per_week.is_none())
    {
        return Err(Invalid::new(
            "rate_card_id",
            "is given, but no line is given as hours a week; a rate card prices hours",
        )
        .into());
    }
    let start = content.terms.start();
    if card
        .versions
        .first()
        .is_none_or(|first| first.effective_from > start)
    {
        return Err(Invalid::new(
            "rate_card_id",
            format!("has no rate in force on the agreement's start, {start}"),
        )
        .into());
    }
    let content = AgreementContent {
        rate: Some(RateReference {
            rate_card_id,
            version: 1,
        }),
        ..content
    };
    crate::variations::priced_on_card(connection, content, start).await
}

/// `content` priced on its provider's rate card when the provider has exactly one, in force
/// on the agreement's start, and some line is hours a week; as it is otherwise (a provider
/// with cards for several service types is priced by hand, naming the card).
async fn priced_on_the_only_card(
    connection: &mut PgConnection,
    content: AgreementContent,
) -> Result<AgreementContent, ContractsError> {
    if content
        .lines
        .iter()
        .all(|line| line.hours_per_week.is_none())
    {
        return Ok(content);
    }
    let cards = store::rate_cards_of(connection, content.parties.provider_id).await?;
    let [only] = cards.as_slice() else {
        return Ok(content);
    };
    match on_rate_card(connection, content.clone(), *only).await {
        Ok(priced) => Ok(priced),
        // No rate in force on the start: the plan's amounts stand.
        Err(ContractsError::InvalidInput(_)) => Ok(content),
        Err(other) => Err(other),
    }
}
