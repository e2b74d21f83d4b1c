//! What the public directory shows, and what it never shows. The feed takes no token, so it
//! shows only what anyone may see; these rules are pure so that they are tested once and
//! read the same in the handlers and in the SQL that pages (`store::open_data`).
//!
//! - A self-employed personal assistant is left out entirely. A personal assistant is a
//!   private person employed by the person they support, not a service open to the public:
//!   publishing their name with the areas they work in would tell anyone who works where,
//!   and open data cannot be taken back once harvested. Authority staff and providers still
//!   find them through the authenticated search.
//! - An inactive Care Inspectorate service (cancelled or not operating) is left out, as
//!   search leaves it out by default: a feed that sent people to a closed service would do
//!   harm.
//! - Of what a provider's record holds, only what describes the service to the public is
//!   shown: name, kind, service types, areas, its Care Inspectorate number and current
//!   grades (which the Care Inspectorate itself publishes), and its business contacts.
//!   Framework status, checks, capacity, fees and stewards are commissioning matters and
//!   stay behind a token.

use crate::domain::access::may_see_contacts;
use crate::domain::{CareServiceStatus, ProviderKind, ProviderRecord};

/// Whether the public directory shows this provider at all.
pub fn is_published(record: &ProviderRecord) -> bool {
    record.details.kind != ProviderKind::SelfEmployedPersonalAssistant
        && record.care_service_status != CareServiceStatus::Inactive
}

/// Whether the public directory shows this provider's email and telephone: only when
/// anyone browsing the authenticated directory may see them (`access::may_see_contacts`
/// for a caller who is neither authority staff nor the provider). Personal assistants are
/// not published at all; this keeps their contacts out even if that rule changes.
pub fn publishes_contacts(record: &ProviderRecord) -> bool {
    // A member of the public: a person with no record of their own, no roles, no authority.
    let anyone = sds_platform::Principal {
        org_id: String::new(),
        org_kind: sds_platform::OrgKind::Person,
        roles: Vec::new(),
        authorities: Vec::new(),
        person_id: None,
    };
    record.details.kind != ProviderKind::SelfEmployedPersonalAssistant
        && may_see_contacts(&anyone, record.id, record.details.kind)
}

/// The kind of organization, in words, for its HSDS description.
pub fn kind_in_words(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::RegisteredCareService => {
            "A care service registered with the Care Inspectorate"
        }
        ProviderKind::VoluntaryOrganisation => "A voluntary organisation",
        ProviderKind::MicroProvider => "A micro-provider",
        ProviderKind::SelfEmployedPersonalAssistant => "A self-employed personal assistant",
        ProviderKind::CommunityGroup => "A community group",
        ProviderKind::NonCareBusiness => "A business that is not a care service",
    }
}
