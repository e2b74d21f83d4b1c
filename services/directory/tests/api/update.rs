//! UpdateProvider: a provider replaces its own details, safely against concurrent editors.

use sds_proto::v1 as proto;
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

fn update(
    id: &str,
    details: proto::ProviderDetails,
    expected_version: Option<u64>,
) -> proto::UpdateProviderRequest {
    proto::UpdateProviderRequest {
        id: id.to_owned(),
        details: Some(details),
        expected_version,
    }
}

#[tokio::test]
async fn a_provider_updates_its_own_details_and_moves_to_the_next_version() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(details("Garioch Lunch Club"))
        .await;
    let new_details = proto::ProviderDetails {
        localities: vec!["Aberdeenshire".into(), "Garioch".into()],
        capacity: Some(25),
        holds_isfs: true,
        management_fee: Some(proto::ManagementFeePolicy {
            kind: proto::ManagementFeeKind::Percentage as i32,
            percentage: "7.5".into(),
            ..proto::ManagementFeePolicy::default()
        }),
        ..details("Garioch Lunch Club")
    };

    let updated = app
        .client()
        .update_provider(bearer(
            &token,
            update(&provider.id, new_details.clone(), Some(1)),
        ))
        .await
        .expect("update")
        .into_inner();

    assert_eq!(updated.version, 2);
    assert_eq!(updated.details, Some(new_details));
    assert_eq!(updated.registered_at, provider.registered_at);
    assert_eq!(app.get(&provider.id).await, updated);
}

#[tokio::test]
async fn an_update_naming_a_stale_version_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(details("Mearns Walking Group"))
        .await;
    app.client()
        .update_provider(bearer(
            &token,
            update(&provider.id, details("Mearns Walkers"), Some(1)),
        ))
        .await
        .expect("first editor saves");
    let before = app.row_counts().await;

    let second_editor = app
        .client()
        .update_provider(bearer(
            &token,
            update(&provider.id, details("Mearns Ramblers"), Some(1)),
        ))
        .await;

    let message = assert_code(second_editor, Code::FailedPrecondition);
    assert!(message.contains("version 2, not 1"), "{message}");
    assert_eq!(app.row_counts().await, before);
    let stored = app.get(&provider.id).await;
    assert_eq!(
        stored.details.map(|details| details.name),
        Some("Mearns Walkers".to_owned())
    );
}

#[tokio::test]
async fn a_provider_cannot_update_another_provider() {
    let app = TestApp::spawn().await;
    let (victim, _) = app
        .provider_registers_itself(details("Kincardine Crafts"))
        .await;
    let (_, intruder_token) = app
        .provider_registers_itself(details("Other Provider"))
        .await;
    let before = app.row_counts().await;

    let result = app
        .client()
        .update_provider(bearer(
            &intruder_token,
            update(&victim.id, details("Taken Over"), None),
        ))
        .await;

    let message = assert_code(result, Code::PermissionDenied);
    assert!(
        message.contains("a provider may update only its own record"),
        "{message}"
    );
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn commissioning_staff_do_not_edit_a_providers_own_details() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Formartine Befriending"))
        .await;

    let result = app
        .client()
        .update_provider(bearer(
            &commissioning("aberdeenshire"),
            update(&provider.id, details("Renamed by the council"), None),
        ))
        .await;

    assert_code(result, Code::PermissionDenied);
}

#[tokio::test]
async fn updating_a_provider_that_never_registered_is_not_found() {
    let app = TestApp::spawn().await;
    let id = Uuid::now_v7().to_string();

    let result = app
        .client()
        .update_provider(bearer(
            &provider_token(&id),
            update(&id, details("Ghost"), None),
        ))
        .await;

    let message = assert_code(result, Code::NotFound);
    assert!(message.contains(&id), "{message}");
    assert_eq!(app.row_counts().await.providers, 0);
}

#[tokio::test]
async fn an_update_cannot_take_another_providers_care_inspectorate_number() {
    let app = TestApp::spawn().await;
    let registered = proto::ProviderDetails {
        kind: proto::ProviderKind::RegisteredCareService as i32,
        care_inspectorate_number: "CS2010123456".into(),
        ..details("Buchan Care")
    };
    app.provider_registers_itself(registered.clone()).await;
    let (other, token) = app.provider_registers_itself(details("Other Care")).await;
    let before = app.row_counts().await;

    let result = app
        .client()
        .update_provider(bearer(&token, update(&other.id, registered, None)))
        .await;

    assert_code(result, Code::AlreadyExists);
    assert_eq!(app.row_counts().await, before);
}
