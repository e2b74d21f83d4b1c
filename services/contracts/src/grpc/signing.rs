//! SignAgreement: each party signs as its token shows it to be. The last signature agrees
//! the version; for version 1 that activates the agreement, and `agreement.signed` goes to
//! the outbox in the same transaction.
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
use sds_events::NewEvent;
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_vocabulary::Invalid;
use sqlx::{PgPool, Postgres, Transaction};
use tracing::info;

use super::agreement_convert::{self as convert, SignRequest, agreement_message};
use super::agreements::loaded;
use crate::directory::Directory;
use crate::domain::agreement_access as access;
use crate::domain::standing::shortfall_message;
use crate::domain::{Capacity, Parties, PartyRole, Signature, Signed};
use crate::error::ContractsError;
use crate::store::{self, AgreementRecord};

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
        let signature = signature_of(principal, &record, &request, today)?;
        let mut version = record.latest.clone();
        let signed = version.sign(signature.clone())?;
        if signed == Signed::AlreadySigned {
            return Ok(agreement_message(&record));
        }
        if signed == Signed::Completed && version.version == 1 && !standing_checked {
            transaction.rollback().await?;
            ensure_standing(directory, &record.latest.content.parties, today).await?;
            // The parties of a signed draft never change, so the answer holds for the
            // next pass, which completes (or, if another party signed meanwhile, still does).
            standing_checked = true;
            continue;
        }
        return record_signature(transaction, record, version.version, signature, signed).await;
    }
}

/// The signature the caller gives: as which party, for whom and in what capacity.
fn signature_of(
    principal: &Principal,
    record: &AgreementRecord,
    request: &SignRequest,
    today: NaiveDate,
) -> Result<Signature, ContractsError> {
    let parties = &record.latest.content.parties;
    let role = access::signing_role(principal, parties)?;
    if request.version != record.latest.version {
        return Err(ContractsError::NotLatestVersion {
            asked: request.version,
            latest: record.latest.version,
        });
    }
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

/// Writes the signature and, when it is the last, agrees the version and publishes
/// `agreement.signed`, all in `transaction`.
async fn record_signature(
    mut transaction: Transaction<'_, Postgres>,
    record: AgreementRecord,
    version: u32,
    signature: Signature,
    signed: Signed,
) -> Result<proto::Agreement, ContractsError> {
    let parties = record.latest.content.parties.clone();
    store::insert_signature(&mut transaction, record.id, version, &signature).await?;
    if signed == Signed::Completed {
        store::mark_agreed(&mut transaction, record.id, version, signature.signed_on).await?;
    }
    let record = loaded(&mut transaction, record.id, false).await?;
    let message = agreement_message(&record);
    if signed == Signed::Completed {
        let mut published = message.clone();
        // No names travel in events.
        if let Some(representative) = published.representative.as_mut() {
            representative.name.clear();
        }
        sds_events::enqueue(
            &mut transaction,
            NewEvent::new(
                parties.authority.clone(),
                record.id.to_string(),
                u64::from(version),
                proto::event::Body::AgreementSigned(proto::AgreementSigned {
                    agreement: Some(published),
                }),
            ),
        )
        .await
        .map_err(anyhow::Error::new)?;
    }
    transaction.commit().await?;
    info!(
        authority = %parties.authority,
        agreement = %record.id,
        role = %signature.role,
        agreed = signed == Signed::Completed,
        "agreement signed"
    );
    Ok(message)
}
