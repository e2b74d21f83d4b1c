//! The pattern every later service copies, end to end: a change committed through gRPC,
//! its event written in the same transaction, relayed to JetStream, and applied exactly
//! once by another service's durable consumer in its own schema. No order is promised,
//! so what the consumer was told is compared by version.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sds_events::{ConsumerConfig, EventHandler, HandlerError, Relay, RelayConfig, run_consumer};
use sds_platform::server::ServiceSet;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::{
    Event, ProviderDetails, ProviderKind, RegisterProviderRequest, UpdateProviderRequest,
    event::Body,
};
use sds_testkit::{
    PrivateNats, SpawnedService, bearer, fresh_database, provider_org, token_for, wait_until,
};
use sqlx::{PgConnection, PgPool};
use tokio::sync::oneshot;

/// A stand-in for the provider portal: it remembers which provider versions it was told of.
#[derive(Clone, Default)]
struct PortalInbox {
    handled: Arc<AtomicUsize>,
}

impl EventHandler for PortalInbox {
    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Event,
    ) -> Result<(), HandlerError> {
        let (provider_id, version, change) = match &event.body {
            Some(Body::ProviderRegistered(registered)) => (
                registered.provider.as_ref(),
                event.aggregate_version,
                "registered",
            ),
            Some(Body::ProviderUpdated(updated)) => (
                updated.provider.as_ref(),
                event.aggregate_version,
                "updated",
            ),
            None => {
                return Err(HandlerError::Permanent(anyhow::anyhow!(
                    "event without a body"
                )));
            }
        };
        let provider_id = provider_id
            .map(|provider| provider.id.clone())
            .unwrap_or_default();
        sqlx::query("INSERT INTO told (provider_id, version, change) VALUES ($1, $2, $3)")
            .bind(provider_id)
            .bind(i64::try_from(version).unwrap_or(i64::MAX))
            .bind(change)
            .execute(&mut *transaction)
            .await?;
        self.handled.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

async fn told(pool: &PgPool) -> Vec<(String, i64, String)> {
    sqlx::query_as("SELECT provider_id, version, change FROM told ORDER BY version")
        .fetch_all(pool)
        .await
        .expect("read what the portal was told")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_registration_and_update_reach_another_service_exactly_once() {
    sds_testkit::init_test_logging();
    let database = fresh_database().await;
    let directory_pool = database.pool_for_schema(sds_directory::SCHEMA).await;
    sds_directory::migrate(&directory_pool)
        .await
        .expect("migrate directory");
    let portal_pool = database.pool_for_schema("portal_test").await;
    sds_events::migrate(&portal_pool)
        .await
        .expect("migrate portal inbox");
    sqlx::query("CREATE TABLE told (provider_id text NOT NULL, version bigint NOT NULL, change text NOT NULL)")
        .execute(&portal_pool)
        .await
        .expect("create portal table");

    let nats = PrivateNats::start().await;
    let jetstream =
        async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("connect NATS"));
    sds_events::ensure_stream(&jetstream)
        .await
        .expect("events stream");

    let (stop_relay, relay_stopped) = oneshot::channel::<()>();
    let relay = tokio::spawn(
        Relay::new(
            directory_pool.clone(),
            jetstream.clone(),
            RelayConfig::default(),
        )
        .run(async {
            let _ = relay_stopped.await;
        }),
    );
    let portal = PortalInbox::default();
    let (stop_consumer, consumer_stopped) = oneshot::channel::<()>();
    let consumer = tokio::spawn(run_consumer(
        portal_pool.clone(),
        jetstream.clone(),
        ConsumerConfig::new("portal-provider-registered", "sds.*.provider.>"),
        portal.clone(),
        async {
            let _ = consumer_stopped.await;
        },
    ));

    let directory = SpawnedService::spawn(ServiceSet::new().add(sds_directory::grpc_service(
        directory_pool.clone(),
        sds_testkit::test_authenticator(),
    )))
    .await;
    let mut client = DirectoryServiceClient::new(directory.channel().await);
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

    let _ = stop_relay.send(());
    let _ = stop_consumer.send(());
    relay
        .await
        .expect("relay task")
        .expect("relay stopped cleanly");
    consumer
        .await
        .expect("consumer task")
        .expect("consumer stopped cleanly");
    directory.shutdown().await;
}
