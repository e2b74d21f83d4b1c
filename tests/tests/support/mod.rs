//! What the system tests share: a stand-in for a service that reacts to provider events,
//! declared as a service unit the way a real service declares its consumers, so that it is
//! composed with `sds::components()` through the same build as `sds serve`.

// Each test binary uses only part of this module.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sds_events::{Body, EventHandler, EventType, HandlerError, Received};
use sds_runtime::Component;
use sds_testkit::{PrivateNats, TestProcess, TestSettings};
use sqlx::{PgConnection, PgPool};

pub mod plans;
pub mod spans;
pub mod split;

static STAND_IN_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./fixtures/portal_stand_in");

/// The stand-in's schema.
pub const STAND_IN_SCHEMA: &str = "portal_test";

/// A stand-in for the provider portal: it records every provider event it applies, one row
/// per event, so that an event applied twice would show twice.
#[derive(Clone, Default)]
pub struct PortalInbox {
    pub handled: Arc<AtomicUsize>,
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
            other => {
                return Err(HandlerError::Permanent(anyhow::anyhow!(
                    "the stand-in subscribes to provider events only, not {}",
                    sds_events::EventType::of(&other)
                )));
            }
        };
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

/// The stand-in as a service unit with one durable consumer.
pub fn portal_stand_in(portal: PortalInbox) -> Component {
    Component::new("portal-stand-in", STAND_IN_SCHEMA, &STAND_IN_MIGRATOR)
        .consumer("portal-stand-in-providers", move |_context| portal)
}

/// What the stand-in was told, by version.
pub async fn told(pool: &PgPool) -> Vec<(String, i64, String)> {
    sqlx::query_as("SELECT provider_id, version, change FROM told ORDER BY version")
        .fetch_all(pool)
        .await
        .expect("read what the portal was told")
}

/// Every service of `sds serve` plus the stand-in, composed by the same build, relaying to
/// a NATS server of the test's own (returned so that it lives as long as the process).
pub async fn platform_with_stand_in(portal: PortalInbox) -> (TestProcess, PrivateNats) {
    let nats = PrivateNats::start().await;
    let mut components = sds::components();
    components.push(portal_stand_in(portal));
    let process = TestProcess::start_with(
        components,
        TestSettings {
            nats_url: Some(nats.url()),
            ..TestSettings::default()
        },
    )
    .await;
    (process, nats)
}

/// Registers a care service in the directory as commissioning staff would, and waits until
/// assessment's provider index has heard of it through `provider.registered`.
pub async fn register_indexed_care_service(
    process: &TestProcess,
    commissioning: &str,
    name: &str,
    number: &str,
) -> sds_proto::v1::Provider {
    register_indexed_on(
        process.channel().await,
        &process.pool(sds_assessment::SCHEMA),
        commissioning,
        name,
        number,
    )
    .await
}

/// [`register_indexed_care_service`] with the directory on `directory` and assessment's
/// schema read through `index`, wherever the two run.
pub async fn register_indexed_on(
    directory: tonic::transport::Channel,
    index: &PgPool,
    commissioning: &str,
    name: &str,
    number: &str,
) -> sds_proto::v1::Provider {
    use sds_proto::v1 as proto;
    let registered = proto::directory_service_client::DirectoryServiceClient::new(directory)
        .register_provider(sds_testkit::bearer(
            commissioning,
            proto::RegisterProviderRequest {
                details: Some(proto::ProviderDetails {
                    name: name.into(),
                    kind: proto::ProviderKind::RegisteredCareService as i32,
                    care_inspectorate_number: number.into(),
                    service_types: vec!["Support services".into()],
                    localities: vec!["Fife".into()],
                    capacity: Some(40),
                    ..proto::ProviderDetails::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .expect("register the provider")
        .into_inner();
    sds_testkit::wait_until(
        std::time::Duration::from_secs(20),
        "assessment's index has the registered provider",
        || async { indexed_number(index, &registered.id).await.map(|_| ()) },
    )
    .await;
    registered
}

/// The Care Inspectorate number assessment's index holds for a provider, if it has a row.
pub async fn indexed_number(index: &PgPool, provider_id: &str) -> Option<Option<String>> {
    sqlx::query_scalar(
        "SELECT care_inspectorate_number FROM known_provider WHERE provider_id = $1::uuid",
    )
    .bind(provider_id)
    .fetch_optional(index)
    .await
    .expect("read the provider index")
}
