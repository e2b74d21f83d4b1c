//! RegisterProvider: providers register themselves; commissioning staff register others.

use sds_proto::v1 as proto;
use sds_testkit::{authority_staff, bearer, token_for};
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn a_provider_registers_itself_under_its_own_organisation_id() {
    let app = TestApp::spawn().await;
    let organisation_id = Uuid::now_v7().to_string();
    let request = proto::RegisterProviderRequest {
        details: Some(proto::ProviderDetails {
            name: "  Deeside Community Minibus  ".into(),
            kind: proto::ProviderKind::CommunityGroup as i32,
            service_types: vec![
                "Transport".into(),
                "transport".into(),
                "Social support".into(),
            ],
            holds_isfs: true,
            management_fee: Some(flat_weekly_fee("12.5")),
            contact_email: "hello@deeside-minibus.org".into(),
            contact_phone: "013398 12345".into(),
            ..details("unused")
        }),
        request_id: String::new(),
    };

    let provider = app
        .client()
        .register_provider(bearer(&provider_token(&organisation_id), request))
        .await
        .expect("register")
        .into_inner();

    assert_eq!(provider.id, organisation_id);
    assert_eq!(provider.version, 1);
    let details = provider.details.as_ref().expect("details");
    assert_eq!(details.name, "Deeside Community Minibus");
    assert_eq!(details.kind, proto::ProviderKind::CommunityGroup as i32);
    assert_eq!(details.service_types, vec!["Transport", "Social support"]);
    assert_eq!(
        details
            .management_fee
            .as_ref()
            .and_then(|fee| fee.flat_weekly.clone())
            .map(|money| money.amount),
        Some("12.50".to_owned())
    );
    assert_eq!(provider.min_grade, 0);
    assert!(!provider.registered_at.is_empty());
    assert_eq!(app.get(&organisation_id).await, provider);
}

#[tokio::test]
async fn commissioning_staff_register_a_personal_assistant_chosen_off_framework_under_a_new_id() {
    let app = TestApp::spawn().await;

    let provider = app
        .commissioning_registers(proto::ProviderDetails {
            name: "Morag Personal Assistance".into(),
            kind: proto::ProviderKind::SelfEmployedPersonalAssistant as i32,
            ..details("unused")
        })
        .await;

    let id = Uuid::parse_str(&provider.id).expect("the id is a UUID");
    assert_eq!(id.get_version_num(), 7);
    assert_eq!(provider.version, 1);
    assert!(
        provider.frameworks.is_empty(),
        "nobody has put it on a framework"
    );
}

