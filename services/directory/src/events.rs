//! What the directory publishes: `provider.registered` when a provider joins the directory
//! and `provider.updated` after any later change, each carrying the whole provider as it is
//! after the change, under the authority `national` (the directory belongs to every
//! authority). Events are written to the outbox in the transaction of the change.

use chrono::NaiveDate;
use prost::Message as _;
use sds_events::NewEvent;
use sds_events::outbox::OUTBOX_CHANNEL;
use sds_events::subject::{NATIONAL, subject_for};
use sds_proto::v1::{Event, ProviderRegistered, ProviderUpdated, event::Body};
use sqlx::PgConnection;
use uuid::Uuid;

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
///
/// The envelope is built exactly as `sds_events::enqueue` builds it (id, time, trace
/// context); only the insert is batched. Move this into `sds-events` when a second
/// service needs it.
pub async fn publish_all(
    connection: &mut PgConnection,
    events: Vec<NewEvent>,
) -> Result<(), DirectoryError> {
    if events.is_empty() {
        return Ok(());
    }
    let (traceparent, tracestate) = sds_platform::telemetry::current_trace_context();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let occurred_at = prost_types::Timestamp {
        seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(now.subsec_nanos()).unwrap_or(0),
    };
    let mut event_ids = Vec::with_capacity(events.len());
    let mut subjects = Vec::with_capacity(events.len());
    let mut event_types = Vec::with_capacity(events.len());
    let mut payloads = Vec::with_capacity(events.len());
    for event in events {
        let event_id = Uuid::now_v7();
        subjects.push(
            subject_for(&event.authority, event.event_type)
                .map_err(|error| DirectoryError::Internal(error.into()))?,
        );
        event_types.push(event.event_type);
        let envelope = Event {
            event_id: event_id.to_string(),
            event_type: event.event_type.to_owned(),
            authority: event.authority,
            aggregate_type: event.aggregate_type.to_owned(),
            aggregate_id: event.aggregate_id,
            aggregate_version: event.aggregate_version,
            occurred_at: Some(occurred_at),
            traceparent: traceparent.clone(),
            tracestate: tracestate.clone(),
            body: Some(event.body),
        };
        payloads.push(envelope.encode_to_vec());
        event_ids.push(event_id);
    }
    sqlx::query(
        "INSERT INTO outbox (event_id, subject, event_type, payload) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bytea[])",
    )
    .bind(&event_ids)
    .bind(&subjects)
    .bind(&event_types)
    .bind(&payloads)
    .execute(&mut *connection)
    .await?;
    // Delivered at commit only, like the notification of a single enqueue.
    sqlx::query("SELECT pg_notify($1, current_schema())")
        .bind(OUTBOX_CHANNEL)
        .execute(&mut *connection)
        .await?;
    Ok(())
}
