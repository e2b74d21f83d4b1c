//! The open data feed over plain HTTP, as a council's harvester fetches it: HSDS 3.0 JSON
//! with no token, paged in the database, strict about its parameters, and never showing a
//! personal assistant or an inactive service.

use std::collections::HashSet;

use sds_proto::v1::{self as proto, KeyQuestion};
use sds_testkit::{HttpResponse, http_get};
use serde_json::Value;

use crate::hsds_schema::{Entity, assert_valid, assert_valid_page};
use crate::import::{import, service};
use crate::support::*;

const FEED: &str = "/open-data/hsds";

async fn fetch(app: &TestApp, path: &str) -> HttpResponse {
    http_get(app.web, &format!("{FEED}{path}")).await
}

/// Fetches `path`, expecting 200 JSON, and returns its body.
pub async fn fetch_json(app: &TestApp, path: &str) -> Value {
    let response = fetch(app, path).await;
    assert_eq!(response.status, 200, "{path}: {}", response.body);
    assert_eq!(response.header("content-type"), Some("application/json"));
    response.json()
}

fn ids_of(page: &Value) -> Vec<String> {
    page["contents"]
        .as_array()
        .expect("contents")
        .iter()
        .map(|entry| entry["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// A voluntary organisation with business contacts, registered by commissioning staff.
async fn register_organisation(app: &TestApp, name: &str) -> proto::Provider {
    app.commissioning_registers(proto::ProviderDetails {
        service_types: vec!["Day support".into(), "Care at home".into()],
        localities: vec!["Aberdeenshire".into(), "Moray".into()],
        contact_email: "office@example.org".into(),
        contact_phone: "01224 000111".into(),
        ..details(name)
    })
    .await
}

#[tokio::test]
async fn the_feed_describes_itself_as_hsds_3_to_anyone_without_a_token() {
    let app = TestApp::spawn().await;

    let response = fetch(&app, "/").await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=300")
    );
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    let meta = response.json();
    assert_eq!(meta["version"], "3.0");
    assert!(
        meta["openapi_url"]
            .as_str()
            .expect("openapi_url")
            .starts_with("https://")
    );
    assert!(
        meta["profile"]
            .as_str()
            .expect("profile")
            .starts_with("https://")
    );
    assert!(meta["publisher"]["name"].is_string());
    let description = meta["description"].as_str().expect("description");
    assert!(description.contains("personal assistants"), "{description}");
    assert!(description.contains("inactive"), "{description}");
    assert_eq!(
        fetch_json(&app, "").await,
        meta,
        "with or without the slash"
    );
}

#[tokio::test]
async fn a_provider_is_a_valid_hsds_service_with_its_organization_areas_types_and_grades() {
    let app = TestApp::spawn().await;
    let provider = app
        .commissioning_registers(proto::ProviderDetails {
            care_inspectorate_number: "CS2004071234".into(),
            service_types: vec!["Day support".into(), "Care at home".into()],
            localities: vec!["Aberdeenshire".into(), "Moray".into()],
            contact_email: "office@baycare.org".into(),
            contact_phone: "01224 000111".into(),
            ..details("Bay Care")
        })
        .await;
    app.record_grades(
        &provider.id,
        vec![
            grade(KeyQuestion::SupportWellbeing, 5, "2025-02-11"),
            grade(KeyQuestion::Leadership, 4, "2025-02-11"),
        ],
    )
    .await;

    let service = fetch_json(&app, &format!("/services/{}", provider.id)).await;

    assert_valid(Entity::Service, &service);
    assert_eq!(service["id"], provider.id.as_str());
    assert_eq!(service["name"], "Bay Care");
    assert_eq!(service["status"], "active");
    assert_eq!(service["email"], "office@baycare.org");
    assert_eq!(service["phones"][0]["number"], "01224 000111");
    assert_eq!(service["service_at_locations"], serde_json::json!([]));
    let organization = &service["organization"];
    assert_eq!(organization["id"], provider.id.as_str());
    assert_eq!(organization["name"], "Bay Care");
    assert_eq!(
        organization["organization_identifiers"][0]["identifier"],
        "CS2004071234"
    );
    assert_eq!(
        organization["organization_identifiers"][0]["identifier_type"],
        "Care Inspectorate service number"
    );
    let areas: Vec<&str> = service["service_areas"]
        .as_array()
        .expect("service areas")
        .iter()
        .map(|area| area["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(areas, vec!["Aberdeenshire", "Moray"]);
    let attributes = service["attributes"].as_array().expect("attributes");
    let types: Vec<&str> = attributes
        .iter()
        .filter(|attribute| attribute["link_type"] == "service_type")
        .map(|attribute| attribute["taxonomy_term"]["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(types, vec!["Day support", "Care at home"]);
    let grades: Vec<(&str, &str)> = attributes
        .iter()
        .filter(|attribute| attribute["link_type"] == "care_inspectorate_grade")
        .map(|attribute| {
            (
                attribute["taxonomy_term"]["code"].as_str().expect("a code"),
                attribute["value"].as_str().expect("a grade"),
            )
        })
        .collect();
    assert_eq!(
        grades,
        vec![("support_wellbeing", "5"), ("leadership", "4")]
    );
}

#[tokio::test]
async fn the_same_service_type_is_the_same_taxonomy_term_for_every_provider() {
    let app = TestApp::spawn().await;
    let first = register_organisation(&app, "Bay Care").await;
    let second = register_organisation(&app, "Ythan Care").await;

    let term_ids = |service: &Value| -> Vec<String> {
        service["attributes"]
            .as_array()
            .expect("attributes")
            .iter()
            .map(|attribute| {
                attribute["taxonomy_term_id"]
                    .as_str()
                    .expect("id")
                    .to_owned()
            })
            .collect()
    };
    let first = fetch_json(&app, &format!("/services/{}", first.id)).await;
    let second = fetch_json(&app, &format!("/services/{}", second.id)).await;

    assert_eq!(term_ids(&first), term_ids(&second));
    assert_ne!(first["attributes"][0]["id"], second["attributes"][0]["id"]);
}

#[tokio::test]
async fn organizations_are_listed_and_nested_as_valid_hsds() {
    let app = TestApp::spawn().await;
    let provider = register_organisation(&app, "Bay Care").await;

    let list = fetch_json(&app, "/organizations").await;
    let organization = fetch_json(&app, &format!("/organizations/{}", provider.id)).await;

    assert_valid_page(Entity::Organization, &list);
    assert_eq!(ids_of(&list), vec![provider.id.clone()]);
    assert_valid(Entity::Organization, &organization);
    assert_eq!(organization["services"][0]["id"], provider.id.as_str());
    assert_eq!(organization["email"], "office@example.org");
}

#[tokio::test]
async fn pages_walk_the_whole_directory_once_in_name_order() {
    let app = TestApp::spawn().await;
    let mut registered = Vec::new();
    for name in [
        "Elm Care",
        "Ash Care",
        "Dee Care",
        "Birch Care",
        "Cairn Care",
    ] {
        registered.push(register_organisation(&app, name).await.id);
    }

    let first = fetch_json(&app, "/services?per_page=2").await;
    let second = fetch_json(&app, "/services?per_page=2&page=2").await;
    let third = fetch_json(&app, "/services?page=3&per_page=2").await;
    let beyond = fetch_json(&app, "/services?page=4&per_page=2").await;

    for page in [&first, &second, &third, &beyond] {
        assert_valid_page(Entity::Service, page);
        assert_eq!(page["total_items"], 5);
        assert_eq!(page["total_pages"], 3);
    }
    assert_eq!(
        (&first["first_page"], &first["last_page"], &first["size"]),
        (&Value::Bool(true), &Value::Bool(false), &Value::from(2))
    );
    assert_eq!(
        (&third["last_page"], &third["size"], &third["empty"]),
        (&Value::Bool(true), &Value::from(1), &Value::Bool(false))
    );
    assert_eq!(beyond["empty"], true);
    let names: Vec<String> = [&first, &second, &third]
        .iter()
        .flat_map(|page| page["contents"].as_array().expect("contents").clone())
        .map(|service| service["name"].as_str().expect("a name").to_owned())
        .collect();
    assert_eq!(
        names,
        vec![
            "Ash Care",
            "Birch Care",
            "Cairn Care",
            "Dee Care",
            "Elm Care"
        ]
    );
    let walked: HashSet<String> = [&first, &second, &third]
        .iter()
        .flat_map(|page| ids_of(page))
        .collect();
    assert_eq!(walked, registered.into_iter().collect::<HashSet<_>>());
}

#[tokio::test]
async fn search_organization_id_and_modified_after_narrow_the_services() {
    let app = TestApp::spawn().await;
    let bay = register_organisation(&app, "Bay Care").await;
    let ythan = register_organisation(&app, "Ythan Housing Support").await;

    let searched = fetch_json(&app, "/services?search=housing").await;
    let one_organization = fetch_json(&app, &format!("/services?organization_id={}", bay.id)).await;
    let since_the_past = fetch_json(&app, "/services?modified_after=2020-01-01").await;
    let since_the_future = fetch_json(&app, "/services?modified_after=2999-01-01T00:00:00Z").await;

    assert_eq!(ids_of(&searched), vec![ythan.id.clone()]);
    assert_eq!(ids_of(&one_organization), vec![bay.id.clone()]);
    assert_eq!(since_the_past["total_items"], 2);
    assert_eq!(since_the_future["total_items"], 0);
    assert_eq!(since_the_future["empty"], true);
}

#[tokio::test]
async fn bad_parameters_and_unknown_ids_are_refused_with_json_naming_what_is_accepted() {
    let app = TestApp::spawn().await;
    let cases = [
        ("/services?page=0", 400, "page"),
        ("/services?page=two", 400, "page"),
        ("/services?per_page=201", 400, "per_page"),
        ("/services?per_page=", 400, "per_page"),
        ("/services?modified_after=yesterday", 400, "modified_after"),
        (
            "/services?organization_id=CS2004071234",
            400,
            "organization_id",
        ),
        ("/services?taxonomy_term_id=abc", 400, "taxonomy_term_id"),
        (
            "/organizations?modified_after=2026-01-01",
            400,
            "modified_after",
        ),
        ("/service_at_locations?per_page=1000", 400, "per_page"),
        ("/services/not-a-uuid", 400, "id"),
        ("/services/0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b", 404, "id"),
        (
            "/organizations/0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
            404,
            "id",
        ),
        (
            "/service_at_locations/0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
            404,
            "id",
        ),
    ];

    for (path, status, parameter) in cases {
        let response = fetch(&app, path).await;
        assert_eq!(response.status, status, "{path}: {}", response.body);
        assert_eq!(
            response.header("content-type"),
            Some("application/json"),
            "{path}"
        );
        assert_eq!(response.header("cache-control"), Some("no-store"), "{path}");
        let body = response.json();
        assert_eq!(body["parameter"], parameter, "{path}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty())
        );
    }
    let per_page = fetch(&app, "/services?per_page=201").await.json();
    assert!(
        per_page["message"]
            .as_str()
            .expect("message")
            .contains("from 1 to 200"),
        "{per_page}"
    );
    let unknown = fetch(&app, "/services?taxonomy_term_id=abc").await.json();
    assert!(
        unknown["message"]
            .as_str()
            .expect("message")
            .contains("accepted: page, per_page, search, organization_id, modified_after"),
        "{unknown}"
    );
}

#[tokio::test]
async fn personal_assistants_and_their_contacts_never_appear_in_the_feed() {
    let app = TestApp::spawn().await;
    let organisation = register_organisation(&app, "Bay Care").await;
    let assistant = app
        .commissioning_registers(proto::ProviderDetails {
            name: "Morag Personal".into(),
            kind: proto::ProviderKind::SelfEmployedPersonalAssistant as i32,
            service_types: vec!["Personal care".into()],
            localities: vec!["Banchory".into()],
            contact_email: "morag.private@example.com".into(),
            contact_phone: "07700 900123".into(),
            ..proto::ProviderDetails::default()
        })
        .await;

    let mut published = Vec::new();
    for path in [
        "/services".to_owned(),
        "/services?search=Morag".to_owned(),
        format!("/services?organization_id={}", assistant.id),
        "/organizations".to_owned(),
        "/organizations?search=Morag".to_owned(),
        format!("/services/{}", organisation.id),
        format!("/organizations/{}", organisation.id),
        "/service_at_locations".to_owned(),
    ] {
        let response = fetch(&app, &path).await;
        assert_eq!(response.status, 200, "{path}");
        published.push(response.body);
    }
    let mut refused = Vec::new();
    for path in [
        format!("/services/{}", assistant.id),
        format!("/organizations/{}", assistant.id),
    ] {
        let response = fetch(&app, &path).await;
        assert_eq!(response.status, 404, "{path}: {}", response.body);
        refused.push(response.body);
    }

    for body in published.iter().chain(&refused) {
        for private in [
            "Morag",
            "morag.private@example.com",
            "07700 900123",
            "Banchory",
        ] {
            assert!(!body.contains(private), "{private} appears in {body}");
        }
    }
    for body in &published {
        assert!(
            !body.contains(&assistant.id),
            "the assistant's id appears in {body}"
        );
    }
    assert_eq!(fetch_json(&app, "/services").await["total_items"], 1);
}

#[tokio::test]
async fn inactive_care_inspectorate_services_are_left_out() {
    let app = TestApp::spawn().await;
    let mut closed = service(3, "CS2004071235", "Closed Care");
    closed.service_status = "Inactive".into();
    import(&app, vec![service(2, "CS2004071234", "Open Care"), closed]).await;
    let closed_id = crate::import::id_of(&app, "CS2004071235").await;

    let list = fetch_json(&app, "/services").await;
    let organizations = fetch_json(&app, "/organizations").await;
    let closed_service = fetch(&app, &format!("/services/{closed_id}")).await;

    let names: Vec<&str> = list["contents"]
        .as_array()
        .expect("contents")
        .iter()
        .map(|service| service["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, vec!["Open Care"]);
    assert_eq!(organizations["total_items"], 1);
    assert_eq!(closed_service.status, 404, "{}", closed_service.body);
}

#[tokio::test]
async fn service_at_locations_are_an_empty_valid_page_because_the_directory_holds_no_addresses() {
    let app = TestApp::spawn().await;
    register_organisation(&app, "Bay Care").await;

    let page = fetch_json(&app, "/service_at_locations").await;

    assert_valid_page(Entity::Service, &page);
    assert_eq!(
        (&page["total_items"], &page["empty"]),
        (&Value::from(0), &Value::Bool(true))
    );
    let missing = fetch(
        &app,
        "/service_at_locations/0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
    )
    .await;
    assert!(
        missing.json()["message"]
            .as_str()
            .expect("message")
            .contains("no addresses")
    );
}

#[tokio::test]
async fn a_national_directory_is_paged_in_the_database_to_its_last_page() {
    let app = TestApp::spawn().await;
    // Thousands of providers, written straight to the table: registering them one by one
    // over gRPC would test registration, not paging.
    sqlx::query(
        "INSERT INTO provider (id, name, kind, service_types, localities, holds_isfs, version, \
             registered_by, updated_by) \
         SELECT gen_random_uuid(), 'Provider ' || lpad(n::text, 5, '0'), 'voluntary_organisation', \
                ARRAY['Day support'], ARRAY['Aberdeenshire'], false, 1, 'test', 'test' \
         FROM generate_series(1, 3000) AS n",
    )
    .execute(&app.pool)
    .await
    .expect("a national directory");

    let last = fetch_json(&app, "/services?page=15&per_page=200").await;

    assert_valid_page(Entity::Service, &last);
    assert_eq!(
        (&last["total_items"], &last["total_pages"], &last["size"]),
        (&Value::from(3000), &Value::from(15), &Value::from(200))
    );
    assert_eq!(last["last_page"], true);
    assert_eq!(last["contents"][0]["name"], "Provider 02801");
    assert_eq!(last["contents"][199]["name"], "Provider 03000");
}
