//! The parts of the Open Referral HSDS 3.0 schemas the feed uses, as a checker: for each
//! kind of entity, the fields HSDS defines with their types and formats, and the fields it
//! requires. A field HSDS does not define fails the check, so a misspelt name cannot pass.
//!
//! Source: openreferral/specification, branch 3.0 (`schema/compiled/service_list.json`,
//! `schema/service.json`, `organization.json`, `organization_identifier.json`,
//! `phone.json`, `service_area.json`, `service_at_location.json`, `attribute.json`,
//! `taxonomy_term.json`, and `components.schemas.Page` of `schema/openapi.json`). HSDS is
//! published under CC BY-SA 4.0; what is transcribed here is the names, types and
//! required lists only. The schema files themselves are not kept as fixtures: the compiled
//! service schema is about 2 MB, because it repeats every nested entity inline. Where an
//! HSDS table lists further fields as `tabular_required` (an attribute's `link_id`,
//! `taxonomy_term_id`, `link_entity`), the checker requires them too, which is stricter.

use serde_json::Value;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Uuid,
    Uri,
    Email,
    DateTime,
    Number,
    Integer,
    Boolean,
    OneOf(&'static [&'static str]),
    Object(Entity),
    ArrayOf(Entity),
    /// An array of entities the feed never fills in (always empty here).
    EmptyArray,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Page,
    Service,
    Organization,
    OrganizationIdentifier,
    Phone,
    ServiceArea,
    Attribute,
    TaxonomyTerm,
}

use Kind::*;

const SERVICE_STATUS: &[&str] = &["active", "inactive", "defunct", "temporarily closed"];

fn fields(entity: Entity) -> (&'static [&'static str], Vec<(&'static str, Kind)>) {
    match entity {
        Entity::Page => (
            &["empty"],
            vec![
                ("total_items", Integer),
                ("total_pages", Integer),
                ("page_number", Integer),
                ("size", Integer),
                ("first_page", Boolean),
                ("last_page", Boolean),
                ("empty", Boolean),
            ],
        ),
        Entity::Service => (
            &["id", "name", "status"],
            vec![
                ("id", Uuid),
                ("organization_id", Uuid),
                ("program_id", Uuid),
                ("name", Text),
                ("alternate_name", Text),
                ("description", Text),
                ("url", Uri),
                ("email", Email),
                ("status", OneOf(SERVICE_STATUS)),
                ("interpretation_services", Text),
                ("application_process", Text),
                ("fees_description", Text),
                ("accreditations", Text),
                ("eligibility_description", Text),
                ("minimum_age", Number),
                ("maximum_age", Number),
                ("assured_date", Text),
                ("assurer_email", Email),
                ("alert", Text),
                ("last_modified", DateTime),
                ("organization", Object(Entity::Organization)),
                ("phones", ArrayOf(Entity::Phone)),
                ("service_areas", ArrayOf(Entity::ServiceArea)),
                ("service_at_locations", EmptyArray),
                ("attributes", ArrayOf(Entity::Attribute)),
                ("schedules", EmptyArray),
                ("languages", EmptyArray),
                ("contacts", EmptyArray),
            ],
        ),
        Entity::Organization => (
            &["id", "name", "description"],
            vec![
                ("id", Uuid),
                ("name", Text),
                ("alternate_name", Text),
                ("description", Text),
                ("email", Email),
                ("website", Uri),
                ("year_incorporated", Number),
                ("legal_status", Text),
                ("logo", Text),
                ("uri", Uri),
                ("parent_organization_id", Uuid),
                ("phones", ArrayOf(Entity::Phone)),
                (
                    "organization_identifiers",
                    ArrayOf(Entity::OrganizationIdentifier),
                ),
                ("services", ArrayOf(Entity::Service)),
                ("locations", EmptyArray),
                ("attributes", ArrayOf(Entity::Attribute)),
            ],
        ),
        Entity::OrganizationIdentifier => (
            &["id", "identifier_type", "identifier"],
            vec![
                ("id", Uuid),
                ("organization_id", Uuid),
                ("identifier_scheme", Text),
                ("identifier_type", Text),
                ("identifier", Text),
            ],
        ),
        Entity::Phone => (
            &["id", "number"],
            vec![
                ("id", Uuid),
                ("service_id", Uuid),
                ("organization_id", Uuid),
                ("number", Text),
                ("extension", Number),
                ("type", Text),
                ("description", Text),
            ],
        ),
        Entity::ServiceArea => (
            &["id"],
            vec![
                ("id", Uuid),
                ("service_id", Uuid),
                ("service_at_location_id", Uuid),
                ("name", Text),
                ("description", Text),
                ("extent", Text),
                ("extent_type", Text),
                ("uri", Text),
            ],
        ),
        Entity::Attribute => (
            &["id", "link_id", "taxonomy_term_id", "link_entity"],
            vec![
                ("id", Uuid),
                ("link_id", Uuid),
                ("taxonomy_term_id", Uuid),
                ("link_type", Text),
                ("link_entity", Text),
                ("value", Text),
                ("taxonomy_term", Object(Entity::TaxonomyTerm)),
            ],
        ),
        Entity::TaxonomyTerm => (
            &["id", "name", "description"],
            vec![
                ("id", Uuid),
                ("code", Text),
                ("name", Text),
                ("description", Text),
                ("parent_id", Uuid),
                ("taxonomy", Text),
                ("language", Text),
                ("taxonomy_id", Uuid),
                ("term_uri", Uri),
            ],
        ),
    }
}

