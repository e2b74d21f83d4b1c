//! ImportCareInspectorateServices: the Care Inspectorate datastore, upserted on the
//! service number, with invalid rows rejected one by one.

use std::time::Instant;

use sds_proto::v1::{self as proto, KeyQuestion};
use sds_testkit::{authority_staff, bearer, token_for};
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

/// An active support service graded 5 and 4, inspected on 2025-02-11.
pub fn service(line: u64, number: &str, name: &str) -> proto::CareInspectorateService {
    proto::CareInspectorateService {
        service_number: number.to_owned(),
        service_name: name.to_owned(),
        service_type: "Support Service".into(),
        subtype: "Care at Home".into(),
        service_provider: "Example Care Ltd".into(),
        council_area: "Aberdeenshire".into(),
        client_group: "Older People".into(),
        registered_places: None,
        service_status: "Active".into(),
        grades: vec![
            grade(KeyQuestion::SupportWellbeing, 5, "2025-02-11"),
            grade(KeyQuestion::Leadership, 4, "2025-02-11"),
        ],
        source_line: line,
        ..proto::CareInspectorateService::default()
    }
}

pub async fn import(
    app: &TestApp,
    services: Vec<proto::CareInspectorateService>,
) -> proto::ImportCareInspectorateServicesResponse {
    app.client()
        .import_care_inspectorate_services(bearer(
            &commissioning("aberdeenshire"),
            proto::ImportCareInspectorateServicesRequest { services },
        ))
        .await
        .expect("import")
        .into_inner()
}

pub async fn id_of(app: &TestApp, number: &str) -> String {
    let id: Uuid =
        sqlx::query_scalar("SELECT id FROM provider WHERE care_inspectorate_number = $1")
            .bind(number)
            .fetch_one(&app.pool)
            .await
            .expect("the service is in the directory");
    id.to_string()
}

#[tokio::test]
async fn new_services_are_registered_as_registered_care_services() {
    let app = TestApp::spawn().await;
    let mut with_places = service(2, "CS2004071234", "Bay Care at Home");
    with_places.registered_places = Some(40);

    let response = import(
        &app,
        vec![
            with_places,
            service(3, "CS2004071235", "Ythan Housing Support"),
        ],
    )
    .await;

    assert_eq!(
        (response.imported, response.updated, response.unchanged),
        (2, 0, 0)
    );
    assert!(response.rejected.is_empty());
    let provider = app.get(&id_of(&app, "CS2004071234").await).await;
    let details = provider.details.as_ref().expect("details");
    assert_eq!(details.name, "Bay Care at Home");
    assert_eq!(
        details.kind,
        proto::ProviderKind::RegisteredCareService as i32
    );
    assert_eq!(details.care_inspectorate_number, "CS2004071234");
    assert_eq!(
        details.service_types,
        vec!["Support Service", "Care at Home"]
    );
    assert_eq!(details.localities, vec!["Aberdeenshire"]);
    assert_eq!(details.capacity, Some(40));
    assert!(!details.holds_isfs);
    assert_eq!(provider.grades.len(), 2);
    assert_eq!(provider.min_grade, 4);
    assert_eq!(provider.version, 1);
}

#[tokio::test]
async fn re_importing_updates_known_services_and_leaves_what_the_provider_maintains() {
    let app = TestApp::spawn().await;
    let provider_details = proto::ProviderDetails {
        name: "Bay Care".into(),
        kind: proto::ProviderKind::VoluntaryOrganisation as i32,
        care_inspectorate_number: "CS2004071234".into(),
        holds_isfs: true,
        management_fee: Some(flat_weekly_fee("20.00")),
        contact_email: "office@baycare.org".into(),
        contact_phone: "01224 000111".into(),
        ..details("unused")
    };
    let registered = app.commissioning_registers(provider_details.clone()).await;
    let mut row = service(2, "CS2004071234", "Bay Care at Home");
    row.registered_places = Some(35);
    row.grades = vec![grade(KeyQuestion::SupportWellbeing, 6, "2025-08-01")];

    let response = import(&app, vec![row]).await;

    assert_eq!(
        (response.imported, response.updated, response.unchanged),
        (0, 1, 0)
    );
    assert_eq!(
        app.row_counts().await.providers,
        1,
        "updated, not duplicated"
    );
    let provider = app.get(&registered.id).await;
    let details = provider.details.expect("details");
    assert_eq!(details.name, "Bay Care at Home");
    assert_eq!(details.capacity, Some(35));
    assert_eq!(
        details.service_types,
        vec!["Support Service", "Care at Home"]
    );
    assert_eq!(details.kind, provider_details.kind);
    assert!(details.holds_isfs);
    assert_eq!(details.management_fee, provider_details.management_fee);
    assert_eq!(details.contact_email, provider_details.contact_email);
    assert_eq!(details.contact_phone, provider_details.contact_phone);
    assert_eq!(provider.min_grade, 6);
    assert_eq!(provider.version, 2);
    let last = app.outbox_events().await.pop().expect("an event");
    assert_eq!(
        (last.event_type.as_str(), last.change()),
        ("provider.updated", "import")
    );
    assert_eq!(last.event.aggregate_version, 2);
}

