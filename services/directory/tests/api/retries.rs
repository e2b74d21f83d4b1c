//! RegisterProvider's request id: a retry whose first answer was lost registers nothing
//! twice, even when the retries race each other.

use sds_proto::v1 as proto;
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

fn registration(name: &str, request_id: &str) -> proto::RegisterProviderRequest {
    proto::RegisterProviderRequest {
        details: Some(details(name)),
        request_id: request_id.to_owned(),
    }
}

async fn register_as(
    app: &TestApp,
    token: &str,
    request: proto::RegisterProviderRequest,
) -> Result<proto::Provider, tonic::Status> {
    app.client()
        .register_provider(bearer(token, request))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_retry_with_the_same_request_id_and_details_returns_the_first_provider_and_writes_nothing()
 {
    let app = TestApp::spawn().await;
    let staff = commissioning("aberdeenshire");
    let key = Uuid::now_v7().to_string();
    let first = register_as(&app, &staff, registration("Stonehaven PA", &key))
        .await
        .expect("first registration");
    let after_first = app.row_counts().await;

    let retried = register_as(&app, &staff, registration("  Stonehaven PA ", &key))
        .await
        .expect("the retry is answered");

    assert_eq!(retried, first, "the same provider, as it is now");
    assert_eq!(
        app.row_counts().await,
        after_first,
        "no second provider, no second event"
    );
    assert_eq!(after_first.providers, 1);
    assert_eq!(after_first.outbox, 1);
}

#[tokio::test]
async fn the_same_request_id_with_other_details_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let staff = commissioning("aberdeenshire");
    let first = register_as(&app, &staff, registration("Portlethen PA", "visit-42"))
        .await
        .unwrap();
    let before = app.row_counts().await;

    let reused = register_as(&app, &staff, registration("Newtonhill PA", "visit-42")).await;

    let message = assert_code(reused, Code::AlreadyExists);
    assert!(
        message.contains("visit-42") && message.contains(&first.id),
        "{message}"
    );
    assert!(message.contains("new request_id"), "{message}");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn request_ids_are_scoped_to_the_calling_organisation() {
    let app = TestApp::spawn().await;
    let aberdeenshire = register_as(
        &app,
        &commissioning("aberdeenshire"),
        registration("Inverbervie PA", "form-1"),
    )
    .await
    .unwrap();
    let fife = register_as(
        &app,
        &commissioning("fife"),
        registration("Inverbervie PA", "form-1"),
    )
    .await
    .expect("another organisation's key of the same spelling is its own");

    assert_ne!(aberdeenshire.id, fife.id);
    assert_eq!(app.row_counts().await.providers, 2);
}

#[tokio::test]
async fn racing_retries_with_one_request_id_register_one_provider() {
    let app = TestApp::spawn().await;
    let staff = commissioning("aberdeenshire");
    let key = Uuid::now_v7().to_string();
    let attempts = (0..8).map(|_| {
        let app = &app;
        let staff = staff.clone();
        let key = key.clone();
        async move { register_as(app, &staff, registration("Laurencekirk PA", &key)).await }
    });

    let answers = futures::future::join_all(attempts).await;

    let ids: std::collections::BTreeSet<String> = answers
        .into_iter()
        .map(|answer| answer.expect("every attempt is answered").id)
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let counts = app.row_counts().await;
    assert_eq!((counts.providers, counts.outbox), (1, 1));
}

#[tokio::test]
async fn a_provider_registering_itself_may_retry_with_its_request_id() {
    let app = TestApp::spawn().await;
    let token = new_provider_token();
    let first = register_as(&app, &token, registration("Auchenblae Crafts", "r1"))
        .await
        .unwrap();

    let retried = register_as(&app, &token, registration("Auchenblae Crafts", "r1")).await;
    let without_key = register_as(&app, &token, registration("Auchenblae Crafts", "")).await;

    assert_eq!(retried.expect("a retry").id, first.id);
    assert_code(without_key, Code::AlreadyExists);
}

#[tokio::test]
async fn a_malformed_request_id_is_refused_by_name() {
    let app = TestApp::spawn().await;
    for bad in ["two words", "tab\tinside", "ünïcode", &"k".repeat(101)] {
        let result = register_as(
            &app,
            &commissioning("aberdeenshire"),
            registration("Fordoun PA", bad),
        )
        .await;
        let message = assert_invalid(result, "request_id");
        assert!(message.contains("printable ASCII"), "{message}");
    }
    assert_eq!(app.row_counts().await.providers, 0);
}
