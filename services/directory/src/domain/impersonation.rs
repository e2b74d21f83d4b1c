//! No provider passes itself off as an inspected care service. People choose providers
//! by name and by Care Inspectorate grades, so two rules hold:
//!
//! - Only a record with a Care Inspectorate service number is a registered care service:
//!   the kind is refused without one (a provider cannot give itself a number; see
//!   `access`), and the number of a registered care service cannot be cleared while it is
//!   of that kind.
//! - No record without a service number takes, at registration or by a rename, the exact
//!   name of a registered care service. (A record with its own number is a registered
//!   service itself, and real services share names: "Care at Home Service".) "Exact" ignores case and runs of spaces, which a reader does not
//!   notice; names are already in composed form and free of invisible characters (see
//!   `sds_vocabulary::text`). The import, which is the registered services' own source, is
//!   not held to it.

use super::provider::{
    CareInspectorateNumber, ProviderChange, ProviderDetails, ProviderId, ProviderKind,
    ProviderRecord,
};
use sds_vocabulary::{Invalid, NamedEnum as _};

/// A name as a reader compares it: lower case, single spaces.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether a rename from `current` to `requested` changes the name as a reader sees it.
pub fn is_rename(current: &str, requested: &str) -> bool {
    name_key(current) != name_key(requested)
}

/// A registered care service is one with a service number.
pub fn ensure_registered_service_has_number(details: &ProviderDetails) -> Result<(), Invalid> {
    if details.kind == ProviderKind::RegisteredCareService
        && details.care_inspectorate_number.is_none()
    {
        let others: Vec<&str> = ProviderKind::ALL
            .iter()
            .filter(|kind| **kind != ProviderKind::RegisteredCareService)
            .map(|kind| kind.name())
            .collect();
        return Err(Invalid::new(
            "kind",
            format!(
                "is registered_care_service, which is only for a service with a Care Inspectorate service number, and this record has none; choose another kind ({}), and ask commissioning staff to attach the number if the service is registered",
                others.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The name a registration or rename asks for is a registered care service's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "details.name: {name:?} is the name of the registered care service {number} in the directory, which is another record; if you are that service, ask commissioning staff to attach its number to your record; otherwise choose a name that tells you apart"
)]
pub struct NameOfRegisteredService {
    pub name: String,
    pub number: CareInspectorateNumber,
}

/// Clearing the number of a registered care service would leave a registered care service
/// without one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "provider {provider} is a registered care service, which needs its Care Inspectorate number ({number}); change its kind first (UpdateProvider), or correct the number instead of clearing it"
)]
pub struct NumberNeededByKind {
    pub provider: ProviderId,
    pub number: CareInspectorateNumber,
}

/// A change may not clear the number of a record that is a registered care service.
pub fn ensure_number_stays_with_kind(
    record: &ProviderRecord,
    change: &ProviderChange,
) -> Result<(), NumberNeededByKind> {
    match (change, &record.details.care_inspectorate_number) {
        (ProviderChange::CareInspectorateNumber(None), Some(number))
            if record.details.kind == ProviderKind::RegisteredCareService =>
        {
            Err(NumberNeededByKind {
                provider: record.id,
                number: number.clone(),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(kind: ProviderKind, number: Option<&str>) -> ProviderDetails {
        ProviderDetails {
            name: "Bay Care at Home".into(),
            kind,
            care_inspectorate_number: number
                .map(|number| CareInspectorateNumber::parse("n", number).unwrap()),
            service_types: vec![],
            localities: vec![],
            capacity: None,
            holds_isfs: false,
            management_fee: None,
            contact_email: None,
            contact_phone: None,
        }
    }

    #[test]
    fn names_compare_without_regard_to_case_or_runs_of_spaces() {
        assert_eq!(name_key("  Bay  Care at\u{a0}HOME "), "bay care at home");
        assert!(!is_rename("Bay Care at Home", "bay care  at home"));
        assert!(is_rename("Bay Care at Home", "Bay Care at Home Ltd"));
    }

    #[test]
    fn only_a_record_with_a_service_number_is_a_registered_care_service() {
        let error = ensure_registered_service_has_number(&details(
            ProviderKind::RegisteredCareService,
            None,
        ))
        .unwrap_err();
        assert_eq!(error.field(), "kind");
        assert!(
            error.problem().contains("voluntary_organisation"),
            "{error}"
        );
        assert!(
            ensure_registered_service_has_number(&details(
                ProviderKind::RegisteredCareService,
                Some("CS2004071234")
            ))
            .is_ok()
        );
        assert!(
            ensure_registered_service_has_number(&details(ProviderKind::MicroProvider, None))
                .is_ok()
        );
    }
}
