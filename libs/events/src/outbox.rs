//! Writing events into the outbox inside the caller's transaction.

use std::sync::Arc;

use prost::Message;
use sds_proto::v1::{Event, event::Body};
use sqlx::PgConnection;
use tokio::sync::Notify;
use uuid::Uuid;

use sds_vocabulary::{AuthorityId, NamedEnum};

use crate::event_type::EventType;
use crate::subject::subject_for;

/// An event about to be recorded; the envelope's id, time and trace context are added when
/// it is enqueued. Its type and aggregate type follow from its body, so they cannot
/// contradict it.
#[derive(Debug, Clone)]
pub struct NewEvent {
    authority: AuthorityId,
    aggregate_id: String,
    aggregate_version: u64,
    body: Body,
}

impl NewEvent {
    /// The fact `body` about version `aggregate_version` of aggregate `aggregate_id`,
    /// belonging to `authority` (or [`AuthorityId::national`]).
    pub fn new(
        authority: AuthorityId,
        aggregate_id: impl Into<String>,
        aggregate_version: u64,
        body: Body,
    ) -> NewEvent {
        NewEvent {
            authority,
            aggregate_id: aggregate_id.into(),
            aggregate_version,
            body,
        }
    }

    pub fn event_type(&self) -> EventType {
        EventType::of(&self.body)
    }

    pub fn authority(&self) -> &AuthorityId {
        &self.authority
    }

    pub fn aggregate_id(&self) -> &str {
        &self.aggregate_id
    }

    pub fn aggregate_version(&self) -> u64 {
        self.aggregate_version
    }

    pub fn body(&self) -> &Body {
        &self.body
    }
}

#[derive(Debug, thiserror::Error)]
#[error("insert outbox row: {0}")]
pub struct EnqueueError(#[from] sqlx::Error);

impl EnqueueError {
    /// The database's error, for a caller that tells an unavailable database from others.
    pub fn into_database_error(self) -> sqlx::Error {
        self.0
    }
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
///
/// The commit announces the rows (`NOTIFY`), which wakes a relay in any process.
pub async fn enqueue_all(
    connection: &mut PgConnection,
    events: Vec<NewEvent>,
) -> Result<Vec<Uuid>, EnqueueError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    // The rows and their announcement in one round trip. A notification is delivered only
    // at commit and dropped with a rollback: exactly what the relay needs.
    static INSERT_AND_NOTIFY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "WITH inserted AS ({}) SELECT pg_notify($5, current_schema())",
            rows_insert(1)
        )
    });
    let rows = OutboxRows::of(events);
    sqlx::query(sqlx::AssertSqlSafe(INSERT_AND_NOTIFY.as_str()))
        .bind(&rows.event_ids)
        .bind(&rows.subjects)
        .bind(&rows.event_types)
        .bind(&rows.payloads)
        .bind(OUTBOX_CHANNEL)
        .execute(&mut *connection)
        .await?;
    Ok(rows.event_ids)
}

/// [`enqueue_all`] without the `NOTIFY`, for a writer whose commits must not queue behind
/// each other: PostgreSQL serialises the commits of every notifying transaction in the
/// cluster (one lock, held through the commit's WAL flush), which on a busy ledger costs a
/// third of its postings. After the commit the caller rings its process's [`OutboxBell`];
/// if it never does (it crashed in between), the rows wait for a relay's next poll.
pub async fn enqueue_all_unannounced(
    connection: &mut PgConnection,
    events: Vec<NewEvent>,
) -> Result<Vec<Uuid>, EnqueueError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    static INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| rows_insert(1));
    let rows = OutboxRows::of(events);
    sqlx::query(sqlx::AssertSqlSafe(INSERT.as_str()))
        .bind(&rows.event_ids)
        .bind(&rows.subjects)
        .bind(&rows.event_types)
        .bind(&rows.payloads)
        .execute(&mut *connection)
        .await?;
    Ok(rows.event_ids)
}

/// Events as outbox rows, column by column, for a writer that records them as one part of
/// a larger statement (saving a round trip on a hot path): it binds the four columns as
/// arrays, in this order, at the parameters [`rows_insert`] names. Like
/// [`enqueue_all_unannounced`], nothing announces them.
#[derive(Debug, Clone, Default)]
pub struct OutboxRows {
    pub event_ids: Vec<Uuid>,
    pub subjects: Vec<String>,
    pub event_types: Vec<&'static str>,
    pub payloads: Vec<Vec<u8>>,
}

impl OutboxRows {
    /// Each event in its envelope, with its id, time and trace context. All events share
    /// the time and trace context.
    pub fn of(events: Vec<NewEvent>) -> OutboxRows {
        let (traceparent, tracestate) = sds_platform::telemetry::current_trace_context();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let occurred_at = prost_types::Timestamp {
            seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(now.subsec_nanos()).unwrap_or(0),
        };
        let mut rows = OutboxRows::default();
        for event in events {
            let event_id = Uuid::now_v7();
            let event_type = event.event_type();
            rows.subjects
                .push(subject_for(&event.authority, event_type));
            rows.event_types.push(event_type.name());
            let envelope = Event {
                event_id: event_id.to_string(),
                event_type: event_type.name().to_owned(),
                authority: event.authority.as_str().to_owned(),
                aggregate_type: event_type.aggregate_type().to_owned(),
                aggregate_id: event.aggregate_id,
                aggregate_version: event.aggregate_version,
                occurred_at: Some(occurred_at),
                traceparent: traceparent.clone(),
                tracestate: tracestate.clone(),
                body: Some(event.body),
            };
            rows.payloads.push(envelope.encode_to_vec());
            rows.event_ids.push(event_id);
        }
        rows
    }
}

/// A `WITH` part (or a statement of its own) inserting [`OutboxRows`] bound at parameters
/// `$first` to `$first + 3`, in the order given: `WITH ORDINALITY` keeps that order in the
/// identity column the relay sorts on.
pub fn rows_insert(first: usize) -> String {
    let [ids, subjects, types, payloads] = [first, first + 1, first + 2, first + 3];
    format!(
        "INSERT INTO outbox (event_id, subject, event_type, payload) \
         SELECT event_id, subject, event_type, payload \
         FROM UNNEST(${ids}::uuid[], ${subjects}::text[], ${types}::text[], ${payloads}::bytea[]) \
              WITH ORDINALITY AS given(event_id, subject, event_type, payload, ordinal) \
         ORDER BY ordinal"
    )
}

/// Wakes the relay of this process for its service's schema: rung after the commit of
/// rows written by [`enqueue_all_unannounced`]. Ringing while the relay is busy makes it
/// look once more when it is done, so no commit is missed; ringing often costs nothing.
#[derive(Debug, Clone, Default)]
pub struct OutboxBell(Arc<Notify>);

impl OutboxBell {
    pub fn new() -> OutboxBell {
        OutboxBell::default()
    }

    pub fn ring(&self) {
        self.0.notify_one();
    }

    pub(crate) fn notify(&self) -> Arc<Notify> {
        Arc::clone(&self.0)
    }
}
