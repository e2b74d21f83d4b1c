//! RepublishProviders: every provider published again as `provider.updated` (change
//! `republished`) at its current version, across pages, changing nothing; commissioning
//! staff only.

use std::collections::HashMap;

use sds_proto::v1 as proto;
use sds_testkit::bearer;
use tonic::Code;

use crate::import::{import, service};
use crate::support::*;

#[tokio::test]
async fn every_provider_is_published_again_once_at_its_current_version_and_nothing_changes() {
    let app = TestApp::spawn().await;
    // More than a page (500) of providers, from the Care Inspectorate import, and one
    // changed since (version 2).
    let services: Vec<proto::CareInspectorateService> = (0..520u64)
        .map(|index| {
            service(
                index + 2,
                &format!("CS20260{index:05}"),
                &format!("Care Service {index}"),
            )
        })
        .collect();
    let imported = import(&app, services).await;
    assert_eq!(imported.imported, 520);
    let changed = app
        .commissioning_registers(details("Deeside Day Opportunities"))
        .await;
    app.set_framework_status(
        &changed.id,
        "aberdeenshire",
        proto::FrameworkStatus::OpenList,
    )
    .await;
    let before = app.row_counts().await;
    let events_before = app.outbox_events().await.len();

    let response = app
        .client()
        .republish_providers(bearer(
            &commissioning("fife"),
            proto::RepublishProvidersRequest {},
        ))
        .await
        .expect("republish")
        .into_inner();

    assert_eq!(response.providers, 521);
    let after = app.row_counts().await;
    assert_eq!(
        (after.providers, after.changes, after.grades),
        (before.providers, before.changes, before.grades),
        "no provider, version or grade changes"
    );
    let republished: Vec<OutboxEvent> = app
        .outbox_events()
        .await
        .into_iter()
        .skip(events_before)
        .collect();
    assert_eq!(republished.len(), 521);
    let mut versions: HashMap<String, u64> = HashMap::new();
    for event in &republished {
        assert_eq!(event.event_type, "provider.updated");
        assert_eq!(event.change(), "republished");
        assert_eq!(event.event.aggregate_version, event.provider().version);
        assert!(
            versions
                .insert(event.provider().id.clone(), event.provider().version)
                .is_none(),
            "each provider once"
        );
    }
    assert_eq!(versions[&changed.id], 2);
}

#[tokio::test]
async fn only_commissioning_staff_may_publish_the_directory_again() {
    let app = TestApp::spawn().await;
    app.commissioning_registers(details("Deeside Day Opportunities"))
        .await;
    let before = app.row_counts().await;

    for token in [
        new_provider_token(),
        holder_token(),
        sds_testkit::token_for(&sds_testkit::authority_staff(
            "fife",
            &[sds_platform::Role::Practitioner],
        )),
    ] {
        assert_code(
            app.client()
                .republish_providers(bearer(&token, proto::RepublishProvidersRequest {}))
                .await,
            Code::PermissionDenied,
        );
    }

    assert_eq!(app.row_counts().await, before, "nothing published");
}
