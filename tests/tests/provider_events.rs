//! The pattern every later service copies, end to end, composed exactly as `sds serve`
//! composes the platform: every service of [`sds::components`] plus a stand-in portal
//! component with a durable consumer, through the one `sds_runtime::build`. A change
//! committed through gRPC writes its event in the same transaction; the process's relay
//! publishes it to JetStream; the stand-in's consumer, run by the process, applies it
//! exactly once in its own schema. No order is promised, so what the consumer was told is
//! compared by version.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sds_events::{Body, EventHandler, EventType, HandlerError, Received};
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::{
    ProviderDetails, ProviderKind, RegisterProviderRequest, UpdateProviderRequest,
};
use sds_runtime::Component;
use sds_testkit::{
    PrivateNats, TestProcess, TestSettings, bearer, provider_org, token_for, wait_until,
};
use sqlx::{PgConnection, PgPool};

static STAND_IN_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./fixtures/portal_stand_in");

/// A stand-in for the provider portal: it remembers which provider versions it was told of,
/// ignoring any older version that arrives after a newer one.
#[derive(Clone, Default)]
struct PortalInbox {
    handled: Arc<AtomicUsize>,
}

impl EventHandler for PortalInbox {
    const HANDLES: &'static [EventType] =
        &[EventType::ProviderRegistered, EventType::ProviderUpdated];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        let (provider, change) = match body {
            Body::ProviderRegistered(registered) => (registered.provider, "registered"),
            Body::ProviderUpdated(updated) => (updated.provider, "updated"),
        };
        if !event.is_newest_seen(transaction).await? {
            return Ok(());
        }
        let provider_id = provider.map(|provider| provider.id).unwrap_or_default();
        sqlx::query("INSERT INTO told (provider_id, version, change) VALUES ($1, $2, $3)")
            .bind(provider_id)
            .bind(i64::try_from(event.aggregate_version).unwrap_or(i64::MAX))
            .bind(change)
            .execute(&mut *transaction)
            .await?;
        self.handled.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// The stand-in as a service unit, the way a real service declares its consumers.
fn portal_stand_in(portal: PortalInbox) -> Component {
    Component::new("portal-stand-in", "portal_test", &STAND_IN_MIGRATOR)
        .consumer("portal-stand-in-providers", move |_context| portal)
}

async fn told(pool: &PgPool) -> Vec<(String, i64, String)> {
    sqlx::query_as("SELECT provider_id, version, change FROM told ORDER BY version")
        .fetch_all(pool)
        .await
        .expect("read what the portal was told")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_registration_and_update_reach_a_consumer_running_inside_sds_serve_exactly_once()
{
    let nats = PrivateNats::start().await;
    let portal = PortalInbox::default();
    let mut components = sds::components();
    components.push(portal_stand_in(portal.clone()));
    let process = TestProcess::start_with(
        components,
        TestSettings {
            nats_url: Some(nats.url()),
            ..TestSettings::default()
        },
    )
    .await;
    let directory_pool = process.pool(sds_directory::SCHEMA);
    let portal_pool = process.pool("portal_test");

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
