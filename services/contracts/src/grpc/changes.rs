//! Changing an agreement once it is active: a variation of its terms (signed again by every
//! party) and its end with notice (given by any party). Plan variations and rate changes
//! reach agreements without a call (see `crate::variations`).

use chrono::{Days, NaiveDate};
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_vocabulary::Invalid;
use sqlx::{PgConnection, PgPool};
use tracing::info;
use uuid::Uuid;

use super::agreement_convert::{self as convert, agreement_message};
use crate::domain::agreement_access as access;
use crate::domain::drafting::AgreementStatus;
use crate::domain::variation::{last_day_with_notice, with_terms};
use crate::domain::{AgreementVersion, EndCause, VersionCause, VersionState};
use crate::error::ContractsError;
use crate::store::{self, AgreementRecord};
use crate::variations;

/// How far back a variation may take effect: a year, as plan variations allow.
const BACKDATING_DAYS: u64 = 366;
/// How far ahead a variation may be dated: two years (further is taken as a typo).
const FORWARD_DAYS: u64 = 731;

async fn locked(
    connection: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<AgreementRecord, ContractsError> {
    store::load_agreement(connection, id, true)
        .await?
        .filter(|record| access::may_see(principal, &record.latest.content.parties))
        .ok_or(ContractsError::AgreementNotFound(id))
}

/// The newest version that is not superseded: a pending variation's changes carry on.
fn newest(versions: &[AgreementVersion]) -> Option<&AgreementVersion> {
    versions
        .iter()
        .rev()
        .find(|version| version.state != VersionState::Superseded)
}

fn check_effective(
    effective_from: NaiveDate,
    start: NaiveDate,
    today: NaiveDate,
) -> Result<(), Invalid> {
    if effective_from < start {
        return Err(Invalid::new(
            "effective_from",
            format!("{effective_from} is before the agreement starts, {start}"),
        ));
    }
    let latest = today
        .checked_add_days(Days::new(FORWARD_DAYS))
        .unwrap_or(NaiveDate::MAX);
    if effective_from > latest {
        return Err(Invalid::new(
            "effective_from",
            format!(
                "{effective_from} is more than two years ahead; a variation takes effect by {latest} at the latest"
            ),
        ));
    }
    let earliest = today
        .checked_sub_days(Days::new(BACKDATING_DAYS))
        .unwrap_or(NaiveDate::MIN);
    if effective_from < earliest {
        return Err(Invalid::new(
            "effective_from",
            format!(
                "{effective_from} is more than a year ago; a variation takes effect from {earliest} at the earliest"
            ),
        ));
    }
    Ok(())
}

pub(super) async fn vary(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::VaryAgreementRequest,
) -> Result<proto::Agreement, ContractsError> {
    let request = convert::vary_request(request)?;
    let today = clock.today();
    let mut transaction = pool.begin().await?;
    let record = locked(&mut transaction, principal, request.agreement_id).await?;
    access::ensure_may_draft(principal, &record.latest.content.parties.authority)?;
    let versions = store::load_versions(&mut transaction, record.id).await?;
    let was_active = versions.iter().any(AgreementVersion::is_agreed);
    match record.ended {
        // Under notice the agreement runs until its last day, and may change until then.
        Some((last_day, _)) if !was_active || request.effective_from > last_day => {
            return Err(ContractsError::Ended(last_day));
        }
        Some(_) => {}
        None if record.status != AgreementStatus::Active => {
            return Err(ContractsError::NotActive);
        }
        None => {}
    }
    let current = newest(&versions).ok_or(ContractsError::AgreementNotFound(record.id))?;
    check_effective(request.effective_from, current.content.terms.start(), today)?;
    if let Some(end) = request.terms.end()
        && request.effective_from > end
    {
        return Err(Invalid::new(
            "effective_from",
            format!(
                "{} is after the new terms end, {end}",
                request.effective_from
            ),
        )
        .into());
    }
    let content = with_terms(&current.content, request.terms)?;
    let version = variations::draft_variation(
        &mut transaction,
        &record,
        content,
        request.effective_from,
        today,
        VersionCause::TermsVaried,
    )
    .await?;
    let record = store::load_agreement(&mut transaction, record.id, false)
        .await?
        .ok_or(ContractsError::AgreementNotFound(record.id))?;
    transaction.commit().await?;
    info!(agreement = %record.id, version, "agreement terms variation drafted");
    Ok(agreement_message(&record))
}

pub(super) async fn end(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::EndAgreementRequest,
) -> Result<proto::Agreement, ContractsError> {
    let request = convert::end_request(request)?;
    let today = clock.today();
    let mut transaction = pool.begin().await?;
    let record = locked(&mut transaction, principal, request.agreement_id).await?;
    // Any party may give notice, each as itself.
    access::signing_role(principal, &record.latest.content.parties)?;
    match record.ended {
        // A retry of the same notice: nothing more to do.
        Some((last_day, _)) if last_day == request.last_day => {
            return Ok(agreement_message(&record));
        }
        Some((last_day, _)) => return Err(ContractsError::Ended(last_day)),
        None => {}
    }
    let last_day = if record.status == AgreementStatus::Active {
        let versions = store::load_versions(&mut transaction, record.id).await?;
        let in_force = versions
            .iter()
            .rev()
            .find(|version| version.is_agreed())
            .ok_or(ContractsError::AgreementNotFound(record.id))?;
        last_day_with_notice(&in_force.content.terms, today, request.last_day)?
    } else {
        // A draft was never in force: withdrawing it needs no notice.
        request.last_day
    };
    variations::end(
        &mut transaction,
        &record,
        last_day,
        EndCause::Notice,
        Some(&request.reason),
        today,
    )
    .await?;
    let record = store::load_agreement(&mut transaction, record.id, false)
        .await?
        .ok_or(ContractsError::AgreementNotFound(record.id))?;
    transaction.commit().await?;
    Ok(agreement_message(&record))
}
