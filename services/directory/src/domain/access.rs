//! Who may do what in the directory. Pure decisions over the verified [`Principal`]; the
//! handlers ask before they touch the database, so a refused caller changes nothing and
//! learns nothing about records it may not change.
//!
//! - Any authenticated organisation may get and search providers.
//! - A provider registers, updates and records checks for its own record only; its record's
//!   id is its token's organisation id.
//! - A record commissioning staff registered on a provider's behalf is also kept up to date
//!   by commissioning staff of the registering authority (its stewards).
//! - Authority commissioning staff register any provider (a personal assistant a person
//!   chose off framework), record checks and Care Inspectorate grades, import the Care
//!   Inspectorate datastore, attach or correct a provider's Care Inspectorate number, and
//!   set framework status for their own authorities only.
//! - A provider's Care Inspectorate service number is set only by commissioning staff
//!   (when they register the provider, or later, for instance for a provider that
//!   registered itself before the import found its service), or by the Care Inspectorate
//!   import. A provider
//!   neither registers itself with one nor changes or clears its own: the import keys on
//!   the number and writes the service's name, types, capacity and grades into whichever
//!   record holds it, so a number a provider could choose would let it pass itself off as
//!   another, inspected, service.

use sds_platform::{OrgKind, Principal, Role};
use sds_vocabulary::NamedEnum as _;
use uuid::Uuid;

use super::framework::AuthorityId;
use super::provider::{CareInspectorateNumber, ProviderId, ProviderKind};

/// Why a caller may not do what it asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(String);

impl Denied {
    pub fn new(reason: impl Into<String>) -> Denied {
        Denied(reason.into())
    }
}

/// Whose record a registration creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registrant {
    /// A provider registering itself: the record takes its organisation id.
    Itself(ProviderId),
    /// Commissioning staff registering a provider on its behalf: the record gets a new id.
    OnBehalf,
}

fn is_commissioning_staff(principal: &Principal) -> bool {
    principal.org_kind == OrgKind::Authority && principal.has_role(Role::Commissioning)
}

/// The field the Care Inspectorate number rules speak about, as a request names it.
const CARE_INSPECTORATE_NUMBER_FIELD: &str = "details.care_inspectorate_number";

/// Who records a provider's Care Inspectorate number instead, for the refusals.
const WHO_RECORDS_THE_NUMBER: &str =
    "it is recorded by commissioning staff or the Care Inspectorate import";

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
        _ if is_commissioning_staff(principal) && principal.authorities.is_empty() => Err(Denied(
            "your token names no authority you act for, so nobody could keep the record you would register up to date; ask for a token whose authorities name yours"
                .into(),
        )),
        _ if is_commissioning_staff(principal) => Ok(Registrant::OnBehalf),
        _ => Err(Denied(
            "only a provider (for itself) or authority staff with the commissioning role may register providers"
                .into(),
        )),
    }
}

/// Whether the caller may see a provider's email and telephone. A self-employed personal
/// assistant's are a private person's contact details: authority staff and the assistant
/// see them; other providers and people browsing see name, area and services only.
pub fn may_see_contacts(principal: &Principal, id: ProviderId, kind: ProviderKind) -> bool {
    kind != ProviderKind::SelfEmployedPersonalAssistant
        || principal.org_kind == OrgKind::Authority
        || is_provider(principal, id)
}

/// A provider updates its own record; commissioning staff update a record their authority
/// registered on the provider's behalf (its stewards), since such a provider (a personal
/// assistant chosen off framework, say) often has no token of its own to do it with.
pub fn ensure_may_update(
    principal: &Principal,
    id: ProviderId,
    stewards: &[AuthorityId],
) -> Result<(), Denied> {
    if is_provider(principal, id) {
        return Ok(());
    }
    if is_commissioning_staff(principal)
        && stewards
            .iter()
            .any(|authority| principal.may_act_for(authority))
    {
        return Ok(());
    }
    if is_commissioning_staff(principal) {
        let reason = if stewards.is_empty() {
            format!("provider {id} keeps its own record")
        } else {
            let names: Vec<String> = stewards.iter().map(ToString::to_string).collect();
            format!(
                "provider {id} is kept by commissioning staff of {} (who registered it on its behalf) and by the provider itself",
                names.join(", ")
            )
        };
        return Err(Denied(format!(
            "{reason}; commissioning staff update only records their own authority registered"
        )));
    }
    Err(Denied(format!(
        "a provider may update only its own record; you may not update provider {id}"
    )))
}

/// The authorities that keep a record registered on a provider's behalf: the registering
/// staff's own. Empty when a provider registers itself.
pub fn stewards_of_registration(principal: &Principal, registrant: Registrant) -> Vec<AuthorityId> {
    match registrant {
        Registrant::Itself(_) => Vec::new(),
        Registrant::OnBehalf => principal.authorities.clone(),
    }
}

