//! Assessment's index of the directory's providers, through the platform as `sds serve`
//! composes it: a provider the directory registers reaches the index through
//! `provider.registered`; an index lost or started late (the stream keeps events for 30
//! days) is rebuilt by the directory publishing every provider again.

use std::time::Duration;

use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_testkit::{
    PrivateNats, TestProcess, TestSettings, authority_staff, bearer, token_for, wait_until,
};
use sqlx::PgPool;

async fn indexed_number(pool: &PgPool, id: &str) -> Option<Option<String>> {
    sqlx::query_scalar(
        "SELECT care_inspectorate_number FROM known_provider WHERE provider_id = $1::uuid",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .expect("read the provider index")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_provider_index_is_rebuilt_when_the_directory_publishes_again() {
    let nats = PrivateNats::start().await;
    let process = TestProcess::start_with(
        sds::components(),
        TestSettings {
            nats_url: Some(nats.url()),
            ..TestSettings::default()
        },
    )
    .await;
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));
    let mut directory = DirectoryServiceClient::new(process.channel().await);
    let registered = directory
        .register_provider(bearer(
            &commissioning,
            proto::RegisterProviderRequest {
                details: Some(proto::ProviderDetails {
                    name: "Kingdom Home Support".into(),
                    kind: proto::ProviderKind::RegisteredCareService as i32,
                    care_inspectorate_number: "CS2004071234".into(),
                    service_types: vec!["Support services".into()],
                    localities: vec!["Fife".into()],
                    capacity: Some(40),
                    ..proto::ProviderDetails::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .expect("register")
        .into_inner();
    let index = process.pool(sds_assessment::SCHEMA);
    wait_until(
        Duration::from_secs(20),
        "the registration is indexed",
        || async { indexed_number(&index, &registered.id).await.map(|_| ()) },
    )
    .await;

    // The index is lost (a restore, or a service added after the stream dropped the event).
    sqlx::query("DELETE FROM known_provider")
        .execute(&index)
        .await
        .expect("lose the index");
    let republished = directory
        .republish_providers(bearer(&commissioning, proto::RepublishProvidersRequest {}))
        .await
        .expect("republish")
        .into_inner();

    assert_eq!(republished.providers, 1);
    let number = wait_until(Duration::from_secs(20), "the index is rebuilt", || async {
        indexed_number(&index, &registered.id).await
    })
    .await;
    assert_eq!(number.as_deref(), Some("CS2004071234"));
    process.shutdown().await;
}
