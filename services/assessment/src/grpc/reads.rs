//! Reads of a person's record (`GetPerson`, `GetPlan`) and the read audit trail they leave
//! (see `sds_platform::read_audit`).
//!
//! What must stay true: a call that returns the person or their plan writes one `read`
//! entry in the read's own transaction, so nothing goes out without it; a call refused on
//! a person who exists writes one `refused` entry under the person's authority, with the
//! code the caller is answered (PERMISSION_DENIED for a caller who is no authority's staff,
//! NOT_FOUND for another authority's staff, from whom the person is hidden), and commits it
//! before the refusal goes out; an unknown person, a bad argument or a plan version that is
//! not there writes nothing. The answers are the same as before the trail: a refused
//! caller learns nothing from them about whether the person exists.

use sds_platform::Principal;
use sds_platform::read_audit::{self, Outcome, Refusal};
use sds_proto::v1 as proto;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{AssessmentApi, convert, ensure_authority_staff};
use crate::domain::access;
use crate::error::AssessmentError;
use crate::store::{self, PersonRecord};

/// What the trail calls each read.
const GET_PERSON: &str = "assessment.GetPerson";
const GET_PLAN: &str = "assessment.GetPlan";

/// The entry of a read of `person`'s record.
fn record(person: &PersonRecord, what: &'static str) -> read_audit::Record {
    read_audit::Record {
        authority: person.authority.clone(),
        subject_kind: read_audit::SubjectKind::Person,
        subject_id: person.id,
        what,
        record_id: person.id.to_string(),
    }
}

/// Either the person to read, or the refusal to answer once the transaction that wrote its
/// audit entry is committed.
type Readable = Result<PersonRecord, AssessmentError>;

impl AssessmentApi {
    /// The person `id` if `principal` may read them. A refusal of a person who exists is
    /// written to the trail in `connection`'s transaction and handed back to be committed
    /// and answered; an error of the outer result aborts the call.
    async fn readable_person(
        &self,
        connection: &mut PgConnection,
        principal: &Principal,
        id: Uuid,
        what: &'static str,
    ) -> Result<Readable, AssessmentError> {
        let staff = ensure_authority_staff(principal);
        let Some(person) = store::load_person(connection, id).await? else {
            staff?;
            return Err(AssessmentError::PersonNotFound(id));
        };
        let refusal = match staff {
            Err(denied) => Some((Refusal::PermissionDenied, denied)),
            // Staff of another authority are told the person is not recorded: which
            // authority supports someone is itself personal.
            Ok(()) if access::ensure_may_read(principal, &person.authority).is_err() => Some((
                Refusal::NotFound,
                AssessmentError::PersonNotFound(person.id),
            )),
            Ok(()) => None,
        };
        match refusal {
            Some((refusal, error)) => {
                read_audit::write(
                    connection,
                    &self.clock,
                    principal,
                    &record(&person, what),
                    Outcome::Refused(refusal),
                )
                .await?;
                Ok(Err(error))
            }
            None => Ok(Ok(person)),
        }
    }

    /// The id a read asks for; a caller who is no authority's staff is refused before its
    /// argument is judged, as it always was.
    fn asked_id(principal: &Principal, field: &str, raw: &str) -> Result<Uuid, AssessmentError> {
        convert::id(field, raw).map_err(|invalid| match ensure_authority_staff(principal) {
            Err(denied) => denied,
            Ok(()) => invalid.into(),
        })
    }

    pub(super) async fn read_person(
        &self,
        principal: &Principal,
        request: &proto::GetPersonRequest,
    ) -> Result<proto::Person, AssessmentError> {
        let id = Self::asked_id(principal, "id", &request.id)?;
        let mut transaction = self.pool.begin().await?;
        let person = match self
            .readable_person(&mut transaction, principal, id, GET_PERSON)
            .await?
        {
            Ok(person) => person,
            Err(refused) => {
                transaction.commit().await?;
                return Err(refused);
            }
        };
        store::audit(&mut transaction, &person, &principal.org_id, "person.read").await?;
        read_audit::read(
            &mut transaction,
            &self.clock,
            principal,
            &record(&person, GET_PERSON),
        )
        .await?;
        transaction.commit().await?;
        Ok(convert::person_message(&person))
    }

    pub(super) async fn read_plan(
        &self,
        principal: &Principal,
        request: &proto::GetPlanRequest,
    ) -> Result<proto::Plan, AssessmentError> {
        let person_id = Self::asked_id(principal, "person_id", &request.person_id)?;
        let mut transaction = self.pool.begin().await?;
        let person = match self
            .readable_person(&mut transaction, principal, person_id, GET_PLAN)
            .await?
        {
            Ok(person) => person,
            Err(refused) => {
                transaction.commit().await?;
                return Err(refused);
            }
        };
        let versions = store::plan_versions(&mut transaction, person.id, &person.authority).await?;
        let latest = versions.last().ok_or(AssessmentError::NoPlan(person.id))?;
        let stored = match request.version {
            0 => latest,
            wanted => versions
                .iter()
                .find(|stored| stored.plan.version() == wanted)
                .ok_or(AssessmentError::NoSuchVersion {
                    person: person.id,
                    version: wanted,
                    latest: latest.plan.version(),
                })?,
        };
        store::audit(&mut transaction, &person, &principal.org_id, "plan.read").await?;
        read_audit::read(
            &mut transaction,
            &self.clock,
            principal,
            &record(&person, GET_PLAN),
        )
        .await?;
        let message = self.plan_message(&mut transaction, &person, stored).await?;
        transaction.commit().await?;
        Ok(message)
    }
}
