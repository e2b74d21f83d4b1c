//! `LookupPeople`: the case reference and name of many of an authority's people at once,
//! for services that print them beside money (payments' remittances). Every person read is
//! audited, as `GetPerson` audits one.

use sds_platform::Principal;
use sds_proto::v1 as proto;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{Invalid, access};
use crate::error::AssessmentError;
use crate::store;

use super::convert;

/// The most ids one call may ask for.
pub const MAX_PEOPLE: usize = 5_000;

pub async fn lookup(
    pool: &PgPool,
    principal: &Principal,
    request: &proto::LookupPeopleRequest,
) -> Result<proto::LookupPeopleResponse, AssessmentError> {
    let authority = convert::authority("authority", &request.authority)?;
    if request.person_ids.is_empty() || request.person_ids.len() > MAX_PEOPLE {
        return Err(Invalid::new(
            "person_ids",
            format!(
                "has {} ids; give 1 to {MAX_PEOPLE}",
                request.person_ids.len()
            ),
        )
        .into());
    }
    let ids = request
        .person_ids
        .iter()
        .enumerate()
        .map(|(index, raw)| convert::id(&format!("person_ids[{index}]"), raw))
        .collect::<Result<Vec<Uuid>, Invalid>>()?;
    access::ensure_may_read(principal, &authority)?;
    let mut transaction = pool.begin().await.map_err(AssessmentError::from)?;
    let found = store::people_references(&mut transaction, &authority, &ids).await?;
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
    transaction.commit().await.map_err(AssessmentError::from)?;
    let mut by_id: std::collections::HashMap<Uuid, (String, String)> = found
        .into_iter()
        .map(|(id, case_reference, name)| (id, (case_reference, name)))
        .collect();
    Ok(proto::LookupPeopleResponse {
        people: ids
            .iter()
            .filter_map(|id| {
                by_id
                    .remove(id)
                    .map(|(case_reference, display_name)| proto::PersonReference {
                        person_id: id.to_string(),
                        case_reference,
                        display_name,
                    })
            })
            .collect(),
    })
}
