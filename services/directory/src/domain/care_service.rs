//! What the Care Inspectorate says about a registered service beyond its details: whether
//! it operates. Only the import sets it; a provider that is not a Care Inspectorate
//! service is always active. Inactive services (cancelled or not operating) stay in the
//! directory, so that their history and any arrangement with them can still be read, but
//! searches leave them out unless asked for them.

use sds_vocabulary::{Invalid, shown};

sds_vocabulary::wire_enum! {
    /// Whether a service operates, as the datastore's `ServiceStatus` says.
    pub enum CareServiceStatus("care service status") => sds_proto::v1::CareServiceStatus {
        Active = "active",
        /// Cancelled or not operating.
        Inactive = "inactive",
    }
}

/// Reads the datastore's `ServiceStatus`: `Active` or `Inactive` in any case, blank meaning
/// active (the datastore leaves it blank for no service we know of, and a blank is no
/// reason to hide a service). Anything else (such as `Propositional`, which older
/// datastores carried for services not yet registered) is refused, since guessing whether
/// it operates could send people to a service that does not.
pub fn status_from_datastore(field: &str, raw: &str) -> Result<CareServiceStatus, Invalid> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "active" => Ok(CareServiceStatus::Active),
        "inactive" => Ok(CareServiceStatus::Inactive),
        _ => Err(Invalid::new(
            field,
            format!(
                "is {}, which is not a Care Inspectorate service status; accepted: Active, Inactive (any case), or blank for Active",
                shown(raw)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_name_and_its_wire_number() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<CareServiceStatus>();
    }

    #[test]
    fn the_datastore_status_is_active_or_inactive_in_any_case_and_blank_is_active() {
        for (raw, expected) in [
            ("Active", CareServiceStatus::Active),
            (" ACTIVE ", CareServiceStatus::Active),
            ("", CareServiceStatus::Active),
            ("Inactive", CareServiceStatus::Inactive),
            ("inactive", CareServiceStatus::Inactive),
        ] {
            assert_eq!(status_from_datastore("service_status", raw), Ok(expected));
        }
        let refused = status_from_datastore("service_status", "Propositional").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "service_status is \"Propositional\", which is not a Care Inspectorate service status; accepted: Active, Inactive (any case), or blank for Active"
        );
    }
}
