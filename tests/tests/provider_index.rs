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

mod support;
use support::{indexed_number, register_indexed_care_service};

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
    let registered = register_indexed_care_service(
        &process,
        &commissioning,
        "Kingdom Home Support",
        "CS2004071234",
    )
    .await;
    let index = process.pool(sds_assessment::SCHEMA);
    let mut directory = DirectoryServiceClient::new(process.channel().await);

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
