//! Who may do what with contract defaults and rate cards. Pure decisions over the verified
//! [`Principal`]; handlers ask before they touch the database, so a refused caller changes
//! nothing.
//!
//! - An authority's contract defaults are set by its commissioning staff and read by any
//!   of its staff: they are its own drafting policy.
//! - A rate card is set, and its uplifts scheduled, by the provider itself or by
//!   commissioning staff of any authority: providers publish their own rates, and
//!   commissioners record the rates a provider quotes them (a provider is commissioned by
//!   many authorities, so a card belongs to none of them).
//! - A rate card is read by any authority's staff and by the provider itself; other
//!   providers and fund holders do not see a competitor's cost breakdown.

use sds_platform::{OrgKind, Principal, Role};
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

/// Why a caller may not do what it asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(String);

impl Denied {
    pub fn new(reason: impl Into<String>) -> Denied {
        Denied(reason.into())
    }
}

fn is_staff_of(principal: &Principal, authority: &AuthorityId) -> bool {
    principal.org_kind == OrgKind::Authority && principal.may_act_for(authority)
}

fn is_commissioner(principal: &Principal) -> bool {
    principal.org_kind == OrgKind::Authority && principal.has_role(Role::Commissioning)
}

/// The token's organisation is this provider. A provider's org id is its directory id.
fn is_the_provider(principal: &Principal, provider_id: Uuid) -> bool {
    principal.org_kind == OrgKind::Provider
        && Uuid::parse_str(&principal.org_id).is_ok_and(|id| id == provider_id)
}

pub fn ensure_may_read_defaults(
    principal: &Principal,
    authority: &AuthorityId,
) -> Result<(), Denied> {
    if is_staff_of(principal, authority) {
        Ok(())
    } else {
        Err(Denied(format!(
            "the contract defaults of {authority} are seen only by its staff"
        )))
    }
}

pub fn ensure_may_set_defaults(
    principal: &Principal,
    authority: &AuthorityId,
) -> Result<(), Denied> {
    if is_staff_of(principal, authority) && principal.has_role(Role::Commissioning) {
        Ok(())
    } else {
        Err(Denied(format!(
            "the contract defaults of {authority} are set by its commissioning staff"
        )))
    }
}

/// Setting a rate card or scheduling its uplift.
pub fn ensure_may_set_rates(principal: &Principal, provider_id: Uuid) -> Result<(), Denied> {
    if is_the_provider(principal, provider_id) || is_commissioner(principal) {
        Ok(())
    } else {
        Err(Denied(format!(
            "the rate cards of provider {provider_id} are set by the provider itself or by an authority's commissioning staff"
        )))
    }
}

/// Changing a card that prices active agreements: the provider itself, or commissioning
/// staff who act for every authority whose agreements the change would move (one authority
/// never reprices another's agreements).
pub fn ensure_may_move_agreements(
    principal: &Principal,
    provider_id: Uuid,
    authorities: &[AuthorityId],
) -> Result<(), Denied> {
    if is_the_provider(principal, provider_id) {
        return Ok(());
    }
    match authorities
        .iter()
        .find(|authority| !principal.may_act_for(authority))
    {
        None => Ok(()),
        Some(other) => Err(Denied(format!(
            "the card prices agreements of {other}, which its provider or {other}'s own commissioning staff change"
        ))),
    }
}

pub fn ensure_may_read_rates(principal: &Principal, provider_id: Uuid) -> Result<(), Denied> {
    if is_the_provider(principal, provider_id) || principal.org_kind == OrgKind::Authority {
        Ok(())
    } else {
        Err(Denied(format!(
            "the rate cards of provider {provider_id} are seen by authority staff and by the provider itself"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDER: &str = "0192f0c1-0000-7000-8000-00000000c5a1";
    const OTHER: &str = "0192f0c1-0000-7000-8000-00000000c5a2";

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

    fn org(kind: OrgKind, id: &str) -> Principal {
        Principal {
            org_id: id.into(),
            org_kind: kind,
            roles: vec![Role::ProviderAdmin],
            authorities: vec![],
            person_id: None,
        }
    }

    fn provider() -> Uuid {
        Uuid::parse_str(PROVIDER).unwrap()
    }

    #[test]
    fn defaults_are_set_by_commissioning_staff_and_read_by_any_staff_of_the_authority() {
        let fife = authority("fife");
        let cases = [
            (staff("fife", &[Role::Commissioning]), true, true),
            (staff("fife", &[Role::Practitioner]), false, true),
            (staff("angus", &[Role::Commissioning]), false, false),
            (org(OrgKind::Provider, PROVIDER), false, false),
        ];
        for (principal, set, read) in cases {
            assert_eq!(
                ensure_may_set_defaults(&principal, &fife).is_ok(),
                set,
                "{principal:?}"
            );
            assert_eq!(
                ensure_may_read_defaults(&principal, &fife).is_ok(),
                read,
                "{principal:?}"
            );
        }
    }

    #[test]
    fn rates_are_set_by_the_provider_or_commissioners_and_read_by_authorities_and_the_provider() {
        let cases = [
            (org(OrgKind::Provider, PROVIDER), true, true),
            (org(OrgKind::Provider, OTHER), false, false),
            (org(OrgKind::Holder, PROVIDER), false, false),
            (org(OrgKind::Person, PROVIDER), false, false),
            (staff("angus", &[Role::Commissioning]), true, true),
            (staff("fife", &[Role::Practitioner]), false, true),
        ];
        for (principal, set, read) in cases {
            assert_eq!(
                ensure_may_set_rates(&principal, provider()).is_ok(),
                set,
                "{principal:?}"
            );
            assert_eq!(
                ensure_may_read_rates(&principal, provider()).is_ok(),
                read,
                "{principal:?}"
            );
        }
    }
}