/// The scope of a registration's request id: the calling organisation, so that keys of two
/// organisations never collide.
pub fn request_scope(principal: &Principal) -> String {
    format!("{}:{}", principal.org_kind.name(), principal.org_id)
}

/// Whether `registrant` may register a provider with this Care Inspectorate number: a
/// provider registering itself may not give one at all; commissioning staff may.
pub fn ensure_may_register_with_care_inspectorate_number(
    registrant: Registrant,
    number: Option<&CareInspectorateNumber>,
) -> Result<(), Denied> {
    match (registrant, number) {
        (Registrant::Itself(_), Some(_)) => Err(Denied(format!(
            "{CARE_INSPECTORATE_NUMBER_FIELD}: a provider cannot set its own Care Inspectorate service number; {WHO_RECORDS_THE_NUMBER}; register with it left empty"
        ))),
        _ => Ok(()),
    }
}

/// Whether a provider's update leaves its Care Inspectorate number as it is. Only the
/// provider itself updates its details (see [`ensure_may_update`]), and it may not set,
/// change or clear the number; sending the current number back is fine, since an update
/// replaces all the details and clients send back what they read.
pub fn ensure_keeps_care_inspectorate_number(
    current: Option<&CareInspectorateNumber>,
    requested: Option<&CareInspectorateNumber>,
) -> Result<(), Denied> {
    match (current, requested) {
        (None, None) => Ok(()),
        (Some(current), Some(requested)) if current == requested => Ok(()),
        (None, Some(_)) => Err(Denied(format!(
            "{CARE_INSPECTORATE_NUMBER_FIELD}: a provider cannot set its own Care Inspectorate service number; {WHO_RECORDS_THE_NUMBER}; leave it empty"
        ))),
        (Some(current), None) => Err(Denied(format!(
            "{CARE_INSPECTORATE_NUMBER_FIELD}: a provider cannot clear its Care Inspectorate service number (it is {current}); {WHO_RECORDS_THE_NUMBER}; send {current} back unchanged, and ask commissioning staff if it is wrong"
        ))),
        (Some(current), Some(requested)) => Err(Denied(format!(
            "{CARE_INSPECTORATE_NUMBER_FIELD}: a provider cannot change its Care Inspectorate service number (it is {current}, not {requested}); {WHO_RECORDS_THE_NUMBER}; send {current} back unchanged, and ask commissioning staff if it is wrong"
        ))),
    }
}

