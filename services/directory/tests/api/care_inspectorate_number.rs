//! SetCareInspectorateNumber: commissioning staff attach, correct or clear a provider's
//! service number, so that the import updates that record instead of creating another.

use sds_proto::v1 as proto;
use sds_testkit::{authority_staff, bearer, token_for};
use tonic::{Code, Status};
use uuid::Uuid;

use crate::support::*;

fn set_number(
    provider_id: &str,
    number: &str,
    expected_version: Option<u64>,
) -> proto::SetCareInspectorateNumberRequest {
    proto::SetCareInspectorateNumberRequest {
        provider_id: provider_id.to_owned(),
        care_inspectorate_number: number.to_owned(),
        expected_version,
    }
}

async fn call(
    app: &TestApp,
    token: &str,
    request: proto::SetCareInspectorateNumberRequest,
) -> Result<proto::Provider, Status> {
    app.client()
        .set_care_inspectorate_number(bearer(token, request))
        .await
        .map(tonic::Response::into_inner)
}

async fn commissioning_sets(
    app: &TestApp,
    provider_id: &str,
    number: &str,
    expected_version: Option<u64>,
) -> proto::Provider {
    call(
        app,
        &commissioning("aberdeenshire"),
        set_number(provider_id, number, expected_version),
    )
    .await
    .expect("commissioning staff set the number")
}

fn number_of(provider: &proto::Provider) -> &str {
    &provider
        .details
        .as_ref()
        .expect("details")
        .care_inspectorate_number
}

/// The gap this RPC closes: a provider registered itself (without a number, as it must);
/// once commissioning staff attach its number, the import finds this record.
#[tokio::test]
async fn commissioning_staff_attach_a_number_and_the_next_import_updates_that_record() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Bay Care at Home"))
        .await;

    let attached = commissioning_sets(&app, &provider.id, " cs2004071234 ", Some(1)).await;

    assert_eq!(number_of(&attached), "CS2004071234");
    assert_eq!(attached.version, 2);
    assert_eq!(
        attached.details.as_ref().map(|details| &details.name),
        Some(&"Bay Care at Home".to_owned())
    );
    assert_eq!(app.get(&provider.id).await, attached);
    let history: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT version, change, changed_by FROM provider_change WHERE provider_id = $1 ORDER BY version",
    )
    .bind(Uuid::parse_str(&provider.id).expect("uuid"))
    .fetch_all(&app.pool)
    .await
    .expect("read history");
    assert_eq!(
        history.last(),
        Some(&(
            2,
            "care_inspectorate_number".to_owned(),
            "aberdeenshire".to_owned()
        ))
    );

    let imported = app
        .client()
        .import_care_inspectorate_services(bearer(
            &commissioning("aberdeenshire"),
            proto::ImportCareInspectorateServicesRequest {
                services: vec![proto::CareInspectorateService {
                    service_number: "CS2004071234".into(),
                    service_name: "Bay Care at Home Service".into(),
                    service_type: "Support Service".into(),
                    subtype: "Care at Home".into(),
                    council_area: "Aberdeenshire".into(),
                    registered_places: Some(40),
                    grades: vec![grade(proto::KeyQuestion::SupportWellbeing, 5, "2025-02-11")],
                    source_line: 2,
                    ..proto::CareInspectorateService::default()
                }],
            },
        ))
        .await
        .expect("import")
        .into_inner();

    assert_eq!(
        (imported.imported, imported.updated, imported.unchanged),
        (0, 1, 0),
        "the import updates the provider's own record"
    );
    assert!(imported.rejected.is_empty(), "{:?}", imported.rejected);
    assert_eq!(app.row_counts().await.providers, 1, "no second record");
    let after_import = app.get(&provider.id).await;
    let details = after_import.details.as_ref().expect("details");
    assert_eq!(details.name, "Bay Care at Home Service");
    assert_eq!(details.care_inspectorate_number, "CS2004071234");
    assert_eq!(details.capacity, Some(40));
    assert_eq!((after_import.min_grade, after_import.version), (5, 3));
}

#[tokio::test]
async fn setting_the_number_writes_one_provider_updated_event_with_the_new_version() {
    let app = TestApp::spawn().await;
    let (provider, _) = app.provider_registers_itself(details("Ythan Care")).await;

    let attached = commissioning_sets(&app, &provider.id, "CS2004071234", None).await;

    let events = app.outbox_events().await;
    assert_eq!(events.len(), 2, "registered, then one update");
    let event = &events[1];
    assert_eq!(
        (event.event_type.as_str(), event.change()),
        ("provider.updated", "care_inspectorate_number")
    );
    assert_eq!(event.subject, "sds.national.provider.updated");
    assert_eq!(event.event.aggregate_id, provider.id);
    assert_eq!(event.event.aggregate_version, 2);
    assert_eq!(event.provider(), &attached);
}

