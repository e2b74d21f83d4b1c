//! Who may do what in the directory. Pure decisions over the verified [`Principal`]; the
//! handlers ask before they touch the database, so a refused caller changes nothing and
//! learns nothing about records it may not change.
//!
//! - Any authenticated organisation may get and search providers.
//! - A provider registers, updates and records checks for its own record only; its record's
//!   id is its token's organisation id.
//! - Authority commissioning staff register any provider (a personal assistant a person
//!   chose off framework), record checks and Care Inspectorate grades, import the Care
//!   Inspectorate datastore, and set framework status for their own authorities only.

use sds_platform::{OrgKind, Principal};
use uuid::Uuid;

use super::framework::AuthorityId;
use super::provider::ProviderId;

/// The role of authority staff who keep the directory, frameworks and rate cards.
pub const COMMISSIONING: &str = "commissioning";

/// Why a caller may not do what it asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(String);

/// Whose record a registration creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registrant {
    /// A provider registering itself: the record takes its organisation id.
    Itself(ProviderId),
    /// Commissioning staff registering a provider on its behalf: the record gets a new id.
    OnBehalf,
}

fn is_commissioning_staff(principal: &Principal) -> bool {
    principal.org_kind == OrgKind::Authority && principal.has_role(COMMISSIONING)
}

/// Compares ids as UUIDs, so the case a token spells its subject in does not matter.
fn is_provider(principal: &Principal, id: ProviderId) -> bool {
    principal.org_kind == OrgKind::Provider
        && Uuid::parse_str(&principal.org_id).is_ok_and(|org_id| org_id == id.as_uuid())
}

pub fn registrant(principal: &Principal) -> Result<Registrant, Denied> {
    match principal.org_kind {
        OrgKind::Provider => match Uuid::parse_str(&principal.org_id) {
            Ok(id) => Ok(Registrant::Itself(ProviderId::from_uuid(id))),
            Err(_) => Err(Denied(format!(
                "your token's organisation id {:?} is not a UUID, so it cannot name a provider record; ask for a token whose subject is your provider id",
                principal.org_id
            ))),
        },
        _ if is_commissioning_staff(principal) => Ok(Registrant::OnBehalf),
        _ => Err(Denied(
            "only a provider (for itself) or authority staff with the commissioning role may register providers"
                .into(),
        )),
    }
}

pub fn ensure_may_update(principal: &Principal, id: ProviderId) -> Result<(), Denied> {
    if is_provider(principal, id) {
        Ok(())
    } else {
        Err(Denied(format!(
            "a provider may update only its own record; you may not update provider {id}"
        )))
    }
}

pub fn ensure_may_record_check(principal: &Principal, id: ProviderId) -> Result<(), Denied> {
    if is_provider(principal, id) || is_commissioning_staff(principal) {
        Ok(())
    } else {
        Err(Denied(format!(
            "checks on provider {id} are recorded by the provider itself or by authority commissioning staff"
        )))
    }
}

pub fn ensure_may_record_grades(principal: &Principal) -> Result<(), Denied> {
    if is_commissioning_staff(principal) {
        Ok(())
    } else {
        Err(Denied(
            "grades come from the Care Inspectorate and are recorded by authority commissioning staff only"
                .into(),
        ))
    }
}

pub fn ensure_may_import(principal: &Principal) -> Result<(), Denied> {
    if is_commissioning_staff(principal) {
        Ok(())
    } else {
        Err(Denied(
            "the Care Inspectorate import is run by authority commissioning staff only".into(),
        ))
    }
}

pub fn ensure_may_set_framework_status(
    principal: &Principal,
    authority: &AuthorityId,
) -> Result<(), Denied> {
    if is_commissioning_staff(principal) && principal.may_act_for(authority.as_str()) {
        Ok(())
    } else {
        Err(Denied(format!(
            "only commissioning staff of {authority} may set framework status for {authority}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(org_id: &str) -> Principal {
        Principal {
            org_id: org_id.into(),
            org_kind: OrgKind::Provider,
            roles: vec![],
            authorities: vec![],
            person_id: None,
        }
    }

    fn staff(authority: &str, roles: &[&str]) -> Principal {
        Principal {
            org_id: authority.into(),
            org_kind: OrgKind::Authority,
            roles: roles.iter().map(|role| role.to_string()).collect(),
            authorities: vec![authority.into()],
            person_id: None,
        }
    }

    #[test]
    fn a_provider_registers_itself_under_its_organisation_id() {
        let id = ProviderId::generate();
        assert_eq!(
            registrant(&provider(&id.to_string())),
            Ok(Registrant::Itself(id))
        );
        assert!(
            registrant(&provider("fife-care"))
                .unwrap_err()
                .0
                .contains("not a UUID")
        );
        assert_eq!(
            registrant(&staff("fife", &[COMMISSIONING])),
            Ok(Registrant::OnBehalf)
        );
        assert!(registrant(&staff("fife", &["social_worker"])).is_err());
    }

    #[test]
    fn only_the_provider_itself_updates_its_record() {
        let id = ProviderId::generate();
        assert!(ensure_may_update(&provider(&id.to_string()), id).is_ok());
        assert!(ensure_may_update(&provider(&ProviderId::generate().to_string()), id).is_err());
        assert!(ensure_may_update(&staff("fife", &[COMMISSIONING]), id).is_err());
    }

    #[test]
    fn framework_status_is_set_for_the_callers_own_authority_only() {
        let fife = AuthorityId::parse("authority", "fife").unwrap();
        let highland = AuthorityId::parse("authority", "highland").unwrap();
        let officer = staff("fife", &[COMMISSIONING]);
        assert!(ensure_may_set_framework_status(&officer, &fife).is_ok());
        let denied = ensure_may_set_framework_status(&officer, &highland).unwrap_err();
        assert!(denied.0.contains("highland"));
        assert!(ensure_may_set_framework_status(&staff("fife", &[]), &fife).is_err());
    }

    #[test]
    fn providers_cannot_grade_themselves() {
        let id = ProviderId::generate();
        assert!(ensure_may_record_grades(&provider(&id.to_string())).is_err());
        assert!(ensure_may_record_check(&provider(&id.to_string()), id).is_ok());
    }
}
