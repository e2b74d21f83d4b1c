//! Drafting agreements from a plan copy, with the authority's contract defaults: by the
//! plan consumer for every complete option 2 choice, and by hand (`DraftAgreement`).
//!
//! What must stay true: a plan line is funded by at most one agreement of the person that
//! has not ended (drafting holds a per-person lock and skips lines already funded); a draft
//! that the domain refuses is never written.

use chrono::NaiveDate;
use sds_vocabulary::AuthorityId;
use sqlx::PgConnection;
use tracing::{info, warn};

use crate::domain::AgreementVersion;
use crate::domain::drafting::{DraftFrom, PLACEHOLDER_OUTCOMES, draft_content};
use crate::domain::plan_copy::{PlanCopy, agreements_called_for};
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
