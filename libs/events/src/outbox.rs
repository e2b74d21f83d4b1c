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
    let subject = subject_for(&event.authority, event.event_type)?;
    let event_id = Uuid::now_v7();
    let (traceparent, tracestate) = sds_platform::telemetry::current_trace_context();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let envelope = Event {
        event_id: event_id.to_string(),
        event_type: event.event_type.to_owned(),
        authority: event.authority,
        aggregate_type: event.aggregate_type.to_owned(),
        aggregate_id: event.aggregate_id,
        aggregate_version: event.aggregate_version,
        occurred_at: Some(prost_types::Timestamp {
            seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(now.subsec_nanos()).unwrap_or(0),
        }),
        traceparent,
        tracestate,
        body: Some(event.body),
    };
    sqlx::query(
        "INSERT INTO outbox (event_id, subject, event_type, payload) VALUES ($1, $2, $3, $4)",
    )
    .bind(event_id)
    .bind(&subject)
    .bind(event.event_type)
    .bind(envelope.encode_to_vec())
    .execute(&mut *connection)
    .await?;
    // Delivered only at commit, and dropped with a rollback: exactly what the relay needs.
    sqlx::query("SELECT pg_notify($1, current_schema())")
        .bind(OUTBOX_CHANNEL)
        .execute(&mut *connection)
        .await?;
    Ok(event_id)
}
