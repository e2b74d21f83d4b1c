//! What the directory publishes: `provider.registered` when a provider joins the directory
//! and `provider.updated` after any later change, each carrying the whole provider as it is
//! after the change, under the authority `national` (the directory belongs to every
//! authority). Events are written to the outbox in the transaction of the change.

use chrono::NaiveDate;
use sds_events::NewEvent;
use sds_events::subject::NATIONAL;
use sds_proto::v1::{ProviderRegistered, ProviderUpdated, event::Body};
use sqlx::PgConnection;

use crate::domain::{ChangeName, ProviderRecord};
use crate::error::DirectoryError;
use crate::grpc::convert::provider_message;

pub const PROVIDER_REGISTERED: &str = "provider.registered";
pub const PROVIDER_UPDATED: &str = "provider.updated";
pub const AGGREGATE_TYPE: &str = "provider";

/// `provider.registered` for a provider just added.
pub fn registered(record: &ProviderRecord, today: NaiveDate) -> NewEvent {
    NewEvent {
        event_type: PROVIDER_REGISTERED,
        authority: NATIONAL.to_owned(),
        aggregate_type: AGGREGATE_TYPE,
        aggregate_id: record.id.to_string(),
        aggregate_version: record.version,
        body: Body::ProviderRegistered(ProviderRegistered {
            provider: Some(provider_message(record, today)),
        }),
    }
}

/// `provider.updated` for a provider just changed, naming what kind of change it was.
pub fn updated(record: &ProviderRecord, change: ChangeName, today: NaiveDate) -> NewEvent {
    NewEvent {
        event_type: PROVIDER_UPDATED,
        authority: NATIONAL.to_owned(),
        aggregate_type: AGGREGATE_TYPE,
        aggregate_id: record.id.to_string(),
        aggregate_version: record.version,
        body: Body::ProviderUpdated(ProviderUpdated {
            provider: Some(provider_message(record, today)),
            change: change.as_str().to_owned(),
        }),
    }
}

/// Writes one event to the outbox in the caller's transaction.
pub async fn publish(connection: &mut PgConnection, event: NewEvent) -> Result<(), DirectoryError> {
    sds_events::enqueue(connection, event).await?;
    Ok(())
}

/// Writes many events to the outbox with one statement, in the caller's transaction.
pub async fn publish_all(
    connection: &mut PgConnection,
    events: Vec<NewEvent>,
) -> Result<(), DirectoryError> {
    sds_events::enqueue_all(connection, events).await?;
    Ok(())
}
