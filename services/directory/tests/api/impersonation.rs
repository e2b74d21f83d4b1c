//! No provider passes itself off as an inspected care service: only a record with a Care
//! Inspectorate number is a registered care service, and no record without one takes a
//! registered service's exact name.

use sds_proto::v1 as proto;
use sds_testkit::bearer;
use tonic::{Code, Status};

use crate::support::*;

fn registered_service(name: &str, number: &str) -> proto::ProviderDetails {
    proto::ProviderDetails {
        kind: proto::ProviderKind::RegisteredCareService as i32,
        care_inspectorate_number: number.into(),
        ..details(name)
    }
}

async fn register(
    app: &TestApp,
    token: &str,
    details: proto::ProviderDetails,
) -> Result<proto::Provider, Status> {
    app.client()
        .register_provider(bearer(
            token,
            proto::RegisterProviderRequest {
                details: Some(details),
                request_id: String::new(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn rename(
    app: &TestApp,
    token: &str,
    provider: &proto::Provider,
    name: &str,
) -> Result<proto::Provider, Status> {
    app.client()
        .update_provider(bearer(
            token,
            proto::UpdateProviderRequest {
                id: provider.id.clone(),
                details: Some(proto::ProviderDetails {
                    name: name.into(),
                    ..provider.details.clone().unwrap()
                }),
                expected_version: Some(provider.version),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_record_without_a_service_number_cannot_be_a_registered_care_service() {
    let app = TestApp::spawn().await;
    let before = app.row_counts().await;
    let claiming = proto::ProviderDetails {
        kind: proto::ProviderKind::RegisteredCareService as i32,
        ..details("Ythan Care")
    };

    for token in [new_provider_token(), commissioning("aberdeenshire")] {
        let message = assert_invalid(
            register(&app, &token, claiming.clone()).await,
            "details.kind",
        );
        assert!(
            message.contains("only for a service with a Care Inspectorate service number"),
            "{message}"
        );
    }
    assert_eq!(app.row_counts().await, before);

    let (provider, token) = app.provider_registers_itself(details("Ythan Care")).await;
    let becoming = app
        .client()
        .update_provider(bearer(
            &token,
            proto::UpdateProviderRequest {
                id: provider.id.clone(),
                details: Some(proto::ProviderDetails {
                    kind: proto::ProviderKind::RegisteredCareService as i32,
                    ..provider.details.clone().unwrap()
                }),
                expected_version: None,
            },
        ))
        .await;
    assert_invalid(becoming, "details.kind");
    assert_eq!(app.get(&provider.id).await, provider);
}

#[tokio::test]
async fn nobody_without_a_number_registers_or_renames_to_a_registered_services_exact_name() {
    let app = TestApp::spawn().await;
    app.commissioning_registers(registered_service("Bay Care at Home", "CS2004071234"))
        .await;
    let (impostor, token) = app.provider_registers_itself(details("Bay Cleaning")).await;
    let before = app.row_counts().await;

    for spelling in [
        "Bay Care at Home",
        "bay care  AT home",
        "Bay\u{a0}Care at Home",
    ] {
        let message = assert_code(
            rename(&app, &token, &impostor, spelling).await,
            Code::FailedPrecondition,
        );
        assert!(
            message.contains("registered care service CS2004071234"),
            "{message}"
        );
        assert!(
            message.contains("choose a name that tells you apart"),
            "{message}"
        );
        assert_code(
            register(&app, &new_provider_token(), details(spelling)).await,
            Code::FailedPrecondition,
        );
        assert_code(
            register(&app, &commissioning("fife"), details(spelling)).await,
            Code::FailedPrecondition,
        );
    }
    for hidden in [
        "Bay Ca\u{FE0F}re at Home",
        "Bay Care at Home\u{E0020}",
        "Bay\u{3164}Care at Home",
    ] {
        assert_invalid(
            rename(&app, &token, &impostor, hidden).await,
            "details.name",
        );
        assert_invalid(
            register(&app, &new_provider_token(), details(hidden)).await,
            "details.name",
        );
    }
    assert_eq!(app.row_counts().await, before, "refusals write nothing");

    let distinct = rename(&app, &token, &impostor, "Bay Care at Home Cleaning").await;
    assert_eq!(distinct.expect("a name that tells it apart").version, 2);
}

#[tokio::test]
async fn registered_services_may_share_a_name_and_keep_it_through_updates() {
    let app = TestApp::spawn().await;
    app.commissioning_registers(registered_service("Care at Home Service", "CS2004000001"))
        .await;
    let second = register(
        &app,
        &commissioning("fife"),
        registered_service("Care at Home Service", "CS2004000002"),
    )
    .await
    .expect("another registered service of the same name, with its own number");
    let token = provider_token(&second.id);

    let updated = app
        .client()
        .update_provider(bearer(
            &token,
            proto::UpdateProviderRequest {
                id: second.id.clone(),
                details: Some(proto::ProviderDetails {
                    capacity: Some(30),
                    ..second.details.clone().unwrap()
                }),
                expected_version: Some(second.version),
            },
        ))
        .await
        .expect("its own update");
    assert_eq!(updated.into_inner().details.unwrap().capacity, Some(30));
}

#[tokio::test]
async fn the_number_of_a_registered_care_service_is_corrected_but_not_cleared() {
    let app = TestApp::spawn().await;
    let service = app
        .commissioning_registers(registered_service("Macduff Care", "CS2004071234"))
        .await;
    let set = |number: &str| proto::SetCareInspectorateNumberRequest {
        provider_id: service.id.clone(),
        care_inspectorate_number: number.into(),
        expected_version: None,
    };
    let before = app.row_counts().await;

    let cleared = app
        .client()
        .set_care_inspectorate_number(bearer(&commissioning("aberdeenshire"), set("")))
        .await;

    let message = assert_code(cleared, Code::FailedPrecondition);
    assert!(
        message.contains("needs its Care Inspectorate number (CS2004071234)"),
        "{message}"
    );
    assert_eq!(app.row_counts().await, before);
    let corrected = app
        .client()
        .set_care_inspectorate_number(bearer(&commissioning("aberdeenshire"), set("CS2004079999")))
        .await
        .expect("a correction")
        .into_inner();
    assert_eq!(
        corrected.details.unwrap().care_inspectorate_number,
        "CS2004079999"
    );
}

#[tokio::test]
async fn the_database_refuses_a_registered_care_service_without_a_number() {
    let app = TestApp::spawn().await;
    let provider = app.commissioning_registers(details("Gamrie Care")).await;

    let written =
        sqlx::query("UPDATE provider SET kind = 'registered_care_service' WHERE id = $1::uuid")
            .bind(&provider.id)
            .execute(&app.pool)
            .await;

    let error = written.expect_err("the CHECK constraint holds");
    assert!(
        error
            .to_string()
            .contains("provider_registered_service_has_number"),
        "{error}"
    );
}