#[tokio::test]
async fn re_importing_the_same_rows_changes_nothing_and_publishes_nothing() {
    let app = TestApp::spawn().await;
    let rows = vec![
        service(2, "CS2004071234", "Bay Care"),
        service(3, "CS2004071235", "Ythan Care"),
    ];
    import(&app, rows.clone()).await;
    let before = app.row_counts().await;

    let again = import(&app, rows).await;

    assert_eq!((again.imported, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.get(&id_of(&app, "CS2004071234").await).await.version, 1);
}

#[tokio::test]
async fn a_new_grade_alone_makes_a_service_updated() {
    let app = TestApp::spawn().await;
    let mut row = service(2, "CS2004071234", "Bay Care");
    import(&app, vec![row.clone()]).await;
    row.grades
        .push(grade(KeyQuestion::StaffTeam, 3, "2025-02-11"));

    let response = import(&app, vec![row]).await;

    assert_eq!(
        (response.imported, response.updated, response.unchanged),
        (0, 1, 0)
    );
    let provider = app.get(&id_of(&app, "CS2004071234").await).await;
    assert_eq!((provider.min_grade, provider.version), (3, 2));
}

#[tokio::test]
async fn invalid_rows_are_rejected_with_their_line_and_reason_and_the_rest_import() {
    let app = TestApp::spawn().await;
    let mut negative_places = service(4, "CS2004070004", "Negative Places");
    negative_places.registered_places = Some(-3);
    let mut grade_seven = service(5, "CS2004070005", "Grade Seven");
    grade_seven.grades[1].grade = 7;
    let mut impossible_date = service(6, "CS2004070006", "Impossible Date");
    impossible_date.grades[0].inspected_on = date("2025-02-30");
    let nameless = service(8, "CS2004070008", "");
    let mut inspected_next_year = service(9, "CS2004070009", "Inspected Next Year");
    inspected_next_year.grades[1].inspected_on = days_from_today(365);

    let response = import(
        &app,
        vec![
            service(2, "CS2004070002", "Good Service"),
            service(3, "CS20040", "Short Number"),
            negative_places,
            grade_seven,
            impossible_date,
            service(7, "CS2004070002", "Good Service Again"),
            nameless,
            inspected_next_year,
        ],
    )
    .await;

    assert_eq!(
        (response.imported, response.updated, response.unchanged),
        (1, 0, 0)
    );
    let rejected: Vec<(u64, &str)> = response
        .rejected
        .iter()
        .map(|rejection| (rejection.line, rejection.reason.as_str()))
        .collect();
    let expected_starts = [
        (
            3,
            "service_number \"CS20040\" is not a Care Inspectorate service number",
        ),
        (4, "registered_places is -3; it must be 0 or more"),
        (
            5,
            "grades[1].grade is 7; Care Inspectorate grades run from 1 to 6",
        ),
        (
            6,
            "grades[0].inspected_on \"2025-02-30\" is not a date; expected YYYY-MM-DD",
        ),
        (7, "service_number CS2004070002 also appears on line 2"),
        (8, "service_name is empty"),
        (9, "grades[1].inspected_on "),
    ];
    assert_eq!(rejected.len(), expected_starts.len(), "{rejected:?}");
    for ((line, reason), (expected_line, expected_start)) in rejected.iter().zip(expected_starts) {
        assert_eq!(*line, expected_line);
        assert!(reason.starts_with(expected_start), "line {line}: {reason}");
    }
    assert_eq!(app.row_counts().await.providers, 1);
}

#[tokio::test]
async fn a_thousand_services_import_in_one_batch_and_a_second_pass_updates_the_changed_half() {
    let app = TestApp::spawn().await;
    let rows: Vec<proto::CareInspectorateService> = (0..1000u64)
        .map(|index| {
            service(
                index + 2,
                &format!("CS20{index:08}"),
                &format!("Service {index}"),
            )
        })
        .collect();

    let started = Instant::now();
    let first = import(&app, rows.clone()).await;
    let first_took = started.elapsed();
    let changed: Vec<proto::CareInspectorateService> = rows
        .into_iter()
        .enumerate()
        .map(|(index, mut row)| {
            if index % 2 == 0 {
                row.registered_places = Some(12);
            }
            row
        })
        .collect();
    let started = Instant::now();
    let second = import(&app, changed).await;
    let second_took = started.elapsed();
    println!("1000 new services imported in {first_took:?}; 1000 re-imported in {second_took:?}");

    assert_eq!(
        (first.imported, first.updated, first.unchanged),
        (1000, 0, 0)
    );
    assert_eq!(
        (second.imported, second.updated, second.unchanged),
        (0, 500, 500)
    );
    let counts = app.row_counts().await;
    assert_eq!(
        (counts.providers, counts.grades, counts.outbox),
        (1000, 2000, 1500)
    );
}

#[tokio::test]
async fn only_commissioning_staff_run_the_import() {
    let app = TestApp::spawn().await;
    let social_worker = token_for(&authority_staff(
        "aberdeenshire",
        &[sds_platform::Role::Practitioner],
    ));

    for token in [new_provider_token(), social_worker, holder_token()] {
        let result = app
            .client()
            .import_care_inspectorate_services(bearer(
                &token,
                proto::ImportCareInspectorateServicesRequest {
                    services: vec![service(2, "CS2004071234", "Bay Care")],
                },
            ))
            .await;
        assert_code(result, Code::PermissionDenied);
    }
    assert_eq!(app.row_counts().await.providers, 0);
}

#[tokio::test]
async fn a_batch_over_the_limit_is_refused_whole() {
    let app = TestApp::spawn().await;
    let rows: Vec<proto::CareInspectorateService> = (0..5001u64)
        .map(|index| proto::CareInspectorateService {
            grades: vec![],
            ..service(index + 2, &format!("CS20{index:08}"), "S")
        })
        .collect();

    let result = app
        .client()
        .import_care_inspectorate_services(bearer(
            &commissioning("aberdeenshire"),
            proto::ImportCareInspectorateServicesRequest { services: rows },
        ))
        .await;

    let message = assert_invalid(result, "services");
    assert!(message.contains("5001 rows"), "{message}");
    assert_eq!(app.row_counts().await.providers, 0);
}