#[tokio::test]
async fn commissioning_staff_correct_and_clear_a_number() {
    let app = TestApp::spawn().await;
    // A voluntary organisation running a registered service: its number can be cleared
    // without leaving a "registered care service" without one.
    let provider = app
        .commissioning_registers(proto::ProviderDetails {
            kind: proto::ProviderKind::VoluntaryOrganisation as i32,
            care_inspectorate_number: "CS2004071234".into(),
            ..details("Banff Care at Home")
        })
        .await;

    let corrected = commissioning_sets(&app, &provider.id, "CS2004079999", Some(1)).await;
    assert_eq!(
        (number_of(&corrected), corrected.version),
        ("CS2004079999", 2)
    );

    let cleared = commissioning_sets(&app, &provider.id, "", Some(2)).await;
    assert_eq!((number_of(&cleared), cleared.version), ("", 3));
    let stored: Option<String> =
        sqlx::query_scalar("SELECT care_inspectorate_number FROM provider WHERE id = $1")
            .bind(Uuid::parse_str(&provider.id).expect("uuid"))
            .fetch_one(&app.pool)
            .await
            .expect("read provider");
    assert_eq!(stored, None, "cleared is NULL, not an empty string");
}

#[tokio::test]
async fn only_commissioning_staff_set_a_number_and_a_refusal_writes_nothing() {
    let app = TestApp::spawn().await;
    let (provider, own_token) = app.provider_registers_itself(details("Garioch Care")).await;
    let social_worker = token_for(&authority_staff(
        "aberdeenshire",
        &[sds_platform::Role::Practitioner],
    ));
    let before = app.row_counts().await;

    for token in [
        own_token,
        new_provider_token(),
        social_worker,
        holder_token(),
    ] {
        let result = call(&app, &token, set_number(&provider.id, "CS2004071234", None)).await;
        let message = assert_code(result, Code::PermissionDenied);
        assert!(
            message.contains("commissioning staff only"),
            "the message says who may: {message}"
        );
    }
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.get(&provider.id).await, provider);
}

#[tokio::test]
async fn a_number_another_provider_holds_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    app.commissioning_registers(proto::ProviderDetails {
        kind: proto::ProviderKind::RegisteredCareService as i32,
        care_inspectorate_number: "CS2004071234".into(),
        ..details("Bay Care at Home")
    })
    .await;
    let (other, _) = app.provider_registers_itself(details("Other Care")).await;
    let before = app.row_counts().await;

    let result = call(
        &app,
        &commissioning("aberdeenshire"),
        set_number(&other.id, "cs2004071234", None),
    )
    .await;

    let message = assert_code(result, Code::AlreadyExists);
    assert!(message.contains("CS2004071234"), "{message}");
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.get(&other.id).await, other);
}

#[tokio::test]
async fn a_malformed_number_or_id_is_refused_with_its_field() {
    let app = TestApp::spawn().await;
    let (provider, _) = app.provider_registers_itself(details("Mearns Care")).await;
    let before = app.row_counts().await;
    let staff = commissioning("aberdeenshire");

    let message = assert_invalid(
        call(&app, &staff, set_number(&provider.id, "CS123", None)).await,
        "care_inspectorate_number",
    );
    assert!(
        message.contains("expected CS and 10 digits, such as CS2004071234"),
        "{message}"
    );
    assert_invalid(
        call(&app, &staff, set_number("not-a-uuid", "CS2004071234", None)).await,
        "provider_id",
    );
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_stale_version_or_an_unknown_provider_is_refused() {
    let app = TestApp::spawn().await;
    let (provider, _) = app.provider_registers_itself(details("Deeside Care")).await;
    commissioning_sets(&app, &provider.id, "CS2004071234", Some(1)).await;
    let before = app.row_counts().await;
    let staff = commissioning("aberdeenshire");

    let stale = call(
        &app,
        &staff,
        set_number(&provider.id, "CS2004079999", Some(1)),
    )
    .await;
    let message = assert_code(stale, Code::Aborted);
    assert!(message.contains("version 2, not 1"), "{message}");

    let ghost = Uuid::now_v7().to_string();
    let unknown = call(&app, &staff, set_number(&ghost, "CS2004079999", None)).await;
    let message = assert_code(unknown, Code::NotFound);
    assert!(message.contains(&ghost), "{message}");

    assert_eq!(app.row_counts().await, before);
    assert_eq!(number_of(&app.get(&provider.id).await), "CS2004071234");
}

#[tokio::test]
async fn setting_the_number_a_provider_already_has_adds_no_version_and_no_event() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Turriff Home Support"))
        .await;
    let set_once = commissioning_sets(&app, &provider.id, "CS2004071234", None).await;
    let before = app.row_counts().await;

    let set_again = commissioning_sets(&app, &provider.id, " cs2004071234 ", None).await;

    assert_eq!(set_again, set_once, "the record is returned as it stands");
    assert_eq!(number_of(&set_again), "CS2004071234");
    assert_eq!(app.row_counts().await, before, "no version, no event");
}
