//! The directory in Open Referral HSDS 3.0 terms. Field names are HSDS's own (see the
//! specification's `schema/compiled/service.json`, `organization.json`, `service_area.json`,
//! `attribute.json`, `taxonomy_term.json`, `organization_identifier.json`, `phone.json`);
//! a field the directory has no value for is left out rather than sent empty.
//!
//! How the directory maps, and why:
//! - A provider is one organization delivering one service. Both take the provider's id:
//!   HSDS asks ids to be unique within each kind of entity, which they are, and a harvester
//!   can go from either to the provider without a lookup table.
//! - Its service types become attributes of the service, each linking a taxonomy term of
//!   the directory's own service-type taxonomy (the directory keeps free-text types, not
//!   a published taxonomy, so the terms are named as written).
//! - Its localities become service areas, by name (the directory holds no boundaries).
//! - Its current Care Inspectorate grades become attributes whose value is the grade.
//! - Its Care Inspectorate service number becomes an organization identifier. org-id.guide
//!   lists no register of Care Inspectorate services (its Scottish lists are OSCR charities
//!   and Companies House), so `identifier_scheme` is left out rather than invented, and
//!   `identifier_type` says plainly what the number is.
//! - The directory records no addresses, so services have no locations and
//!   `service_at_locations` is empty; saying so is better than inventing places.
//!
//! Ids of the parts a provider has (areas, attributes, phones, identifiers) are UUIDv5
//! names under the provider's id, so they are stable from one harvest to the next without
//! being stored. Taxonomy term ids are names under one namespace of the directory's, so the
//! same service type has the same term id for every provider.

use chrono::SecondsFormat;
use serde::Serialize;
use uuid::Uuid;

use super::publication::{kind_in_words, publishes_contacts};
use crate::domain::{Grade, KeyQuestion, ProviderRecord};

/// The namespace of the directory's taxonomy term ids (a fixed random UUID: changing it
/// would change every term id harvesters hold).
const TAXONOMY_NAMESPACE: Uuid = Uuid::from_u128(0x6a1e_2f0c_51d4_4c8e_9b3a_5d2e_7f10_c4a8);

/// The taxonomy the directory's service types are terms of.
pub const SERVICE_TYPE_TAXONOMY: &str =
    "Scottish Self-directed Support provider directory: service types";
/// The taxonomy of the Care Inspectorate's key questions, graded 1 to 6.
pub const KEY_QUESTION_TAXONOMY: &str = "Care Inspectorate quality framework: key questions";
/// The `link_type` of an attribute naming a service type.
pub const SERVICE_TYPE_LINK: &str = "service_type";
/// The `link_type` of an attribute carrying a current Care Inspectorate grade.
pub const GRADE_LINK: &str = "care_inspectorate_grade";
/// What a Care Inspectorate number is, for `identifier_type`.
pub const CARE_INSPECTORATE_IDENTIFIER: &str = "Care Inspectorate service number";

