//! Writing events into the outbox inside the caller's transaction.

use prost::Message;
use sds_proto::v1::{Event, event::Body};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::subject::{SubjectError, subject_for};

/// An event about to be recorded; the envelope's id, time and trace context are added here.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `"<aggregate>.<event>"`, past tense: `"provider.registered"`.
    pub event_type: &'static str,
    pub authority: String,
    pub aggregate_type: &'static str,
    pub aggregate_id: String,
    pub aggregate_version: u64,
    pub body: Body,
}

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error(transparent)]
    Subject(#[from] SubjectError),
    #[error("insert outbox row: {0}")]
    Database(#[from] sqlx::Error),
}

/// The channel the relay listens on; a notification only wakes it, the table is the truth.
pub const OUTBOX_CHANNEL: &str = "sds_outbox";

/// Records `event` in the outbox as part of the caller's open transaction, so the event
/// exists if and only if the state change commits. Returns the event id.
pub async fn enqueue(connection: &mut PgConnection, event: NewEvent) -> Result<Uuid, EnqueueError> {
    let event_ids = enqueue_all(connection, vec![event]).await?;
    Ok(event_ids[0])
}

/// Records several events in one statement, in the caller's open transaction, in the
/// order given (a single relay publishes them in that order). Returns their ids in that order;
/// none for no events. All events of one call share the time and trace context.
pub async fn enqueue_all(
    connection: &mut PgConnection,
    events: Vec<NewEvent>,
) -> Result<Vec<Uuid>, EnqueueError> {
    if events.is_empty() {
        return Ok(Vec::new());
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
        subjects.push(subject_for(&event.authority, event.event_type)?);
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
    // WITH ORDINALITY keeps the caller's order in the identity column the relay sorts on.
    sqlx::query(
        "INSERT INTO outbox (event_id, subject, event_type, payload) \
         SELECT event_id, subject, event_type, payload \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bytea[]) WITH ORDINALITY \
              AS given(event_id, subject, event_type, payload, ordinal) \
         ORDER BY ordinal",
    )
    .bind(&event_ids)
    .bind(&subjects)
    .bind(&event_types)
    .bind(&payloads)
    .execute(&mut *connection)
    .await?;
    // Delivered only at commit, and dropped with a rollback: exactly what the relay needs.
    sqlx::query("SELECT pg_notify($1, current_schema())")
        .bind(OUTBOX_CHANNEL)
        .execute(&mut *connection)
        .await?;
    Ok(event_ids)
}
