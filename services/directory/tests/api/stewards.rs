//! Records kept on a provider's behalf: commissioning staff of the authority that
//! registered a provider (a personal assistant chosen off framework, say) keep its details
//! up to date; nobody else but the provider itself may.

use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_testkit::{authority_staff, bearer, token_for};
use tonic::Code;

use crate::support::*;

fn update(id: &str, name: &str, expected_version: u64) -> proto::UpdateProviderRequest {
    proto::UpdateProviderRequest {
        id: id.to_owned(),
        details: Some(proto::ProviderDetails {
            capacity: Some(20),
            ..details(name)
        }),
        expected_version: Some(expected_version),
    }
}

#[tokio::test]
async fn commissioning_staff_update_a_provider_their_authority_registered_on_its_behalf() {
    let app = TestApp::spawn().await;
    let registered = app.commissioning_registers(details("Mearns PA")).await;
    assert_eq!(registered.stewards, vec!["aberdeenshire".to_owned()]);

    let updated = app
        .client()
        .update_provider(bearer(
            &commissioning("aberdeenshire"),
            update(
                &registered.id,
                "Mearns Personal Assistance",
                registered.version,
            ),
        ))
        .await
        .expect("the stewards update it")
        .into_inner();

    assert_eq!(updated.version, registered.version + 1);
    let details = updated.details.unwrap();
    assert_eq!(details.name, "Mearns Personal Assistance");
    assert_eq!(details.capacity, Some(20));
    assert_eq!(
        app.outbox_events().await.last().unwrap().change(),
        "details"
    );
}

#[tokio::test]
async fn other_authorities_and_other_roles_may_not_update_a_record_kept_on_a_providers_behalf() {
    let app = TestApp::spawn().await;
    let registered = app.commissioning_registers(details("Garioch PA")).await;
    let before = app.row_counts().await;
    let practitioner = token_for(&authority_staff("aberdeenshire", &[Role::Practitioner]));

    for token in [commissioning("fife"), practitioner, any_provider_token()] {
        let result = app
            .client()
            .update_provider(bearer(
                &token,
                update(&registered.id, "Taken over", registered.version),
            ))
            .await;
        assert_code(result, Code::PermissionDenied);
    }
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_provider_that_registered_itself_has_no_stewards_and_commissioning_staff_are_told_why() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Cults Gardening"))
        .await;
    assert!(provider.stewards.is_empty());

    let result = app
        .client()
        .update_provider(bearer(
            &commissioning("aberdeenshire"),
            update(&provider.id, "Renamed by the council", provider.version),
        ))
        .await;

    let message = assert_code(result, Code::PermissionDenied);
    assert!(message.contains("keeps its own record"), "{message}");
    assert!(
        message.contains("update only records their own authority registered"),
        "{message}"
    );
}

#[tokio::test]
async fn commissioning_staff_whose_token_names_no_authority_cannot_register_on_someones_behalf() {
    let app = TestApp::spawn().await;
    let mut nobodys = authority_staff("aberdeenshire", &[Role::Commissioning]);
    nobodys.authorities.clear();

    let result = app
        .client()
        .register_provider(bearer(
            &token_for(&nobodys),
            proto::RegisterProviderRequest {
                details: Some(details("Orphan PA")),
                request_id: String::new(),
            },
        ))
        .await;

    let message = assert_code(result, Code::PermissionDenied);
    assert!(message.contains("names no authority"), "{message}");
    assert_eq!(app.row_counts().await.providers, 0);
}

#[tokio::test]
async fn another_authority_is_told_who_keeps_the_record() {
    let app = TestApp::spawn().await;
    let registered = app.commissioning_registers(details("Echt PA")).await;

    let result = app
        .client()
        .update_provider(bearer(
            &commissioning("fife"),
            update(&registered.id, "Taken over", registered.version),
        ))
        .await;

    let message = assert_code(result, Code::PermissionDenied);
    assert!(
        message.contains("kept by commissioning staff of aberdeenshire"),
        "{message}"
    );
}
