//! Per-principal rate limits (`SDS_RATE_LIMIT_PER_SECOND`, `SDS_RATE_LIMIT_BURST`): a
//! caller over its rate is answered `ResourceExhausted` with the time to wait, while every
//! other caller, and the platform's own services, go on being served.

use sds_platform::{OrgKind, Principal};
use sds_proto::v1 as proto;
use sds_testkit::{bearer, token_for};
use tonic::Code;

use crate::support::*;

async fn get(app: &TestApp, token: &str, id: &str) -> Result<proto::Provider, tonic::Status> {
    app.client()
        .get_provider(bearer(
            token,
            proto::GetProviderRequest { id: id.to_owned() },
        ))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_caller_over_its_rate_is_told_to_wait_while_others_are_served() {
    // One request a second after a burst of three.
    let app = TestApp::spawn_with_environment(vec![
        ("SDS_RATE_LIMIT_PER_SECOND", "1".to_owned()),
        ("SDS_RATE_LIMIT_BURST", "3".to_owned()),
    ])
    .await;
    let (provider, own_token) = app
        .provider_registers_itself(details("Banchory Music Lessons"))
        .await;
    let greedy = holder_token();

    for _ in 0..3 {
        get(&app, &greedy, &provider.id)
            .await
            .expect("within the burst");
    }
    let refused = get(&app, &greedy, &provider.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().starts_with(
            "rate limit: this caller may make 1 requests a second (bursts of 3); retry in "
        ),
        "{}",
        refused.message()
    );
    let wait: u64 = refused
        .metadata()
        .get("grpc-retry-pushback-ms")
        .expect("the wait, for clients with a retry policy")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1000).contains(&wait), "{wait} ms");

    // Others are not held back by it: another organisation, and the platform's own
    // services however often they call.
    get(&app, &any_provider_token(), &provider.id)
        .await
        .expect("another caller");
    get(&app, &own_token, &provider.id)
        .await
        .expect("the provider itself (its registration took one of its own requests)");
    let payments = token_for(&Principal {
        org_id: "sds-payments".into(),
        org_kind: OrgKind::Authority,
        roles: Vec::new(),
        authorities: vec![sds_platform::AuthorityId::parse("authority", "aberdeenshire").unwrap()],
        person_id: None,
    });
    for _ in 0..10 {
        get(&app, &payments, &provider.id)
            .await
            .expect("the platform's own service");
    }

    // After the wait it names, the refused caller is served again.
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    get(&app, &greedy, &provider.id)
        .await
        .expect("served again after the wait");
}

#[tokio::test]
async fn off_lifts_the_limit() {
    let app =
        TestApp::spawn_with_environment(vec![("SDS_RATE_LIMIT_PER_SECOND", "off".to_owned())])
            .await;
    let (provider, _) = app.provider_registers_itself(details("Crathes Care")).await;
    let caller = holder_token();
    // Past the default burst (1000) at once.
    let calls = (0..1_100).map(|_| get(&app, &caller, &provider.id));
    for result in futures::future::join_all(calls).await {
        result.expect("no limit");
    }
}
