//! Rate cards: set and uplifted by the provider itself or commissioning staff, read by any
//! authority's staff and by the provider. Every change adds a version after the latest;
//! none is edited, since agreements are paid at the version in force on each day.

use chrono::{Months, NaiveDate};
use sds_platform::{Clock, OrgKind, Principal};
use sds_proto::v1 as proto;
use sds_vocabulary::Invalid;
use sqlx::{PgConnection, PgPool};
use tracing::info;
use uuid::Uuid;

use super::convert;
use crate::directory::Directory;
use crate::domain::RateHistory;
use crate::domain::access;
use crate::domain::rate::UpliftRefused;
use crate::error::ContractsError;
use crate::store::{self, RateCardRecord, VersionCause};
use crate::variations;

pub(super) async fn set(
    pool: &PgPool,
    clock: &Clock,
    directory: &Directory,
    principal: &Principal,
    request: &proto::SetRateCardRequest,
) -> Result<proto::RateCard, ContractsError> {
    let new = convert::new_rate_card(request)?;
    within_reach(new.effective_from, clock.today())?;
    access::ensure_may_set_rates(principal, new.provider_id)?;
    // Commissioning staff keep cards for providers the directory lists (a provider's own
    // token already names a provider); a card for an id nobody registered prices nobody.
    if let Some(authority) = principal.authorities.first()
        && principal.org_kind == OrgKind::Authority
    {
        directory.provider(new.provider_id, authority).await?;
    }
    let mut transaction = pool.begin().await?;
    let id = store::claim_rate_card(
        &mut transaction,
        new.provider_id,
        &new.service_type,
        &principal.org_id,
    )
    .await?;
    let existing = loaded(&mut transaction, id).await?;
    let moved = store::authorities_on_card(&mut transaction, id).await?;
    access::ensure_may_move_agreements(principal, new.provider_id, &moved)?;
    let version = match existing.latest() {
        Some(latest) if latest.effective_from >= new.effective_from => {
            return Err(ContractsError::NotAfterLatest {
                latest: latest.effective_from,
                requested: new.effective_from,
            });
        }
        Some(latest) => latest.version + 1,
        None => 1,
    };
    store::insert_rate_version(
        &mut transaction,
        id,
        version,
        new.effective_from,
        VersionCause::Set,
        None,
        &new.card,
        &principal.org_id,
    )
    .await?;
    variations::follow_rate_change(
        &mut transaction,
        id,
        version,
        new.effective_from,
        clock.today(),
    )
    .await?;
    let record = loaded(&mut transaction, id).await?;
    transaction.commit().await?;
    info!(rate_card_id = %id, version, "rate card set");
    Ok(convert::rate_card_message(&record))
}

pub(super) async fn schedule_uplift(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::ScheduleUpliftRequest,
) -> Result<proto::RateCard, ContractsError> {
    let new = convert::new_uplift(request)?;
    within_reach(new.effective_from, clock.today())?;
    let mut transaction = pool.begin().await?;
    // Locks the card, so two uplifts cannot both become "the next" version.
    if !store::lock_rate_card(&mut transaction, new.rate_card_id).await? {
        return Err(ContractsError::RateCardNotFound(new.rate_card_id));
    }
    let card = loaded(&mut transaction, new.rate_card_id).await?;
    access::ensure_may_set_rates(principal, card.provider_id)?;
    let moved = store::authorities_on_card(&mut transaction, card.id).await?;
    access::ensure_may_move_agreements(principal, card.provider_id, &moved)?;
    let latest = card.latest().ok_or_else(|| {
        ContractsError::Internal(anyhow::anyhow!("rate card {} has no versions", card.id))
    })?;
    // Only the latest version matters to an uplift: it raises that one from a later date.
    let mut history = RateHistory::new(latest.effective_from, latest.card.clone());
    let uplifted = history
        .schedule(new.effective_from, &new.uplift)
        .map_err(|refused| match refused {
            UpliftRefused::NotAfterLatest {
                effective_from,
                latest,
            } => ContractsError::NotAfterLatest {
                latest,
                requested: effective_from,
            },
            UpliftRefused::OutOfRange => ContractsError::UpliftOutOfRange,
        })?
        .card
        .clone();
    let version = latest.version + 1;
    store::insert_rate_version(
        &mut transaction,
        card.id,
        version,
        new.effective_from,
        VersionCause::Uplift,
        convert::uplift_percent(&new.uplift),
        &uplifted,
        &principal.org_id,
    )
    .await?;
    // Agreements priced on the card follow it from the uplift's date without re-contracting.
    variations::follow_rate_change(
        &mut transaction,
        card.id,
        version,
        new.effective_from,
        clock.today(),
    )
    .await?;
    let record = loaded(&mut transaction, card.id).await?;
    transaction.commit().await?;
    info!(rate_card_id = %card.id, version, "rate card uplift scheduled");
    Ok(convert::rate_card_message(&record))
}

pub(super) async fn get(
    pool: &PgPool,
    principal: &Principal,
    request: &proto::GetRateCardRequest,
) -> Result<proto::RateCard, ContractsError> {
    let id = convert::id("rate_card_id", &request.rate_card_id)?;
    let mut connection = pool.acquire().await?;
    let record = loaded(&mut connection, id).await?;
    access::ensure_may_read_rates(principal, record.provider_id)?;
    Ok(convert::rate_card_message(&record))
}

/// How far ahead a rate may be set: two years, as a policy may. A date further away is
/// taken as a typo, and would otherwise close the card to every change before it.
const MAX_YEARS_AHEAD: u32 = 2;

fn within_reach(effective_from: NaiveDate, today: NaiveDate) -> Result<(), Invalid> {
    let furthest = today
        .checked_add_months(Months::new(12 * MAX_YEARS_AHEAD))
        .unwrap_or(NaiveDate::MAX);
    if effective_from > furthest {
        return Err(Invalid::new(
            "effective_from",
            format!(
                "{effective_from} is more than {MAX_YEARS_AHEAD} years ahead; a rate is set from {furthest} at the latest"
            ),
        ));
    }
    Ok(())
}

async fn loaded(connection: &mut PgConnection, id: Uuid) -> Result<RateCardRecord, ContractsError> {
    store::load_rate_card(connection, id)
        .await?
        .ok_or(ContractsError::RateCardNotFound(id))
}
