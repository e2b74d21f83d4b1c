//! The provider record: who provides support, of what kind, where, and on what terms.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::care_service::CareServiceStatus;
use super::check::Check;
use super::fee::ManagementFeePolicy;
use super::framework::{AuthorityId, FrameworkMembership};
use super::grade::{Grade, GradeValue};
use sds_vocabulary::{Invalid, shown};

/// At most this many service types and localities each.
pub const MAX_LIST_ENTRIES: usize = 50;
/// RFC 5321 limits a forward path to 254 characters.
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PHONE_CHARS: usize = 50;

/// A provider's id: its organisation id when it registered itself, else a UUIDv7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderId(Uuid);

impl ProviderId {
    /// A new id, for providers registered on their behalf or found by an import.
    pub fn generate() -> ProviderId {
        ProviderId(Uuid::now_v7())
    }

    pub fn from_uuid(id: Uuid) -> ProviderId {
        ProviderId(id)
    }

    pub fn as_uuid(self) -> Uuid {
        self.0
    }

    pub fn parse(field: &str, raw: &str) -> Result<ProviderId, Invalid> {
        if raw.trim().is_empty() {
            return Err(Invalid::new(
                field,
                "is empty; give the provider's id (a UUID)",
            ));
        }
        Uuid::parse_str(raw.trim()).map(ProviderId).map_err(|_| {
            Invalid::new(
                field,
                format!(
                    "{} is not a provider id; expected a UUID such as 0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
                    shown(raw)
                ),
            )
        })
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(formatter)
    }
}

sds_vocabulary::wire_enum! {
    /// What kind of organisation or person a provider is.
    pub enum ProviderKind("provider kind") => sds_proto::v1::ProviderKind {
        RegisteredCareService = "registered_care_service",
        VoluntaryOrganisation = "voluntary_organisation",
        MicroProvider = "micro_provider",
        SelfEmployedPersonalAssistant = "self_employed_personal_assistant",
        CommunityGroup = "community_group",
        /// A business that is not a care service: an art studio, a gym, a music teacher.
        NonCareBusiness = "non_care_business",
    }
}

/// A Care Inspectorate service number: `CS` and ten digits, such as `CS2004071234`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CareInspectorateNumber(String);

