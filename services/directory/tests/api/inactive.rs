//! Inactive services: the Care Inspectorate lists some services as "Inactive" (cancelled
//! or not operating). The import keeps them, marked so; search leaves them out unless
//! asked for them; GetProvider still shows them; a change of status is a change like any
//! other the import makes.

use sds_proto::v1::{self as proto, CareServiceStatus};
use sds_testkit::bearer;

use crate::import::{id_of, import, service};
use crate::support::*;

fn with_status(
    mut row: proto::CareInspectorateService,
    status: &str,
) -> proto::CareInspectorateService {
    row.service_status = status.to_owned();
    row
}

fn search_all(include_inactive: bool) -> proto::SearchProvidersRequest {
    proto::SearchProvidersRequest {
        include_inactive,
        ..proto::SearchProvidersRequest::default()
    }
}

fn names(response: &proto::SearchProvidersResponse) -> Vec<String> {
    let mut names: Vec<String> = response
        .providers
        .iter()
        .map(|provider| provider.details.as_ref().expect("details").name.clone())
        .collect();
    names.sort();
    names
}

/// The `provider.updated` events of one provider, in the order they were written.
async fn updates_of(app: &TestApp, provider_id: &str) -> Vec<OutboxEvent> {
    app.outbox_events()
        .await
        .into_iter()
        .filter(|event| {
            event.event_type == "provider.updated" && event.event.aggregate_id == provider_id
        })
        .collect()
}

#[tokio::test]
async fn inactive_services_are_kept_left_out_of_search_found_when_asked_for_and_shown_by_get() {
    let app = TestApp::spawn().await;
    let registered = app
        .commissioning_registers(details("Deeside Day Care"))
        .await;

    let response = import(
        &app,
        vec![
            with_status(service(2, "CS2004071234", "Bay Care"), "Active"),
            with_status(service(3, "CS2004071235", "Closed Care"), "Inactive"),
            with_status(service(4, "CS2004071236", "Blank Status Care"), ""),
            with_status(service(5, "CS2004071237", "Shouting Care"), "INACTIVE"),
        ],
    )
    .await;

    assert_eq!((response.imported, response.rejected.len()), (4, 0));
    let closed = app.get(&id_of(&app, "CS2004071235").await).await;
    assert_eq!(
        closed.care_service_status,
        CareServiceStatus::Inactive as i32
    );
    assert_eq!(
        closed.grades.len(),
        2,
        "an inactive service keeps its grades"
    );
    let blank = app.get(&id_of(&app, "CS2004071236").await).await;
    assert_eq!(
        blank.care_service_status,
        CareServiceStatus::Active as i32,
        "a blank status means active"
    );
    assert_eq!(
        app.get(&registered.id).await.care_service_status,
        CareServiceStatus::Active as i32,
        "a provider that is not a Care Inspectorate service is active"
    );

    let found = app.search(search_all(false)).await;
    assert_eq!(
        names(&found),
        vec!["Bay Care", "Blank Status Care", "Deeside Day Care"]
    );
    assert_eq!(found.page.expect("page").total_matches, 3);
    let with_inactive = app.search(search_all(true)).await;
    assert_eq!(
        names(&with_inactive),
        vec![
            "Bay Care",
            "Blank Status Care",
            "Closed Care",
            "Deeside Day Care",
            "Shouting Care"
        ]
    );
    let by_text = app
        .search(proto::SearchProvidersRequest {
            text: "Closed".into(),
            ..search_all(false)
        })
        .await;
    assert!(by_text.providers.is_empty(), "{by_text:?}");
}

#[tokio::test]
async fn a_service_that_turns_inactive_gets_one_version_and_one_event_and_the_same_again_none() {
    let app = TestApp::spawn().await;
    import(&app, vec![service(2, "CS2004071234", "Bay Care")]).await;
    let id = id_of(&app, "CS2004071234").await;

    let turned = import(
        &app,
        vec![with_status(
            service(2, "CS2004071234", "Bay Care"),
            "Inactive",
        )],
    )
    .await;

    assert_eq!(
        (turned.imported, turned.updated, turned.unchanged),
        (0, 1, 0)
    );
    let provider = app.get(&id).await;
    assert_eq!(
        (provider.version, provider.care_service_status),
        (2, CareServiceStatus::Inactive as i32)
    );
    let updates = updates_of(&app, &id).await;
    assert_eq!(updates.len(), 1, "exactly one provider.updated");
    assert_eq!(updates[0].change(), "import");
    assert_eq!(updates[0].event.aggregate_version, 2);
    assert_eq!(
        updates[0].provider().care_service_status,
        CareServiceStatus::Inactive as i32
    );

    let before = app.row_counts().await;
    let again = import(
        &app,
        vec![with_status(
            service(2, "CS2004071234", "Bay Care"),
            "inactive",
        )],
    )
    .await;
    assert_eq!((again.imported, again.updated, again.unchanged), (0, 0, 1));
    assert_eq!(app.row_counts().await, before, "no version, no event");

    let reopened = import(&app, vec![service(2, "CS2004071234", "Bay Care")]).await;
    assert_eq!(reopened.updated, 1);
    let provider = app.get(&id).await;
    assert_eq!(
        (provider.version, provider.care_service_status),
        (3, CareServiceStatus::Active as i32)
    );
    let updates = updates_of(&app, &id).await;
    assert_eq!(updates.len(), 2);
    assert_eq!(
        updates[1].provider().care_service_status,
        CareServiceStatus::Active as i32
    );
}

#[tokio::test]
async fn an_unknown_service_status_is_rejected_naming_what_is_accepted_and_the_rest_import() {
    let app = TestApp::spawn().await;

    let response = import(
        &app,
        vec![
            with_status(service(2, "CS2004071234", "Bay Care"), "Active"),
            with_status(service(3, "CS2004071235", "Planned Care"), "Propositional"),
        ],
    )
    .await;

    assert_eq!(response.imported, 1);
    assert_eq!(response.rejected.len(), 1);
    assert_eq!(response.rejected[0].line, 3);
    assert_eq!(
        response.rejected[0].reason,
        "service_status is \"Propositional\", which is not a Care Inspectorate service status; accepted: Active, Inactive (any case), or blank for Active"
    );
    assert_eq!(app.row_counts().await.providers, 1);
}

#[tokio::test]
async fn a_corrected_number_leaves_the_old_services_inactive_status_behind() {
    let app = TestApp::spawn().await;
    import(
        &app,
        vec![with_status(
            service(2, "CS2004071234", "Bay Care"),
            "Inactive",
        )],
    )
    .await;
    let id = id_of(&app, "CS2004071234").await;

    // A registered care service's number is corrected, never cleared (see impersonation).
    let corrected = app
        .client()
        .set_care_inspectorate_number(bearer(
            &commissioning("aberdeenshire"),
            proto::SetCareInspectorateNumberRequest {
                provider_id: id.clone(),
                care_inspectorate_number: "CS2004079999".into(),
                expected_version: None,
            },
        ))
        .await
        .expect("commissioning staff correct the number")
        .into_inner();

    assert_eq!(
        corrected.care_service_status,
        CareServiceStatus::Active as i32
    );
    assert_eq!(
        app.get(&id).await.care_service_status,
        CareServiceStatus::Active as i32
    );
}