/// A service as `/services` lists it: its own fields and its organization's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Always `active`: inactive services are not published (see `publication`).
    pub status: &'static str,
    /// When the provider's record last changed, with millisecond accuracy as HSDS asks.
    pub last_modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<Phone>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_areas: Option<Vec<ServiceArea>>,
    /// Always empty: the directory records no addresses (see the module's comment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_at_locations: Option<Vec<serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<Attribute>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<Phone>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_identifiers: Option<Vec<OrganizationIdentifier>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<Service>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrganizationIdentifier {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub identifier_type: &'static str,
    pub identifier: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phone {
    pub id: Uuid,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceArea {
    pub id: Uuid,
    pub service_id: Uuid,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    pub id: Uuid,
    pub link_id: Uuid,
    pub link_type: &'static str,
    pub link_entity: &'static str,
    pub taxonomy_term_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub taxonomy_term: TaxonomyTerm,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaxonomyTerm {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub description: String,
    pub taxonomy: &'static str,
}

/// How much of a service to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// A list entry: the service's own fields and its organization's.
    Listed,
    /// `/services/{id}`: everything, nested.
    Full,
}

/// The provider as an HSDS service.
pub fn service(record: &ProviderRecord, detail: Detail) -> Service {
    let id = record.id.as_uuid();
    let full = detail == Detail::Full;
    let organization = match detail {
        Detail::Listed => organization_listed(record),
        Detail::Full => organization_with_identifiers(record),
    };
    Service {
        id,
        organization_id: id,
        name: record.details.name.clone(),
        description: service_description(record),
        email: contact_email(record),
        status: "active",
        last_modified: record
            .updated_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        organization: Some(organization),
        phones: full.then(|| phones(record)),
        service_areas: full.then(|| service_areas(record)),
        service_at_locations: full.then(Vec::new),
        attributes: full.then(|| attributes(record)),
    }
}

/// The provider as an HSDS organization with its own fields only, as lists show it.
pub fn organization_listed(record: &ProviderRecord) -> Organization {
    Organization {
        id: record.id.as_uuid(),
        name: record.details.name.clone(),
        description: organization_description(record),
        email: contact_email(record),
        phones: None,
        organization_identifiers: None,
        services: None,
    }
}

fn organization_with_identifiers(record: &ProviderRecord) -> Organization {
    Organization {
        phones: Some(phones(record)),
        organization_identifiers: Some(identifiers(record)),
        ..organization_listed(record)
    }
}

/// `/organizations/{id}`: the organization with its identifiers and its one service in
/// brief (its own fields, as the HSDS API describes the organization's service array).
pub fn organization_full(record: &ProviderRecord) -> Organization {
    let brief = Service {
        organization: None,
        ..service(record, Detail::Listed)
    };
    Organization {
        services: Some(vec![brief]),
        ..organization_with_identifiers(record)
    }
}

fn contact_email(record: &ProviderRecord) -> Option<String> {
    if !publishes_contacts(record) {
        return None;
    }
    record
        .details
        .contact_email
        .clone()
        .filter(|email| !email.trim().is_empty())
}

fn phones(record: &ProviderRecord) -> Vec<Phone> {
    if !publishes_contacts(record) {
        return Vec::new();
    }
    let Some(number) = record
        .details
        .contact_phone
        .clone()
        .filter(|number| !number.trim().is_empty())
    else {
        return Vec::new();
    };
    vec![Phone {
        id: part_id(record, "phone"),
        number,
    }]
}

fn identifiers(record: &ProviderRecord) -> Vec<OrganizationIdentifier> {
    let Some(number) = &record.details.care_inspectorate_number else {
        return Vec::new();
    };
    vec![OrganizationIdentifier {
        id: part_id(record, "identifier/care_inspectorate"),
        organization_id: record.id.as_uuid(),
        identifier_type: CARE_INSPECTORATE_IDENTIFIER,
        identifier: number.as_str().to_owned(),
    }]
}

fn service_areas(record: &ProviderRecord) -> Vec<ServiceArea> {
    let mut areas: Vec<ServiceArea> = Vec::new();
    for locality in &record.details.localities {
        let id = part_id(record, &format!("service_area/{}", locality.to_lowercase()));
        // The directory compares localities ignoring case; so does the feed.
        if areas.iter().any(|area| area.id == id) {
            continue;
        }
        areas.push(ServiceArea {
            id,
            service_id: record.id.as_uuid(),
            name: locality.clone(),
            description: format!("{} provides support in {locality}.", record.details.name),
        });
    }
    areas
}

fn attributes(record: &ProviderRecord) -> Vec<Attribute> {
    let link_id = record.id.as_uuid();
    let mut attributes: Vec<Attribute> = Vec::new();
    for service_type in &record.details.service_types {
        let code = service_type.to_lowercase();
        let id = part_id(record, &format!("attribute/service_type/{code}"));
        if attributes.iter().any(|attribute| attribute.id == id) {
            continue;
        }
        let term = TaxonomyTerm {
            id: term_id(&format!("service_type/{code}")),
            code,
            name: service_type.clone(),
            description: format!(
                "Support of the type \"{service_type}\", as providers in the directory name it."
            ),
            taxonomy: SERVICE_TYPE_TAXONOMY,
        };
        attributes.push(Attribute {
            id,
            link_id,
            link_type: SERVICE_TYPE_LINK,
            link_entity: "service",
            taxonomy_term_id: term.id,
            value: None,
            taxonomy_term: term,
        });
    }
    for grade in &record.grades {
        attributes.push(grade_attribute(record, grade));
    }
    attributes
}

fn grade_attribute(record: &ProviderRecord, grade: &Grade) -> Attribute {
    use sds_vocabulary::NamedEnum as _;
    let code = grade.key_question.name();
    let term = TaxonomyTerm {
        id: term_id(&format!("key_question/{code}")),
        code: code.to_owned(),
        name: key_question_in_words(grade.key_question).to_owned(),
        description: format!(
            "The Care Inspectorate's grade for \"{}\" at the service's latest inspection of it, from 1 (unsatisfactory) to 6 (excellent).",
            key_question_in_words(grade.key_question)
        ),
        taxonomy: KEY_QUESTION_TAXONOMY,
    };
    Attribute {
        id: part_id(record, &format!("attribute/grade/{code}")),
        link_id: record.id.as_uuid(),
        link_type: GRADE_LINK,
        link_entity: "service",
        taxonomy_term_id: term.id,
        value: Some(grade.grade.get().to_string()),
        taxonomy_term: term,
    }
}

/// The key questions as the Care Inspectorate's quality frameworks ask them.
pub fn key_question_in_words(key_question: KeyQuestion) -> &'static str {
    match key_question {
        KeyQuestion::SupportWellbeing => "How well do we support people's wellbeing?",
        KeyQuestion::CareAndSupportPlanning => "How well is our care and support planned?",
        KeyQuestion::Setting => "How good is our setting?",
        KeyQuestion::StaffTeam => "How good is our staff team?",
        KeyQuestion::Leadership => "How good is our leadership?",
        KeyQuestion::CarePlayAndLearning => "How good is our care, play and learning?",
    }
}

fn service_description(record: &ProviderRecord) -> String {
    let details = &record.details;
    let mut description = match details.service_types.as_slice() {
        [] => format!("Support from {}", details.name),
        types => format!("{} from {}", types.join(", "), details.name),
    };
    if !details.localities.is_empty() {
        description.push_str(&format!(" in {}", details.localities.join(", ")));
    }
    description.push('.');
    description
}

fn organization_description(record: &ProviderRecord) -> String {
    let mut description = format!(
        "{} providing Self-directed Support in Scotland.",
        kind_in_words(record.details.kind)
    );
    if let Some(number) = &record.details.care_inspectorate_number {
        description.push_str(&format!(" Care Inspectorate service number {number}."));
    }
    description
}

fn part_id(record: &ProviderRecord, part: &str) -> Uuid {
    Uuid::new_v5(&record.id.as_uuid(), part.as_bytes())
}

fn term_id(name: &str) -> Uuid {
    Uuid::new_v5(&TAXONOMY_NAMESPACE, name.as_bytes())
}
