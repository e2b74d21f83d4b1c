//! Who may do what in assessment and budgeting. Pure decisions over the verified
//! [`Principal`]; handlers ask before they touch the database, so a refused caller changes
//! nothing and learns nothing.
//!
//! - Everything here belongs to one authority: only that authority's staff (a token of kind
//!   `authority` naming it among its `authorities`) see or change it. Providers, holders and
//!   people see none of it through this service.
//! - Practitioners, team managers and panel members record people and assessments;
//!   commissioning staff may record people too (the case-system import is theirs).
//! - Commissioning staff set the authority's policy; any of its staff may read it.
//! - Commissioning staff, and only they, see the authority's uptake statistics and take its
//!   national (PHS) return.

use sds_platform::{OrgKind, Principal, Role};
use sds_vocabulary::AuthorityId;

/// Why a caller may not do what it asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(String);

impl Denied {
    pub fn new(reason: impl Into<String>) -> Denied {
        Denied(reason.into())
    }
}

const CASEWORK_ROLES: [Role; 3] = [Role::Practitioner, Role::TeamManager, Role::Panel];

fn is_staff_of(principal: &Principal, authority: &AuthorityId) -> bool {
    principal.org_kind == OrgKind::Authority && principal.may_act_for(authority)
}

fn staff_only(principal: &Principal, authority: &AuthorityId) -> Result<(), Denied> {
    if is_staff_of(principal, authority) {
        Ok(())
    } else {
        Err(Denied(format!(
            "only staff of {authority} see or change its people, assessments, plans and policy"
        )))
    }
}

/// Reading a person's record, an assessment or the policy: any staff of the authority.
pub fn ensure_may_read(principal: &Principal, authority: &AuthorityId) -> Result<(), Denied> {
    staff_only(principal, authority)
}

pub fn ensure_may_record_people(
    principal: &Principal,
    authority: &AuthorityId,
) -> Result<(), Denied> {
    staff_only(principal, authority)?;
    if CASEWORK_ROLES.iter().any(|role| principal.has_role(*role))
        || principal.has_role(Role::Commissioning)
    {
        Ok(())
    } else {
        Err(Denied(format!(
            "people are recorded by practitioners, team managers, panel members or commissioning staff of {authority}"
        )))
    }
}

pub fn ensure_may_assess(principal: &Principal, authority: &AuthorityId) -> Result<(), Denied> {
    staff_only(principal, authority)?;
    if CASEWORK_ROLES.iter().any(|role| principal.has_role(*role)) {
        Ok(())
    } else {
        Err(Denied(format!(
            "assessments, budgets and plans are recorded by practitioners, team managers or panel members of {authority}"
        )))
    }
}

pub fn ensure_may_set_policy(principal: &Principal, authority: &AuthorityId) -> Result<(), Denied> {
    staff_only(principal, authority)?;
    if principal.has_role(Role::Commissioning) {
        Ok(())
    } else {
        Err(Denied(format!(
            "the policy of {authority} is set by its commissioning staff"
        )))
    }
}

/// The case-system import: commissioning staff of the authority, since it records people
/// and approved plans in bulk, beyond any one caseworker's devolved limit.
pub fn ensure_may_import_case_records(
    principal: &Principal,
    authority: &AuthorityId,
) -> Result<(), Denied> {
    staff_only(principal, authority)?;
    if principal.has_role(Role::Commissioning) {
        Ok(())
    } else {
        Err(Denied(format!(
            "the case-system import of {authority} is for its commissioning staff"
        )))
    }
}

/// Uptake statistics and the PHS return: commissioning staff of the authority. The return
/// names every supported person by case reference, and even counts by locality and client
/// group can point at someone, so caseworkers see people one at a time instead.
pub fn ensure_may_see_statistics(
    principal: &Principal,
    authority: &AuthorityId,
) -> Result<(), Denied> {
    staff_only(principal, authority)?;
    if principal.has_role(Role::Commissioning) {
        Ok(())
    } else {
        Err(Denied(format!(
            "the uptake statistics and the national return of {authority} are for its commissioning staff"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority(id: &str) -> AuthorityId {
        AuthorityId::parse("authority", id).unwrap()
    }

    fn staff(of: &str, roles: &[Role]) -> Principal {
        Principal {
            org_id: of.into(),
            org_kind: OrgKind::Authority,
            roles: roles.to_vec(),
            authorities: vec![authority(of)],
            person_id: None,
        }
    }

    #[test]
    fn only_an_authoritys_own_staff_see_its_records() {
        let fife = authority("fife");
        assert!(ensure_may_read(&staff("fife", &[]), &fife).is_ok());
        assert!(ensure_may_read(&staff("angus", &[Role::Commissioning]), &fife).is_err());
        let provider = Principal {
            org_kind: OrgKind::Provider,
            authorities: vec![fife.clone()],
            ..staff("fife", &[Role::Practitioner])
        };
        assert!(ensure_may_read(&provider, &fife).is_err());
    }

    #[test]
    fn each_action_needs_its_role() {
        let fife = authority("fife");
        let cases: [(&[Role], bool, bool, bool); 5] = [
            (&[Role::Practitioner], true, true, false),
            (&[Role::TeamManager], true, true, false),
            (&[Role::Panel], true, true, false),
            (&[Role::Commissioning], true, false, true),
            (&[Role::Finance], false, false, false),
        ];
        for (roles, people, assess, policy) in cases {
            let principal = staff("fife", roles);
            assert_eq!(
                ensure_may_record_people(&principal, &fife).is_ok(),
                people,
                "{roles:?}"
            );
            assert_eq!(
                ensure_may_assess(&principal, &fife).is_ok(),
                assess,
                "{roles:?}"
            );
            assert_eq!(
                ensure_may_set_policy(&principal, &fife).is_ok(),
                policy,
                "{roles:?}"
            );
            assert_eq!(
                ensure_may_see_statistics(&principal, &fife).is_ok(),
                policy,
                "statistics follow the policy role: {roles:?}"
            );
        }
    }
}
