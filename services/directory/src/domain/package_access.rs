//! Who may see and do what with package requests. Pure decisions over the verified
//! [`Principal`] and what the request is; the handlers ask before they show or change
//! anything, and a request the caller may not see is reported as not found, so that its
//! existence tells a stranger nothing.
//!
//! - Authority staff see their authority's requests in full, and its practitioners and
//!   commissioning staff publish them and record the person's choice.
//! - A person sees the requests made for them, in full, with the offers, and chooses.
//! - A provider sees, anonymised, the open requests it matches (its localities and service
//!   types) until offers close, and every request it has answered; it sees who a request is
//!   for only once its own offer is accepted. It answers for itself only.
//! - Anyone else (a fund holder, a token with no organisation of these kinds) sees none.

use sds_platform::{OrgKind, Principal, Role};
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

use super::access::Denied;

/// The caller, as far as package requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// Authority staff, acting for these authorities.
    Staff(Vec<AuthorityId>),
    /// The supported person (or their representative).
    Person(Uuid),
    /// A provider, by its directory id.
    Provider(Uuid),
}

/// How much of a request a caller is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Hidden,
    /// Everything but who it is for.
    Anonymised,
    Full,
}

/// What the visibility of one request depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audience<'a> {
    pub authority: &'a AuthorityId,
    pub person_id: Uuid,
    /// Whether the request is open and its offers have not closed.
    pub taking_offers: bool,
    /// For a provider viewer: whether the request is in its localities and service types.
    pub matches_provider: bool,
    /// For a provider viewer: whether it has answered the request.
    pub answered_by_provider: bool,
    /// The provider whose offer was accepted, if one was.
    pub accepted_provider: Option<Uuid>,
}

/// Who the caller is, for package requests; refused for callers who see none.
pub fn viewer(principal: &Principal) -> Result<Viewer, Denied> {
    match principal.org_kind {
        OrgKind::Authority if !principal.roles.is_empty() => {
            Ok(Viewer::Staff(principal.authorities.clone()))
        }
        OrgKind::Person => principal
            .person_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
            .map(Viewer::Person)
            .ok_or_else(|| {
                Denied::new("your token names no person; ask for a token that names whose requests you may see")
            }),
        OrgKind::Provider => Uuid::parse_str(&principal.org_id)
            .map(Viewer::Provider)
            .map_err(|_| {
                Denied::new(format!(
                    "your token's organisation id {:?} is not a UUID, so it cannot name a provider record; ask for a token whose subject is your provider id",
                    principal.org_id
                ))
            }),
        _ => Err(Denied::new(
            "package requests are seen by authority staff, the person they are for, and the providers they are sent to",
        )),
    }
}

/// How much of a request `viewer` is shown.
pub fn shown(viewer: &Viewer, audience: &Audience<'_>) -> Shown {
    match viewer {
        Viewer::Staff(authorities) if authorities.contains(audience.authority) => Shown::Full,
        Viewer::Person(person) if *person == audience.person_id => Shown::Full,
        Viewer::Provider(provider) if audience.accepted_provider == Some(*provider) => Shown::Full,
        Viewer::Provider(_)
            if audience.answered_by_provider
                || (audience.taking_offers && audience.matches_provider) =>
        {
            Shown::Anonymised
        }
        _ => Shown::Hidden,
    }
}

/// A provider answers for itself only.
pub fn ensure_may_answer(principal: &Principal, provider_id: Uuid) -> Result<(), Denied> {
    match viewer(principal) {
        Ok(Viewer::Provider(own)) if own == provider_id => Ok(()),
        Ok(Viewer::Provider(own)) => Err(Denied::new(format!(
            "you act for provider {own}, not {provider_id}; a provider answers for itself only"
        ))),
        _ => Err(Denied::new(
            "package requests are answered by the providers they are sent to, each for itself",
        )),
    }
}

/// The offers are seen by the authority's staff and by the person the request is for.
pub fn may_see_offers(viewer: &Viewer, authority: &AuthorityId, person_id: Uuid) -> bool {
    match viewer {
        Viewer::Staff(authorities) => authorities.contains(authority),
        Viewer::Person(person) => *person == person_id,
        Viewer::Provider(_) => false,
    }
}

