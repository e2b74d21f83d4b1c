//! The pattern every later service copies, end to end, composed exactly as `sds serve`
//! composes the platform: every service of [`sds::components`] plus a stand-in portal
//! component with a durable consumer, through the one `sds_runtime::build`. A change
//! committed through gRPC writes its event in the same transaction; the process's relay
//! publishes it to JetStream; the stand-in's consumer, run by the process, applies it
//! exactly once in its own schema. No order is promised, so what the consumer was told is
//! compared by version.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::{
    ProviderDetails, ProviderKind, RegisterProviderRequest, UpdateProviderRequest,
};
use sds_testkit::{bearer, provider_org, token_for, wait_until};
use support::{PortalInbox, STAND_IN_SCHEMA, platform_with_stand_in, told};

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_registration_and_update_reach_a_consumer_running_inside_sds_serve_exactly_once()
{
    let portal = PortalInbox::default();
    let (process, _nats) = platform_with_stand_in(portal.clone()).await;
    let directory_pool = process.pool(sds_directory::SCHEMA);
    let portal_pool = process.pool(STAND_IN_SCHEMA);

    let mut client = DirectoryServiceClient::new(process.channel().await);
    let provider_id = uuid::Uuid::now_v7().to_string();
    let token = token_for(&provider_org(&provider_id));
    let details = ProviderDetails {
        name: "Garioch Gardening Group".into(),
        kind: ProviderKind::CommunityGroup as i32,
        localities: vec!["Aberdeenshire".into()],
        ..Default::default()
    };
    client
        .register_provider(bearer(
            &token,
            RegisterProviderRequest {
                details: Some(details.clone()),
                request_id: String::new(),
            },
        ))
        .await
        .expect("register");
    client
        .update_provider(bearer(
            &token,
            UpdateProviderRequest {
                id: provider_id.clone(),
                details: Some(ProviderDetails {
                    capacity: Some(8),
                    ..details
                }),
                expected_version: Some(1),
            },
        ))
        .await
        .expect("update");

    wait_until(
        Duration::from_secs(20),
        "the portal has been told of both changes",
        || {
            let portal_pool = portal_pool.clone();
            async move { (told(&portal_pool).await.len() >= 2).then_some(()) }
        },
    )
    .await;
    // Let any duplicate that was going to arrive arrive: the relay has nothing left to send.
    wait_until(Duration::from_secs(10), "the outbox is empty", || {
        let directory_pool = directory_pool.clone();
        async move {
            let pending: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&directory_pool)
                    .await
                    .ok()?;
            (pending == 0).then_some(())
        }
    })
    .await;

    assert_eq!(
        told(&portal_pool).await,
        vec![
            (provider_id.clone(), 1, "registered".to_owned()),
            (provider_id, 2, "updated".to_owned())
        ]
    );
    assert_eq!(portal.handled.load(Ordering::SeqCst), 2);

    process.shutdown().await;
}