impl CareInspectorateNumber {
    /// Accepts surrounding spaces and a lower-case `cs`, which people type.
    pub fn parse(field: &str, raw: &str) -> Result<CareInspectorateNumber, Invalid> {
        let text = raw.trim().to_ascii_uppercase();
        let well_formed = text.len() == 12
            && text.starts_with("CS")
            && text[2..].bytes().all(|byte| byte.is_ascii_digit());
        if well_formed {
            Ok(CareInspectorateNumber(text))
        } else {
            Err(Invalid::new(
                field,
                format!(
                    "{} is not a Care Inspectorate service number; expected CS and 10 digits, such as CS2004071234",
                    shown(raw)
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CareInspectorateNumber {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// The descriptive part of a provider record, which the provider maintains, all but the
/// Care Inspectorate number: that is set by commissioning staff (at registration or with
/// [`ProviderChange::CareInspectorateNumber`]) or by the Care Inspectorate import, never by
/// the provider (see `access`). Every value has passed
/// validation (see `grpc::convert`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderDetails {
    pub name: String,
    pub kind: ProviderKind,
    pub care_inspectorate_number: Option<CareInspectorateNumber>,
    pub service_types: Vec<String>,
    pub localities: Vec<String>,
    /// Places or hours the provider can take on; `None` when unknown.
    pub capacity: Option<u32>,
    pub holds_isfs: bool,
    /// `None` when the provider has not stated one.
    pub management_fee: Option<ManagementFeePolicy>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
}

/// A provider as the directory knows it now.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRecord {
    pub id: ProviderId,
    pub details: ProviderDetails,
    /// The current grade of each key question (its latest inspection).
    pub grades: Vec<Grade>,
    pub checks: Vec<Check>,
    pub frameworks: Vec<FrameworkMembership>,
    /// The authorities whose commissioning staff registered the record on the provider's
    /// behalf and keep it up to date; empty when the provider keeps it itself.
    pub stewards: Vec<AuthorityId>,
    /// Set by the Care Inspectorate import; active for every other provider.
    pub care_service_status: CareServiceStatus,
    /// The service this one is registered in combination with; set by the import only.
    pub combined_service_number: Option<CareInspectorateNumber>,
    /// The lowest current grade; `None` when the provider has no grades.
    pub min_grade: Option<GradeValue>,
    pub version: u64,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to an existing provider, named as `provider.updated` events name it.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderChange {
    Details(ProviderDetails),
    Check(Check),
    Grades(Vec<Grade>),
    FrameworkStatus(FrameworkMembership),
    /// Commissioning staff attach, correct or (with `None`) clear the service number.
    CareInspectorateNumber(Option<CareInspectorateNumber>),
}

impl ProviderChange {
    /// Whether applying the change would alter `record`. One that would not (the same
    /// framework status, number, check, grades or details again) is not recorded.
    pub fn alters(&self, record: &ProviderRecord) -> bool {
        match self {
            ProviderChange::Details(details) => details != &record.details,
            ProviderChange::Check(check) => !record.checks.contains(check),
            ProviderChange::Grades(grades) => {
                !grades.iter().all(|grade| record.grades.contains(grade))
            }
            ProviderChange::FrameworkStatus(membership) => !record.frameworks.contains(membership),
            ProviderChange::CareInspectorateNumber(number) => {
                number != &record.details.care_inspectorate_number
            }
        }
    }

    pub fn name(&self) -> ChangeName {
        match self {
            ProviderChange::Details(_) => ChangeName::Details,
            ProviderChange::Check(_) => ChangeName::Check,
            ProviderChange::Grades(_) => ChangeName::Grades,
            ProviderChange::FrameworkStatus(_) => ChangeName::FrameworkStatus,
            ProviderChange::CareInspectorateNumber(_) => ChangeName::CareInspectorateNumber,
        }
    }
}

sds_vocabulary::wire_enum! {
    /// What kind of change made a version of a provider; kept in its history and in events.
    pub enum ChangeName("provider change") => sds_proto::v1::ProviderChangeKind {
        Registered = "registered",
        Details = "details",
        Check = "check",
        Grades = "grades",
        FrameworkStatus = "framework_status",
        CareInspectorateNumber = "care_inspectorate_number",
        Import = "import",
        GradeWithdrawn = "grade_withdrawn",
        /// Only ever in events: the record published again, unchanged.
        Republished = "republished",
    }
}

/// The caller's version is stale: someone else changed the record since they read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "provider {id} is at version {current}, not {expected}; it changed since you read it: get it again and reapply your change"
)]
pub struct StaleVersion {
    pub id: ProviderId,
    pub expected: u64,
    pub current: u64,
}

/// Optimistic concurrency: a change naming a version applies only to that version.
pub fn ensure_expected_version(
    id: ProviderId,
    expected: Option<u64>,
    current: u64,
) -> Result<(), StaleVersion> {
    match expected {
        Some(expected) if expected != current => Err(StaleVersion {
            id,
            expected,
            current,
        }),
        _ => Ok(()),
    }
}

/// An email address as far as a directory needs to know: one `@`, something on each side,
/// a dot in the domain, no spaces.
pub fn contact_email(field: &str, raw: &str) -> Result<Option<String>, Invalid> {
    let Some(text) = sds_vocabulary::text::optional_text(field, raw, MAX_EMAIL_CHARS)? else {
        return Ok(None);
    };
    let plausible = match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.contains(char::is_whitespace)
        }
        None => false,
    };
    if plausible {
        Ok(Some(text))
    } else {
        Err(Invalid::new(
            field,
            format!(
                "{} is not an email address; expected one such as office@example.org",
                shown(&text)
            ),
        ))
    }
}

/// A telephone number: digits with spaces, `+`, brackets and dashes as people write them.
pub fn contact_phone(field: &str, raw: &str) -> Result<Option<String>, Invalid> {
    let Some(text) = sds_vocabulary::text::optional_text(field, raw, MAX_PHONE_CHARS)? else {
        return Ok(None);
    };
    let allowed = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-'));
    let digits = text.chars().filter(char::is_ascii_digit).count();
    if allowed && digits >= 6 {
        Ok(Some(text))
    } else {
        Err(Invalid::new(
            field,
            format!(
                "{} is not a telephone number; use digits, spaces and + ( ) -, such as 01224 123456",
                shown(&text)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_change_reads_back_from_its_name_and_its_wire_number() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<ProviderKind>();
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<ChangeName>();
        use sds_vocabulary::NamedEnum as _;
        assert_eq!(ProviderKind::from_name("care_home"), None);
    }

    #[test]
    fn care_inspectorate_numbers_are_cs_and_ten_digits() {
        let number = CareInspectorateNumber::parse("n", " cs2004071234 ").unwrap();
        assert_eq!(number.as_str(), "CS2004071234");
        for bad in ["CS123", "SP2004071234", "CS20040712345", "CS200407123X", ""] {
            assert!(
                CareInspectorateNumber::parse("n", bad).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn a_stale_version_is_refused_and_no_version_means_any() {
        let id = ProviderId::generate();
        assert!(ensure_expected_version(id, None, 4).is_ok());
        assert!(ensure_expected_version(id, Some(4), 4).is_ok());
        let stale = ensure_expected_version(id, Some(3), 4).unwrap_err();
        assert!(stale.to_string().contains("version 4, not 3"));
    }

    #[test]
    fn contacts_are_checked_for_shape_only() {
        assert_eq!(
            contact_email("e", "office@fife-care.org")
                .unwrap()
                .as_deref(),
            Some("office@fife-care.org")
        );
        assert_eq!(contact_email("e", "").unwrap(), None);
        for bad in ["office", "@example.org", "a@b", "a@@b.org", "a b@c.org"] {
            assert!(contact_email("e", bad).is_err(), "{bad} accepted");
        }
        assert!(contact_phone("p", "+44 (0)1224 123-456").unwrap().is_some());
        assert!(contact_phone("p", "call me").is_err());
        assert!(contact_phone("p", "12").is_err());
    }
}
