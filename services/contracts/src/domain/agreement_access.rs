//! Who may do what with agreements. Pure decisions over the verified [`Principal`] and the
//! agreement's parties; the signer's role always comes from the token, never the request.
//!
//! - Drafting and changing a draft: the authority's practitioners, team managers, panel
//!   or commissioning staff.
//! - Reading: any staff of the authority, and each party (the provider, the holder, the
//!   person). Anyone else is told the agreement does not exist.
//! - Signing: a provider or holder organisation that is the agreement's, the authority's
//!   practitioners, team managers, panel or commissioning staff, or the person.

use sds_platform::{OrgKind, Principal, Role};
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

use super::access::Denied;
use super::agreement::{Parties, PartyRole};

/// The roles that draft and sign agreements for an authority.
const CONTRACTING_ROLES: [Role; 4] = [
    Role::Practitioner,
    Role::TeamManager,
    Role::Panel,
    Role::Commissioning,
];

fn is_staff_of(principal: &Principal, authority: &AuthorityId) -> bool {
    principal.org_kind == OrgKind::Authority && principal.may_act_for(authority)
}

fn contracts_for(principal: &Principal, authority: &AuthorityId) -> bool {
    is_staff_of(principal, authority)
        && CONTRACTING_ROLES
            .iter()
            .any(|role| principal.has_role(*role))
}

/// The organisation's id, for a provider or holder token of that kind.
pub fn org_of_kind(principal: &Principal, kind: OrgKind) -> Option<Uuid> {
    (principal.org_kind == kind)
        .then(|| Uuid::parse_str(&principal.org_id).ok())
        .flatten()
}

/// The person's id, for a person's token.
pub fn person_of(principal: &Principal) -> Option<Uuid> {
    (principal.org_kind == OrgKind::Person)
        .then_some(principal.person_id.as_deref())
        .flatten()
        .and_then(|id| Uuid::parse_str(id).ok())
}

pub fn ensure_may_draft(principal: &Principal, authority: &AuthorityId) -> Result<(), Denied> {
    if contracts_for(principal, authority) {
        Ok(())
    } else {
        Err(Denied::new(format!(
            "agreements of {authority} are drafted by its practitioners, team managers, panel or commissioning staff"
        )))
    }
}

/// Whether the caller may see an agreement between `parties`.
pub fn may_see(principal: &Principal, parties: &Parties) -> bool {
    is_staff_of(principal, &parties.authority)
        || org_of_kind(principal, OrgKind::Provider) == Some(parties.provider_id)
        || (parties.holder_id.is_some()
            && org_of_kind(principal, OrgKind::Holder) == parties.holder_id)
        || person_of(principal) == Some(parties.person_id)
}

/// The party the caller signs as.
pub fn signing_role(principal: &Principal, parties: &Parties) -> Result<PartyRole, Denied> {
    if org_of_kind(principal, OrgKind::Provider) == Some(parties.provider_id) {
        return Ok(PartyRole::Provider);
    }
    if parties.holder_id.is_some() && org_of_kind(principal, OrgKind::Holder) == parties.holder_id {
        return Ok(PartyRole::Holder);
    }
    if contracts_for(principal, &parties.authority) {
        return Ok(PartyRole::Authority);
    }
    if person_of(principal) == Some(parties.person_id) {
        return Ok(PartyRole::Person);
    }
    Err(Denied::new(
        "only a party to this agreement signs it: its provider, its holder, the person, or the authority's practitioners, team managers, panel or commissioning staff",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDER: u128 = 2;
    const HOLDER: u128 = 3;
    const PERSON: u128 = 1;

    fn parties() -> Parties {
        Parties {
            person_id: Uuid::from_u128(PERSON),
            representative: None,
            provider_id: Uuid::from_u128(PROVIDER),
            authority: AuthorityId::parse("authority", "fife").unwrap(),
            holder_id: Some(Uuid::from_u128(HOLDER)),
        }
    }

    fn org(kind: OrgKind, id: u128) -> Principal {
        Principal {
            org_id: Uuid::from_u128(id).to_string(),
            org_kind: kind,
            roles: vec![],
            authorities: vec![],
            person_id: (kind == OrgKind::Person).then(|| Uuid::from_u128(id).to_string()),
        }
    }

    fn staff(of: &str, role: Role) -> Principal {
        Principal {
            org_id: of.into(),
            org_kind: OrgKind::Authority,
            roles: vec![role],
            authorities: vec![AuthorityId::parse("authority", of).unwrap()],
            person_id: None,
        }
    }

    #[test]
    fn each_party_signs_as_itself_and_no_one_else_signs() {
        let parties = parties();
        let cases = [
            (org(OrgKind::Provider, PROVIDER), Some(PartyRole::Provider)),
            (org(OrgKind::Holder, HOLDER), Some(PartyRole::Holder)),
            (org(OrgKind::Person, PERSON), Some(PartyRole::Person)),
            (staff("fife", Role::Panel), Some(PartyRole::Authority)),
            (staff("fife", Role::Finance), None),
            (staff("angus", Role::Practitioner), None),
            (org(OrgKind::Provider, HOLDER), None),
            (org(OrgKind::Holder, PROVIDER), None),
            (org(OrgKind::Person, 9), None),
        ];
        for (principal, role) in cases {
            assert_eq!(
                signing_role(&principal, &parties).ok(),
                role,
                "{principal:?}"
            );
        }
        assert!(may_see(&staff("fife", Role::Finance), &parties));
        assert!(!may_see(&staff("angus", Role::Commissioning), &parties));
        assert!(!may_see(&org(OrgKind::Provider, 9), &parties));
    }
}