/// The person chooses; the authority's practitioners and commissioning staff may record the
/// choice on their behalf.
pub fn ensure_may_accept(
    principal: &Principal,
    authority: &AuthorityId,
    person_id: Uuid,
) -> Result<(), Denied> {
    let staff = principal.org_kind == OrgKind::Authority
        && (principal.has_role(Role::Practitioner) || principal.has_role(Role::Commissioning))
        && principal.may_act_for(authority);
    let person = matches!(viewer(principal), Ok(Viewer::Person(own)) if own == person_id);
    if staff || person {
        Ok(())
    } else {
        Err(Denied::new(format!(
            "an offer is accepted by the person it is for, or by practitioners or commissioning staff of {authority} on their behalf"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority(name: &str) -> AuthorityId {
        AuthorityId::parse("authority", name).unwrap_or_else(|_| AuthorityId::national())
    }

    fn principal(kind: OrgKind, org_id: &str, roles: &[Role], person: Option<Uuid>) -> Principal {
        Principal {
            org_id: org_id.to_owned(),
            org_kind: kind,
            roles: roles.to_vec(),
            authorities: vec![authority("fife")],
            person_id: person.map(|id| id.to_string()),
        }
    }

    fn audience(authority: &AuthorityId, person_id: Uuid) -> Audience<'_> {
        Audience {
            authority,
            person_id,
            taking_offers: true,
            matches_provider: false,
            answered_by_provider: false,
            accepted_provider: None,
        }
    }

    #[test]
    fn staff_see_their_own_authoritys_requests_in_full_and_no_others() {
        let fife = authority("fife");
        let highland = authority("highland");
        let person = Uuid::now_v7();
        let staff = Viewer::Staff(vec![fife.clone()]);
        assert_eq!(shown(&staff, &audience(&fife, person)), Shown::Full);
        assert_eq!(shown(&staff, &audience(&highland, person)), Shown::Hidden);
    }

    #[test]
    fn a_person_sees_only_their_own_requests() {
        let fife = authority("fife");
        let me = Uuid::now_v7();
        let viewer = viewer(&principal(OrgKind::Person, "me", &[], Some(me))).expect("a person");
        assert_eq!(shown(&viewer, &audience(&fife, me)), Shown::Full);
        assert_eq!(
            shown(&viewer, &audience(&fife, Uuid::now_v7())),
            Shown::Hidden
        );
        assert!(may_see_offers(&viewer, &fife, me));
        assert!(!may_see_offers(&viewer, &fife, Uuid::now_v7()));
    }

    #[test]
    fn a_provider_sees_matching_open_requests_anonymised_and_the_person_only_once_chosen() {
        let fife = authority("fife");
        let person = Uuid::now_v7();
        let provider = Uuid::now_v7();
        let viewer = Viewer::Provider(provider);
        let elsewhere = audience(&fife, person);
        assert_eq!(shown(&viewer, &elsewhere), Shown::Hidden);
        let matching = Audience {
            matches_provider: true,
            ..elsewhere
        };
        assert_eq!(shown(&viewer, &matching), Shown::Anonymised);
        let closed = Audience {
            taking_offers: false,
            ..matching
        };
        assert_eq!(shown(&viewer, &closed), Shown::Hidden);
        let answered = Audience {
            answered_by_provider: true,
            ..closed
        };
        assert_eq!(shown(&viewer, &answered), Shown::Anonymised);
        let another_chosen = Audience {
            accepted_provider: Some(Uuid::now_v7()),
            ..answered
        };
        assert_eq!(shown(&viewer, &another_chosen), Shown::Anonymised);
        let chosen = Audience {
            accepted_provider: Some(provider),
            ..answered
        };
        assert_eq!(shown(&viewer, &chosen), Shown::Full);
        assert!(!may_see_offers(&viewer, &fife, person));
    }

    #[test]
    fn providers_answer_for_themselves_and_nobody_else_answers() {
        let own = Uuid::now_v7();
        let provider = principal(
            OrgKind::Provider,
            &own.to_string(),
            &[Role::ProviderAdmin],
            None,
        );
        assert!(ensure_may_answer(&provider, own).is_ok());
        let other = ensure_may_answer(&provider, Uuid::now_v7()).expect_err("not its own");
        assert!(
            other.to_string().contains("answers for itself only"),
            "{other}"
        );
        let staff = principal(OrgKind::Authority, "fife", &[Role::Commissioning], None);
        assert!(ensure_may_answer(&staff, own).is_err());
    }

    #[test]
    fn the_person_or_practitioners_and_commissioning_staff_of_the_authority_accept() {
        let fife = authority("fife");
        let me = Uuid::now_v7();
        let person = principal(OrgKind::Person, "me", &[], Some(me));
        assert!(ensure_may_accept(&person, &fife, me).is_ok());
        assert!(ensure_may_accept(&person, &fife, Uuid::now_v7()).is_err());
        let practitioner = principal(OrgKind::Authority, "fife", &[Role::Practitioner], None);
        assert!(ensure_may_accept(&practitioner, &fife, me).is_ok());
        assert!(ensure_may_accept(&practitioner, &authority("highland"), me).is_err());
        let finance = principal(OrgKind::Authority, "fife", &[Role::Finance], None);
        assert!(ensure_may_accept(&finance, &fife, me).is_err());
        let provider = principal(OrgKind::Provider, &Uuid::now_v7().to_string(), &[], None);
        assert!(ensure_may_accept(&provider, &fife, me).is_err());
    }

    #[test]
    fn a_fund_holder_sees_no_requests() {
        let holder = principal(OrgKind::Holder, "cornerstone", &[], None);
        assert!(viewer(&holder).is_err());
    }
}
