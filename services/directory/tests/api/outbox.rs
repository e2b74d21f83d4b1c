//! Events: exactly one per state change, written with the change, carrying the new version.

use sds_proto::v1::{self as proto, CheckKind, FrameworkStatus, KeyQuestion};
use sds_testkit::bearer;

use crate::support::*;

#[tokio::test]
async fn each_registration_writes_exactly_one_provider_registered_event() {
    let app = TestApp::spawn().await;

    let (first, _) = app
        .provider_registers_itself(details("First Provider"))
        .await;
    let second = app
        .commissioning_registers(details("Second Provider"))
        .await;

    let events = app.outbox_events().await;
    assert_eq!(events.len(), 2);
    for (event, provider) in events.iter().zip([&first, &second]) {
        assert_eq!(event.event_type, "provider.registered");
        assert_eq!(event.subject, "sds.national.provider.registered");
        assert_eq!(event.event.event_type, "provider.registered");
        assert_eq!(event.event.authority, "national");
        assert_eq!(event.event.aggregate_type, "provider");
        assert_eq!(event.event.aggregate_id, provider.id);
        assert_eq!(event.event.aggregate_version, 1);
        assert_eq!(event.provider(), provider);
        assert!(event.event.occurred_at.is_some());
    }
}

#[tokio::test]
async fn each_change_writes_exactly_one_provider_updated_event_with_the_new_version() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(details("Changing Provider"))
        .await;

    app.client()
        .update_provider(bearer(
            &token,
            proto::UpdateProviderRequest {
                id: provider.id.clone(),
                details: Some(details("Changed Provider")),
                expected_version: Some(1),
            },
        ))
        .await
        .expect("update");
    app.client()
        .record_check(bearer(
            &token,
            proto::RecordCheckRequest {
                provider_id: provider.id.clone(),
                check: Some(proto::Check {
                    kind: CheckKind::PublicLiabilityInsurance as i32,
                    reference: "PL-1".into(),
                    checked_on: date("2025-05-01"),
                    expires_on: date("2027-05-01"),
                    status: 0,
                }),
            },
        ))
        .await
        .expect("check");
    app.record_grades(
        &provider.id,
        vec![grade(KeyQuestion::Setting, 4, "2025-04-04")],
    )
    .await;
    let last = app
        .set_framework_status(&provider.id, "aberdeenshire", FrameworkStatus::OpenList)
        .await;

    let events = app.outbox_events().await;
    let summary: Vec<(&str, &str, u64)> = events
        .iter()
        .map(|event| {
            (
                event.event_type.as_str(),
                event.change(),
                event.event.aggregate_version,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("provider.registered", "", 1),
            ("provider.updated", "details", 2),
            ("provider.updated", "check", 3),
            ("provider.updated", "grades", 4),
            ("provider.updated", "framework_status", 5),
        ]
    );
    for event in &events {
        assert_eq!(event.provider().version, event.event.aggregate_version);
    }
    assert_eq!(events[4].subject, "sds.national.provider.updated");
    assert_eq!(events[4].provider(), &last);
}

#[tokio::test]
async fn an_import_writes_one_event_per_provider_it_registered_or_changed() {
    let app = TestApp::spawn().await;
    let row = |number: &str, name: &str| proto::CareInspectorateService {
        service_number: number.into(),
        service_name: name.into(),
        service_type: "Care Home Service".into(),
        council_area: "Moray".into(),
        source_line: 2,
        ..proto::CareInspectorateService::default()
    };
    let import = |services: Vec<proto::CareInspectorateService>| {
        let mut client = app.client();
        async move {
            client
                .import_care_inspectorate_services(bearer(
                    &commissioning("moray"),
                    proto::ImportCareInspectorateServicesRequest { services },
                ))
                .await
                .expect("import")
        }
    };
    import(vec![
        row("CS2001000001", "Elgin House"),
        row("CS2001000002", "Forres House"),
    ])
    .await;

    import(vec![
        row("CS2001000001", "Elgin House"),
        row("CS2001000002", "Forres Lodge"),
    ])
    .await;

    let events = app.outbox_events().await;
    let summary: Vec<(&str, &str, u64, String)> = events
        .iter()
        .map(|event| {
            let name = event
                .provider()
                .details
                .as_ref()
                .map(|details| details.name.clone())
                .unwrap_or_default();
            (
                event.event_type.as_str(),
                event.change(),
                event.event.aggregate_version,
                name,
            )
        })
        .collect();
    let registered: Vec<_> = summary
        .iter()
        .filter(|event| event.0 == "provider.registered")
        .collect();
    assert_eq!(registered.len(), 2);
    assert!(registered.iter().all(|event| event.2 == 1));
    assert_eq!(
        summary.last(),
        Some(&("provider.updated", "import", 2, "Forres Lodge".to_owned()))
    );
    assert_eq!(events.len(), 3, "the unchanged service publishes nothing");
}