#[tokio::test]
async fn registering_the_same_provider_twice_is_already_exists_and_writes_nothing_more() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(details("Ythan Gardening Group"))
        .await;
    let before = app.row_counts().await;

    let again = app
        .client()
        .register_provider(bearer(
            &token,
            proto::RegisterProviderRequest {
                details: Some(details("Ythan Gardening Group again")),
                request_id: String::new(),
            },
        ))
        .await;

    let message = assert_code(again, Code::AlreadyExists);
    assert!(message.contains(&provider.id), "{message}");
    assert!(message.contains("UpdateProvider"), "{message}");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_care_inspectorate_number_belongs_to_one_provider_only() {
    let app = TestApp::spawn().await;
    let registered = proto::ProviderDetails {
        kind: proto::ProviderKind::RegisteredCareService as i32,
        care_inspectorate_number: "CS2004071234".into(),
        ..details("Bay Care at Home")
    };
    app.commissioning_registers(registered.clone()).await;
    let before = app.row_counts().await;

    let clash = app
        .client()
        .register_provider(bearer(
            &commissioning("aberdeenshire"),
            proto::RegisterProviderRequest {
                details: Some(proto::ProviderDetails {
                    // People type it in lower case too; it is the same number.
                    care_inspectorate_number: "cs2004071234".into(),
                    ..registered
                }),
                request_id: String::new(),
            },
        ))
        .await;

    let message = assert_code(clash, Code::AlreadyExists);
    assert!(message.contains("CS2004071234"), "{message}");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_provider_cannot_register_itself_with_a_care_inspectorate_number() {
    let app = TestApp::spawn().await;

    let result = app
        .client()
        .register_provider(bearer(
            &new_provider_token(),
            proto::RegisterProviderRequest {
                details: Some(proto::ProviderDetails {
                    kind: proto::ProviderKind::RegisteredCareService as i32,
                    care_inspectorate_number: "CS2004071234".into(),
                    ..details("Bay Care at Home")
                }),
                request_id: String::new(),
            },
        ))
        .await;

    let message = assert_code(result, Code::PermissionDenied);
    assert!(
        message.starts_with(
            "details.care_inspectorate_number: a provider cannot set its own Care Inspectorate service number"
        ),
        "{message}"
    );
    assert!(
        message.contains("recorded by commissioning staff or the Care Inspectorate import"),
        "{message}"
    );
    assert_eq!(app.row_counts().await.providers, 0);
    assert_eq!(app.row_counts().await.outbox, 0);
}

#[tokio::test]
async fn commissioning_staff_register_a_provider_with_its_care_inspectorate_number() {
    let app = TestApp::spawn().await;

    let provider = app
        .commissioning_registers(proto::ProviderDetails {
            kind: proto::ProviderKind::RegisteredCareService as i32,
            care_inspectorate_number: " cs2004071234 ".into(),
            ..details("Bay Care at Home")
        })
        .await;

    let details = provider.details.as_ref().expect("details");
    assert_eq!(details.care_inspectorate_number, "CS2004071234");
    assert_eq!(provider.version, 1);
    assert_eq!(app.get(&provider.id).await, provider);
}

/// The defect this guards against: a provider registered itself with the number of a
/// service not yet imported, and the import then wrote the real service's name, types,
/// capacity and grades into the impostor's record.
#[tokio::test]
async fn a_provider_cannot_take_a_services_number_before_the_import_finds_the_real_service() {
    let app = TestApp::spawn().await;
    let real_number = "CS2004071234";
    let impostor_token = new_provider_token();

    let claim = app
        .client()
        .register_provider(bearer(
            &impostor_token,
            proto::RegisterProviderRequest {
                details: Some(proto::ProviderDetails {
                    care_inspectorate_number: real_number.into(),
                    ..details("Totally Bay Care")
                }),
                request_id: String::new(),
            },
        ))
        .await;
    assert_code(claim, Code::PermissionDenied);
    let impostor = app
        .client()
        .register_provider(bearer(
            &impostor_token,
            proto::RegisterProviderRequest {
                details: Some(details("Totally Bay Care")),
                request_id: String::new(),
            },
        ))
        .await
        .expect("the impostor registers without a number")
        .into_inner();
    let claim_by_update = app
        .client()
        .update_provider(bearer(
            &impostor_token,
            proto::UpdateProviderRequest {
                id: impostor.id.clone(),
                details: Some(proto::ProviderDetails {
                    care_inspectorate_number: real_number.into(),
                    ..details("Totally Bay Care")
                }),
                expected_version: None,
            },
        ))
        .await;
    assert_code(claim_by_update, Code::PermissionDenied);

    let imported = app
        .client()
        .import_care_inspectorate_services(bearer(
            &commissioning("aberdeenshire"),
            proto::ImportCareInspectorateServicesRequest {
                services: vec![proto::CareInspectorateService {
                    service_number: real_number.into(),
                    service_name: "Bay Care at Home".into(),
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
        (1, 0, 0),
        "the real service is registered in its own record"
    );
    assert!(imported.rejected.is_empty(), "{:?}", imported.rejected);
    assert_eq!(
        app.get(&impostor.id).await,
        impostor,
        "the impostor's record is untouched"
    );
    let real_id: Uuid =
        sqlx::query_scalar("SELECT id FROM provider WHERE care_inspectorate_number = $1")
            .bind(real_number)
            .fetch_one(&app.pool)
            .await
            .expect("the real service is in the directory");
    assert_ne!(real_id.to_string(), impostor.id);
    let real = app.get(&real_id.to_string()).await;
    assert_eq!(real.details.expect("details").name, "Bay Care at Home");
    assert_eq!(real.min_grade, 5);
}

#[tokio::test]
async fn a_provider_whose_token_names_no_uuid_cannot_register() {
    let app = TestApp::spawn().await;

    let result = app
        .client()
        .register_provider(bearer(
            &provider_token("bay-care"),
            proto::RegisterProviderRequest {
                details: Some(details("Bay Care")),
                request_id: String::new(),
            },
        ))
        .await;

    let message = assert_code(result, Code::PermissionDenied);
    assert!(message.contains("not a UUID"), "{message}");
    assert_eq!(app.row_counts().await.providers, 0);
}

#[tokio::test]
async fn only_providers_and_commissioning_staff_register_providers() {
    let app = TestApp::spawn().await;
    let social_worker = token_for(&authority_staff(
        "aberdeenshire",
        &[sds_platform::Role::Practitioner],
    ));

    for token in [social_worker, holder_token()] {
        let result = app
            .client()
            .register_provider(bearer(
                &token,
                proto::RegisterProviderRequest {
                    details: Some(details("Anyone")),
                    request_id: String::new(),
                },
            ))
            .await;
        assert_code(result, Code::PermissionDenied);
    }
    assert_eq!(app.row_counts().await.providers, 0);
}
