//! The open data feed on real public data: the sample of the Care Inspectorate datastore
//! in `deploy/local/sample`, imported through the import RPC as `sds directory
//! import-care-inspectorate` sends it, comes out as valid HSDS, every service of it.

use sds_proto::v1::{self as proto, KeyQuestion};

use crate::hsds_schema::{Entity, assert_valid, assert_valid_page};
use crate::import::import;
use crate::open_data::fetch_json;
use crate::support::*;

/// The sample of the Care Inspectorate datastore in `deploy/local/sample`, read as the
/// datastore is published (Windows-1252, day/month/year dates), into import rows.
fn care_inspectorate_sample() -> Vec<proto::CareInspectorateService> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/local/sample/care-inspectorate-sample.csv"
    );
    let bytes = std::fs::read(path).expect("the sample CSV");
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("a header").clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|heading| heading == name)
            .unwrap_or_else(|| panic!("the sample has a {name} column"))
    };
    let key_questions = [
        ("KQ_Support_Wellbeing", KeyQuestion::SupportWellbeing),
        (
            "KQ_Care_and_Support_Planning",
            KeyQuestion::CareAndSupportPlanning,
        ),
        ("KQ_Setting", KeyQuestion::Setting),
        ("KQ_Staff_Team", KeyQuestion::StaffTeam),
        ("KQ_Leadership", KeyQuestion::Leadership),
        (
            "KQ_Care_Play_and_Learning",
            KeyQuestion::CarePlayAndLearning,
        ),
    ];
    let mut services = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.expect("a CSV row");
        let field = |name: &str| record.get(column(name)).unwrap_or("").trim().to_owned();
        let inspected_on =
            chrono::NaiveDate::parse_from_str(&field("Last_inspection_Date"), "%d/%m/%Y")
                .expect("an inspection date")
                .format("%Y-%m-%d")
                .to_string();
        let grades = key_questions
            .iter()
            .filter_map(|(name, key_question)| {
                let value = field(name);
                (!value.is_empty()).then(|| {
                    grade(
                        *key_question,
                        value.parse().expect("a grade"),
                        &inspected_on,
                    )
                })
            })
            .collect();
        services.push(proto::CareInspectorateService {
            service_number: field("CSNumber"),
            service_name: field("ServiceName"),
            service_type: field("ServiceType"),
            subtype: field("Subtype"),
            service_provider: field("ServiceProvider"),
            council_area: field("Council_Area_Name"),
            client_group: field("Client_group"),
            registered_places: field("Registered_Places").parse().ok(),
            service_status: field("ServiceStatus"),
            grades,
            source_line: u64::try_from(index).expect("a line") + 2,
            ..proto::CareInspectorateService::default()
        });
    }
    services
}

#[tokio::test]
async fn every_service_of_the_care_inspectorate_sample_is_published_as_valid_hsds() {
    let app = TestApp::spawn().await;
    let sample = care_inspectorate_sample();
    assert_eq!(sample.len(), 13, "the sample's rows");

    let outcome = import(&app, sample.clone()).await;
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);

    let page = fetch_json(&app, "/services?per_page=200").await;
    assert_valid_page(Entity::Service, &page);
    assert_eq!(page["total_items"], 13);
    for row in &sample {
        let id = crate::import::id_of(&app, &row.service_number).await;
        let service = fetch_json(&app, &format!("/services/{id}")).await;
        assert_valid(Entity::Service, &service);
        assert_eq!(
            service["name"],
            row.service_name.as_str(),
            "read as Windows-1252"
        );
        assert_eq!(
            service["organization"]["organization_identifiers"][0]["identifier"],
            row.service_number.as_str()
        );
        assert_eq!(
            service["service_areas"][0]["name"],
            row.council_area.as_str()
        );
        let grades = service["attributes"]
            .as_array()
            .expect("attributes")
            .iter()
            .filter(|attribute| attribute["link_type"] == "care_inspectorate_grade")
            .count();
        assert_eq!(grades, row.grades.len(), "{}", row.service_number);
        let organization = fetch_json(&app, &format!("/organizations/{id}")).await;
        assert_valid(Entity::Organization, &organization);
    }
    let names: Vec<&str> = page["contents"]
        .as_array()
        .expect("contents")
        .iter()
        .map(|service| service["name"].as_str().expect("a name"))
        .collect();
    assert!(names.contains(&"St Mary\u{2019}s House"), "{names:?}");
}
