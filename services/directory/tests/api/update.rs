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

    let message = assert_code(second_editor, Code::Aborted);
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
    app.commissioning_registers(registered.clone()).await;
    let (other, token) = app.provider_registers_itself(details("Other Care")).await;
    let before = app.row_counts().await;

    let result = app
        .client()
        .update_provider(bearer(&token, update(&other.id, registered, None)))
        .await;

    let message = assert_code(result, Code::PermissionDenied);
    assert!(
        message.starts_with(
            "details.care_inspectorate_number: a provider cannot set its own Care Inspectorate service number"
        ),
        "{message}"
    );
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.get(&other.id).await, other);
}

/// A provider registered by commissioning staff with its service number, with its token.
async fn registered_care_service(app: &TestApp, number: &str) -> (proto::Provider, String) {
    let provider = app
        .commissioning_registers(proto::ProviderDetails {
            kind: proto::ProviderKind::RegisteredCareService as i32,
            care_inspectorate_number: number.into(),
            ..details("Banff Care at Home")
        })
        .await;
    let token = provider_token(&provider.id);
    (provider, token)
}

#[tokio::test]
async fn a_provider_cannot_change_or_clear_its_care_inspectorate_number() {
    let app = TestApp::spawn().await;
    let (provider, token) = registered_care_service(&app, "CS2004071234").await;
    let current = provider.details.clone().expect("details");
    let before = app.row_counts().await;

    for (number, expected) in [
        (
            "CS2004079999",
            "details.care_inspectorate_number: a provider cannot change its Care Inspectorate service number (it is CS2004071234, not CS2004079999)",
        ),
        (
            "",
            "details.care_inspectorate_number: a provider cannot clear its Care Inspectorate service number (it is CS2004071234)",
        ),
    ] {
        let result = app
            .client()
            .update_provider(bearer(
                &token,
                update(
                    &provider.id,
                    proto::ProviderDetails {
                        care_inspectorate_number: number.into(),
                        ..current.clone()
                    },
                    Some(provider.version),
                ),
            ))
            .await;

        let message = assert_code(result, Code::PermissionDenied);
        assert!(message.starts_with(expected), "{message}");
        assert!(
            message.contains("send CS2004071234 back unchanged"),
            "{message}"
        );
    }
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.get(&provider.id).await, provider);
}

#[tokio::test]
async fn a_provider_may_send_its_care_inspectorate_number_back_unchanged() {
    let app = TestApp::spawn().await;
    let (provider, token) = registered_care_service(&app, "CS2004071234").await;
    // What `sds directory update` does: the details as read, with one field changed.
    let new_details = proto::ProviderDetails {
        contact_phone: "01261 812345".into(),
        ..provider.details.clone().expect("details")
    };

    let updated = app
        .client()
        .update_provider(bearer(
            &token,
            update(&provider.id, new_details.clone(), Some(provider.version)),
        ))
        .await
        .expect("update with the number unchanged")
        .into_inner();

    assert_eq!(updated.version, 2);
    assert_eq!(updated.details, Some(new_details.clone()));

    let lower_case = app
        .client()
        .update_provider(bearer(
            &token,
            update(
                &provider.id,
                proto::ProviderDetails {
                    care_inspectorate_number: "cs2004071234".into(),
                    ..new_details
                },
                Some(2),
            ),
        ))
        .await
        .expect("the same number in lower case is the same number")
        .into_inner();
    assert_eq!(
        lower_case
            .details
            .map(|details| details.care_inspectorate_number),
        Some("CS2004071234".to_owned())
    );
}