/// Whether the caller may attach, correct or clear a provider's Care Inspectorate number:
/// commissioning staff only, since the import writes the inspected service's name, types,
/// capacity and grades into whichever record holds the number.
pub fn ensure_may_set_care_inspectorate_number(principal: &Principal) -> Result<(), Denied> {
    if is_commissioning_staff(principal) {
        Ok(())
    } else {
        Err(Denied(
            "a provider's Care Inspectorate service number is attached or corrected by authority commissioning staff only; ask your authority's commissioning team to set it"
                .into(),
        ))
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

/// Withdrawing a grade recorded in error is for those who record grades: commissioning
/// staff.
pub fn ensure_may_withdraw_grades(principal: &Principal) -> Result<(), Denied> {
    if is_commissioning_staff(principal) {
        Ok(())
    } else {
        Err(Denied(
            "grades recorded in error are withdrawn by authority commissioning staff only; ask your authority's commissioning team"
                .into(),
        ))
    }
}

/// A provider's grade history names the staff who recorded and withdrew grades and why:
/// authority staff see it, and the provider sees its own.
pub fn ensure_may_see_grade_history(principal: &Principal, id: ProviderId) -> Result<(), Denied> {
    if principal.org_kind == OrgKind::Authority || is_provider(principal, id) {
        Ok(())
    } else {
        Err(Denied(format!(
            "the grade history of provider {id} is shown to authority staff and to the provider itself; its current grades are in GetProvider"
        )))
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

/// Publishing the whole directory again is an operation for commissioning staff: it
/// changes nothing but sends an event per provider to every service.
pub fn ensure_may_republish(principal: &Principal) -> Result<(), Denied> {
    if is_commissioning_staff(principal) {
        Ok(())
    } else {
        Err(Denied(
            "publishing the directory again is for authority commissioning staff only".into(),
        ))
    }
}

pub fn ensure_may_set_framework_status(
    principal: &Principal,
    authority: &AuthorityId,
) -> Result<(), Denied> {
    if is_commissioning_staff(principal) && principal.may_act_for(authority) {
        Ok(())
    } else {
        Err(Denied(format!(
            "only commissioning staff of {authority} may set framework status for {authority}"
        )))
    }
}

/// Package requests are published by the authority's practitioners (the social worker
/// planning with the person) and its commissioning staff, for that authority only.
pub fn ensure_may_publish_request(
    principal: &Principal,
    authority: &sds_vocabulary::AuthorityId,
) -> Result<(), Denied> {
    let staff = principal.org_kind == OrgKind::Authority
        && (principal.has_role(Role::Practitioner) || principal.has_role(Role::Commissioning));
    if staff && principal.may_act_for(authority) {
        Ok(())
    } else {
        Err(Denied(format!(
            "package requests for {authority} are published by its practitioners and commissioning staff"
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

    fn staff(authority: &str, roles: &[Role]) -> Principal {
        Principal {
            org_id: authority.into(),
            org_kind: OrgKind::Authority,
            roles: roles.to_vec(),
            authorities: vec![AuthorityId::parse("authority", authority).unwrap()],
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
            registrant(&staff("fife", &[Role::Commissioning])),
            Ok(Registrant::OnBehalf)
        );
        assert!(registrant(&staff("fife", &[Role::Practitioner])).is_err());
    }

    #[test]
    fn only_the_provider_itself_updates_its_record() {
        let id = ProviderId::generate();
        assert!(ensure_may_update(&provider(&id.to_string()), id, &[]).is_ok());
        assert!(
            ensure_may_update(&provider(&ProviderId::generate().to_string()), id, &[]).is_err()
        );
        assert!(ensure_may_update(&staff("fife", &[Role::Commissioning]), id, &[]).is_err());
        let fife = [AuthorityId::parse("a", "fife").unwrap()];
        assert!(ensure_may_update(&staff("fife", &[Role::Commissioning]), id, &fife).is_ok());
        assert!(ensure_may_update(&staff("fife", &[Role::Practitioner]), id, &fife).is_err());
        assert!(ensure_may_update(&staff("angus", &[Role::Commissioning]), id, &fife).is_err());
    }

    fn number(text: &str) -> CareInspectorateNumber {
        CareInspectorateNumber::parse("n", text).unwrap()
    }

    #[test]
    fn only_commissioning_staff_register_a_provider_with_a_care_inspectorate_number() {
        let id = ProviderId::generate();
        let claimed = number("CS2004071234");
        let denied = ensure_may_register_with_care_inspectorate_number(
            Registrant::Itself(id),
            Some(&claimed),
        )
        .unwrap_err();
        assert_eq!(
            denied.0,
            "details.care_inspectorate_number: a provider cannot set its own Care Inspectorate service number; it is recorded by commissioning staff or the Care Inspectorate import; register with it left empty"
        );
        assert!(
            ensure_may_register_with_care_inspectorate_number(Registrant::Itself(id), None).is_ok()
        );
        assert!(
            ensure_may_register_with_care_inspectorate_number(Registrant::OnBehalf, Some(&claimed))
                .is_ok()
        );
        assert!(
            ensure_may_register_with_care_inspectorate_number(Registrant::OnBehalf, None).is_ok()
        );
    }

    #[test]
    fn a_provider_update_leaves_the_care_inspectorate_number_as_it_is() {
        let own = number("CS2004071234");
        let other = number("CS2010123456");
        assert!(ensure_keeps_care_inspectorate_number(None, None).is_ok());
        assert!(ensure_keeps_care_inspectorate_number(Some(&own), Some(&own)).is_ok());
        assert!(
            ensure_keeps_care_inspectorate_number(Some(&own), Some(&number(" cs2004071234 ")))
                .is_ok(),
            "the same number typed in lower case is the same number"
        );

        let set = ensure_keeps_care_inspectorate_number(None, Some(&other)).unwrap_err();
        assert!(
            set.0
                .starts_with("details.care_inspectorate_number: a provider cannot set its own"),
            "{set}"
        );
        let cleared = ensure_keeps_care_inspectorate_number(Some(&own), None).unwrap_err();
        assert!(cleared.0.contains("cannot clear"), "{cleared}");
        assert!(
            cleared.0.contains("send CS2004071234 back unchanged"),
            "{cleared}"
        );
        let moved = ensure_keeps_care_inspectorate_number(Some(&own), Some(&other)).unwrap_err();
        assert!(
            moved.0.contains("cannot change its Care Inspectorate service number (it is CS2004071234, not CS2010123456)"),
            "{moved}"
        );
        for denied in [set, cleared, moved] {
            assert!(
                denied
                    .0
                    .contains("recorded by commissioning staff or the Care Inspectorate import"),
                "{denied}"
            );
        }
    }

    #[test]
    fn only_commissioning_staff_set_a_care_inspectorate_number() {
        let id = ProviderId::generate();
        assert!(
            ensure_may_set_care_inspectorate_number(&staff("fife", &[Role::Commissioning])).is_ok()
        );
        let denied =
            ensure_may_set_care_inspectorate_number(&provider(&id.to_string())).unwrap_err();
        assert!(denied.0.contains("commissioning staff only"), "{denied}");
        assert!(
            ensure_may_set_care_inspectorate_number(&staff("fife", &[Role::Practitioner])).is_err()
        );
    }

    #[test]
    fn framework_status_is_set_for_the_callers_own_authority_only() {
        let fife = AuthorityId::parse("authority", "fife").unwrap();
        let highland = AuthorityId::parse("authority", "highland").unwrap();
        let officer = staff("fife", &[Role::Commissioning]);
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