/// Every way `value` falls short of `entity`, each named by its path (`attributes[0].id`).
pub fn violations(entity: Entity, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check_object(entity, value, "$", &mut found);
    found
}

/// Panics with every violation when `value` is not a valid `entity`.
pub fn assert_valid(entity: Entity, value: &Value) {
    let found = violations(entity, value);
    assert!(
        found.is_empty(),
        "not a valid HSDS 3.0 {entity:?}:\n{}\n{value:#}",
        found.join("\n")
    );
}

/// A page whose contents are each a valid `item`.
pub fn assert_valid_page(item: Entity, page: &Value) {
    let mut found = violations(Entity::Page, &without_contents(page));
    match page.get("contents").and_then(Value::as_array) {
        Some(contents) => {
            for (index, entry) in contents.iter().enumerate() {
                check_object(item, entry, &format!("$.contents[{index}]"), &mut found);
            }
        }
        None => found.push("$.contents is not an array".to_owned()),
    }
    assert!(
        found.is_empty(),
        "not a valid HSDS 3.0 page of {item:?}:\n{}\n{page:#}",
        found.join("\n")
    );
}

fn without_contents(page: &Value) -> Value {
    let mut page = page.clone();
    if let Some(object) = page.as_object_mut() {
        object.remove("contents");
    }
    page
}

fn check_object(entity: Entity, value: &Value, path: &str, found: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        found.push(format!("{path} is not an object"));
        return;
    };
    let (required, defined) = fields(entity);
    for name in required {
        if !object.contains_key(*name) {
            found.push(format!("{path}.{name} is required but missing"));
        }
    }
    for (name, field) in object {
        let field_path = format!("{path}.{name}");
        match defined
            .iter()
            .find(|(defined_name, _)| defined_name == name)
        {
            Some((_, kind)) => check_value(*kind, field, &field_path, found),
            None => found.push(format!("{field_path} is not a field of an HSDS {entity:?}")),
        }
    }
}

fn check_value(kind: Kind, value: &Value, path: &str, found: &mut Vec<String>) {
    let text = value.as_str();
    let fits = match kind {
        Text => text.is_some(),
        Uuid => text.is_some_and(|text| uuid::Uuid::parse_str(text).is_ok()),
        Uri => text.is_some_and(|text| text.starts_with("https://") || text.starts_with("http://")),
        Email => text.is_some_and(|text| text.contains('@') && !text.contains(' ')),
        DateTime => text.is_some_and(|text| chrono::DateTime::parse_from_rfc3339(text).is_ok()),
        Number => value.is_number(),
        Integer => value.is_u64() || value.is_i64(),
        Boolean => value.is_boolean(),
        OneOf(allowed) => text.is_some_and(|text| allowed.contains(&text)),
        Object(entity) => {
            check_object(entity, value, path, found);
            return;
        }
        ArrayOf(entity) => {
            let Some(items) = value.as_array() else {
                found.push(format!("{path} is not an array"));
                return;
            };
            for (index, item) in items.iter().enumerate() {
                check_object(entity, item, &format!("{path}[{index}]"), found);
            }
            return;
        }
        EmptyArray => value.as_array().is_some_and(Vec::is_empty),
    };
    if !fits {
        found.push(format!("{path} is {value}, which is not a {kind:?}"));
    }
}

#[test]
fn the_checker_refuses_a_misspelt_field_a_missing_required_one_and_a_wrong_type() {
    let service = serde_json::json!({
        "id": "not-a-uuid",
        "nmae": "Bay Care",
        "status": "open",
    });
    let found = violations(Entity::Service, &service);
    assert_eq!(found.len(), 4, "{found:?}");
}
