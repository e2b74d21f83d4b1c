//! Reads of a person's agreement (`GetAgreement`, `GetAgreementSummary`, and each agreement
//! `ListAgreements` gives) and the read audit trail they leave (see
//! `sds_platform::read_audit`).
//!
//! What must stay true: an agreement or its summary goes out only with its `read` entry,
//! written in the read's transaction; a caller who may not see an agreement that exists is
//! told it does not exist, and a `refused` entry (NOT_FOUND) under the agreement's
//! authority is committed first, so the authority sees who tried; an unknown agreement or a
//! bad id writes nothing.

use sds_platform::read_audit::{self, Outcome, Refusal, SubjectKind};
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::agreement_convert::agreement_message;
use crate::domain::agreement_access as access;
use crate::error::ContractsError;
use crate::store::{self, AgreementRecord};

/// What the read audit trail calls each read.
pub(super) const GET_AGREEMENT: &str = "contracts.GetAgreement";
pub(super) const GET_AGREEMENT_SUMMARY: &str = "contracts.GetAgreementSummary";
pub(super) const LIST_AGREEMENTS: &str = "contracts.ListAgreements";

/// The entry a read of `record` by `what` leaves: under the agreement's authority, about
/// its person.
pub(super) fn entry(record: &AgreementRecord, what: &'static str) -> read_audit::Record {
    let parties = &record.latest.content.parties;
    read_audit::Record {
        authority: parties.authority.clone(),
        subject_kind: SubjectKind::Person,
        subject_id: parties.person_id,
        what,
        record_id: record.id.to_string(),
    }
}

/// An agreement the caller may see, with the entry its read is to leave.
pub(super) type Readable = (AgreementRecord, read_audit::Record);

/// The agreement `id` if `principal` may see it. A refusal of an agreement that exists is
/// written to the trail in `connection`'s transaction and handed back, to be committed and
/// answered; an error of the outer result aborts the call.
pub(super) async fn readable(
    connection: &mut PgConnection,
    clock: &Clock,
    principal: &Principal,
    id: Uuid,
    what: &'static str,
) -> Result<Result<Readable, ContractsError>, ContractsError> {
    let record = store::load_agreement(connection, id, false)
        .await?
        .ok_or(ContractsError::AgreementNotFound(id))?;
    let entry = entry(&record, what);
    if access::may_see(principal, &record.latest.content.parties) {
        return Ok(Ok((record, entry)));
    }
    let refused = Outcome::Refused(Refusal::NotFound);
    read_audit::write(connection, clock, principal, &entry, refused).await?;
    Ok(Err(ContractsError::AgreementNotFound(id)))
}

pub(super) async fn get(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::GetAgreementRequest,
) -> Result<proto::Agreement, ContractsError> {
    let id = super::convert::id("agreement_id", &request.agreement_id)?;
    let mut transaction = pool.begin().await?;
    let (record, entry) =
        match readable(&mut transaction, clock, principal, id, GET_AGREEMENT).await? {
            Ok(readable) => readable,
            Err(refused) => {
                transaction.commit().await?;
                return Err(refused);
            }
        };
    read_audit::read(&mut transaction, clock, principal, &entry).await?;
    transaction.commit().await?;
    Ok(agreement_message(&record))
}
