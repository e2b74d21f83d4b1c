//! SignAgreement: each party signs, as its token shows it to be, the version awaiting
//! signatures. The last signature agrees it and, in the same transaction, activates a draft
//! and publishes the version (`variations::after_agreed`: `agreement.signed` for the first
//! agreed version, `agreement.varied` for a variation, then any rate changes since).
//!
//! Activation is gated on the provider's standing (`domain::standing`): before the last
//! signature of version 1 is recorded, the directory is asked over gRPC what it holds about
//! the provider today. An off-framework provider short of what it must show is refused
//! `FAILED_PRECONDITION` listing every requirement missing or expired; an unreachable
//! directory is answered `UNAVAILABLE`. Either way nothing is written, so the same signature
//! succeeds once the directory has what is needed. The directory is called holding no row
//! lock: the row is locked to learn that this signature completes, released for the call,
//! then locked again and everything decided afresh (another party may have signed since).

use chrono::NaiveDate;
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_vocabulary::Invalid;
use sqlx::{PgPool, Postgres, Transaction};
use tracing::info;

use super::agreement_convert::{self as convert, SignRequest, agreement_message};
use super::agreements::loaded;
use crate::directory::Directory;
use crate::domain::agreement_access as access;
use crate::domain::drafting::AgreementStatus;
use crate::domain::standing::shortfall_message;
use crate::domain::{Capacity, Parties, PartyRole, SignRefused, Signature, Signed, VersionCause};
use crate::error::ContractsError;
use crate::store::{self, AgreementRecord};
use crate::variations;
use uuid::Uuid;

pub(super) async fn sign(
    pool: &PgPool,
    clock: &Clock,
    directory: &Directory,
    principal: &Principal,
    request: &proto::SignAgreementRequest,
) -> Result<proto::Agreement, ContractsError> {
    let request = convert::sign_request(request)?;
    let today = clock.today();
    let mut standing_checked = false;
    loop {
        let mut transaction = pool.begin().await?;
        let record = loaded(&mut transaction, request.agreement_id, true).await?;
        // Someone who may not see the agreement learns nothing of it, its versions included.
        if !access::may_see(principal, &record.latest.content.parties) {
            return Err(ContractsError::AgreementNotFound(record.id));
        }
        let not_awaiting = || ContractsError::NotAwaiting {
            asked: request.version,
            awaiting: record.awaiting,
        };
        // Usually the latest version, already read with its signatures.
        let target = if record.latest.version == request.version {
            record.clone()
        } else {
            store::load_agreement_version(&mut transaction, record.id, request.version)
                .await?
                .ok_or_else(not_awaiting)?
        };
        let signature = signature_of(principal, &target, &request, today)?;
        let mut version = target.latest.clone();
        let signed = match version.sign(signature.clone()) {
            // A rate change is agreed in advance: nobody signs it.
            Err(SignRefused::AlreadyAgreed { .. })
                if version.cause == VersionCause::RateChanged =>
            {
                return Err(not_awaiting());
            }
            other => other?,
        };
        if signed == Signed::AlreadySigned {
            return Ok(agreement_message(&record));
        }
        // Under notice, a variation for the time before the last day is still agreed (an
        // ended draft's version was superseded, so it never gets here).
        if let Some((last_day, _)) = record.ended
            && version.effective_from > last_day
        {
            return Err(ContractsError::Ended(last_day));
        }
        let activates = signed == Signed::Completed && record.status == AgreementStatus::Draft;
        if activates && !standing_checked {
            transaction.rollback().await?;
            ensure_standing(directory, &version.content.parties, today).await?;
            // The parties of an agreement never change, so the answer holds for the next
            // pass, which completes (or, if another party signed meanwhile, still does).
            standing_checked = true;
            continue;
        }
        return record_signature(transaction, record.id, version.version, signature, signed).await;
    }
}

/// The signature the caller gives on `record`'s version: as which party, for whom and in
/// what capacity.
fn signature_of(
    principal: &Principal,
    record: &AgreementRecord,
    request: &SignRequest,
    today: NaiveDate,
) -> Result<Signature, ContractsError> {
    let parties = &record.latest.content.parties;
    let role = access::signing_role(principal, parties)?;
    let capacity = if role == PartyRole::Person {
        let expected = parties
            .representative
            .as_ref()
            .map_or(Capacity::Themselves, |representative| {
                representative.capacity
            });
        if request.capacity.is_some_and(|given| given != expected) {
            return Err(Invalid::new(
                "capacity",
                format!("is not how this agreement is signed for the person; it names {expected}"),
            )
            .into());
        }
        Some(expected)
    } else {
        if request.capacity.is_some() {
            return Err(Invalid::new(
                "capacity",
                "is given, but only the person's signature has a capacity; leave it empty",
            )
            .into());
        }
        None
    };
    Ok(Signature {
        role,
        signed_by: match role {
            PartyRole::Person => parties.person_id.to_string(),
            _ => principal.org_id.clone(),
        },
        capacity,
        signed_on: today,
    })
}

/// Refuses activation unless the provider may start work for the authority on `today`.
async fn ensure_standing(
    directory: &Directory,
    parties: &Parties,
    today: NaiveDate,
) -> Result<(), ContractsError> {
    let provider = directory
        .provider(parties.provider_id, &parties.authority)
        .await?;
    let shortfalls = provider.standing.shortfalls(today);
    if shortfalls.is_empty() {
        return Ok(());
    }
    info!(
        authority = %parties.authority,
        provider = %parties.provider_id,
        shortfalls = shortfalls.len(),
        "activation refused: the provider's off-framework checks fall short"
    );
    Err(ContractsError::ProviderStanding(shortfall_message(
        &provider.name,
        parties.authority.as_str(),
        provider.standing.kind,
        &shortfalls,
    )))
}

/// Writes the signature and, when it is the last, agrees the version and publishes what
/// follows, all in `transaction`.
async fn record_signature(
    mut transaction: Transaction<'_, Postgres>,
    id: Uuid,
    version: u32,
    signature: Signature,
    signed: Signed,
) -> Result<proto::Agreement, ContractsError> {
    store::insert_signature(&mut transaction, id, version, &signature).await?;
    if signed == Signed::Completed {
        variations::after_agreed(&mut transaction, id, version, signature.signed_on).await?;
    }
    let record = loaded(&mut transaction, id, false).await?;
    transaction.commit().await?;
    info!(
        authority = %record.latest.content.parties.authority,
        agreement = %record.id,
        role = %signature.role,
        agreed = signed == Signed::Completed,
        "agreement signed"
    );
    Ok(agreement_message(&record))
}
