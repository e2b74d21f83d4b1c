//! `LookupPeople`: the case reference and name of many of an authority's people at once,
//! for services that print them beside money (payments' remittances). Every person read is
//! audited, as `GetPerson` audits one: in `person_audit`, and in the read audit trail (one
//! `read` entry per person returned, written in one INSERT in the read's transaction). A
//! caller refused leaves one `refused` entry (PERMISSION_DENIED, the code it is answered)
//! per person asked for who is recorded under the authority asked for, committed before the
//! refusal goes out; ids of no one there, and bad arguments, write nothing.

use sds_platform::read_audit::{self, Outcome, Refusal, SubjectKind};
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_vocabulary::AuthorityId;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{Invalid, access};
use crate::error::AssessmentError;
use crate::store;

use super::convert;

/// The most ids one call may ask for.
pub const MAX_PEOPLE: usize = 5_000;

/// What the read audit trail calls a lookup.
const LOOKUP_PEOPLE: &str = "assessment.LookupPeople";

/// The entries of reads (or refusals) of `people`, recorded under `authority`.
fn entries(authority: &AuthorityId, people: impl Iterator<Item = Uuid>) -> Vec<read_audit::Record> {
    people
        .map(|person| read_audit::Record {
            authority: authority.clone(),
            subject_kind: SubjectKind::Person,
            subject_id: person,
            what: LOOKUP_PEOPLE,
            record_id: person.to_string(),
        })
        .collect()
}

pub async fn lookup(
    clock: &Clock,
    pool: &PgPool,
    principal: &Principal,
    request: &proto::LookupPeopleRequest,
) -> Result<proto::LookupPeopleResponse, AssessmentError> {
    // A caller who is no authority's staff is refused before its arguments are judged, as
    // it always was; its refusal is written once the arguments are read.
    let staff = super::ensure_authority_staff(principal);
    let (authority, ids) = match arguments(request) {
        Ok(arguments) => arguments,
        Err(invalid) => return Err(staff.err().unwrap_or_else(|| invalid.into())),
    };
    let refused = staff.and_then(|()| {
        access::ensure_may_read(principal, &authority).map_err(AssessmentError::from)
    });
    let mut transaction = pool.begin().await.map_err(AssessmentError::from)?;
    let found = store::people_references(&mut transaction, &authority, &ids).await?;
    if let Err(refused) = refused {
        let tried = entries(&authority, found.iter().map(|(id, _, _)| *id));
        let refusal = Outcome::Refused(Refusal::PermissionDenied);
        read_audit::write_many(&mut transaction, clock, principal, &tried, refusal).await?;
        transaction.commit().await.map_err(AssessmentError::from)?;
        return Err(refused);
    }
    let audited: Vec<(Uuid, &str)> = found
        .iter()
        .map(|(id, _, _)| (*id, "person.looked_up"))
        .collect();
    // Who the read was for goes into the trail too; it is at most an id's length.
    let actor = match request.on_behalf_of.trim() {
        "" => principal.org_id.clone(),
        behalf => format!(
            "{} for {}",
            principal.org_id,
            behalf.chars().take(128).collect::<String>()
        ),
    };
    store::audit_people(&mut transaction, &authority, &audited, &actor).await?;
    let mut by_id: std::collections::HashMap<Uuid, (String, String)> = found
        .into_iter()
        .map(|(id, case_reference, name)| (id, (case_reference, name)))
        .collect();
    // In the order asked, the unknown left out, each person once.
    let given: Vec<(Uuid, (String, String))> = ids
        .iter()
        .filter_map(|id| by_id.remove(id).map(|reference| (*id, reference)))
        .collect();
    let read = entries(&authority, given.iter().map(|(id, _)| *id));
    let people = given
        .into_iter()
        .map(
            |(id, (case_reference, display_name))| proto::PersonReference {
                person_id: id.to_string(),
                case_reference,
                display_name,
            },
        )
        .collect();
    read_audit::read_many(&mut transaction, clock, principal, &read).await?;
    transaction.commit().await.map_err(AssessmentError::from)?;
    Ok(proto::LookupPeopleResponse { people })
}

/// The authority and the ids asked for, naming the field at fault.
fn arguments(request: &proto::LookupPeopleRequest) -> Result<(AuthorityId, Vec<Uuid>), Invalid> {
    let authority = convert::authority("authority", &request.authority)?;
    if request.person_ids.is_empty() || request.person_ids.len() > MAX_PEOPLE {
        return Err(Invalid::new(
            "person_ids",
            format!(
                "has {} ids; give 1 to {MAX_PEOPLE}",
                request.person_ids.len()
            ),
        ));
    }
    let ids = request
        .person_ids
        .iter()
        .enumerate()
        .map(|(index, raw)| convert::id(&format!("person_ids[{index}]"), raw))
        .collect::<Result<Vec<Uuid>, Invalid>>()?;
    Ok((authority, ids))
}
