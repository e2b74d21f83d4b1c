//! Consumer `portal-providers`: keeps the portal's copy of where each provider works and in
//! what, from provider.registered and provider.updated.

use sds_events::{EventHandler, EventType, HandlerError, Received};
use sds_proto::v1 as proto;
use sds_proto::v1::event::Body;
use sqlx::PgConnection;

use super::{id, transient, unexpected, unreadable};
use crate::store::providers::{self, KnownProvider};

#[derive(Debug, Clone, Default)]
pub struct ProviderCopyHandler;

impl EventHandler for ProviderCopyHandler {
    const HANDLES: &'static [EventType] =
        &[EventType::ProviderRegistered, EventType::ProviderUpdated];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        let provider = match body {
            Body::ProviderRegistered(registered) => registered.provider,
            Body::ProviderUpdated(updated) => updated.provider,
            _ => return Err(unexpected(event)),
        }
        .ok_or_else(|| unreadable(event, "provider", "missing"))?;
        let details = provider.details.unwrap_or_default();
        let known = KnownProvider {
            id: id(event, "provider.id", &provider.id)?,
            service_types: details.service_types,
            localities: details.localities,
            // Only the Care Inspectorate import marks a service inactive; every other
            // provider is active.
            active: provider.care_service_status != proto::CareServiceStatus::Inactive as i32,
            version: provider.version.max(1),
        };
        providers::remember(transaction, &known)
            .await
            .map_err(transient)?;
        Ok(())
    }
}
