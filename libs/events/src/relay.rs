//! The relay: publishes committed outbox rows of one service schema to JetStream.
//!
//! One round claims the oldest unpublished rows with `FOR UPDATE SKIP LOCKED`, publishes
//! each with `Nats-Msg-Id` = event id, waits for every ack, marks the rows published and
//! commits. With a backlog, rounds overlap (see `Relay::drain`). What must stay true:
//!
//! - a row is marked published only after JetStream acknowledged it, so nothing is lost;
//! - a crash after the publish but before the commit leaves the row unpublished, and the
//!   next round publishes it again with the same `Nats-Msg-Id`, which JetStream drops
//!   within its duplicate window (consumers' inbox tables cover anything older);
//! - several relays on one schema never claim the same row at once (`SKIP LOCKED`);
//! - the relay provisions the events stream itself: once as it starts, and again after
//!   every failed round, so neither a first start against an empty NATS nor a stream that
//!   has gone (NATS restarted with an empty store) waits for a restart of the service;
//! - each batch is published in a root span of its own, linked to the trace of every event
//!   in it (the trace context stored in the envelope), so a trace viewer leads from a
//!   change to the publish of its event.
//!
//! Order: one relay publishes rows in the order they were inserted. Several relays on one
//! schema, or a batch that failed and is retried, can put a later event ahead of an earlier
//! one, so consumers must not rely on order; events carry the aggregate version for that.
//!
//! The relay wakes on `LISTEN sds_outbox` (sent by [`crate::enqueue`] at commit), on its
//! process's [`OutboxBell`] (rung after commits that did not notify), and also polls, so a
//! lost notification or a broken listener connection only delays an event.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use futures::FutureExt as _;
use prost::Message as _;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tracing::{Instrument as _, debug, info_span, warn};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use uuid::Uuid;

use crate::outbox::{OUTBOX_CHANNEL, OutboxBell};
use crate::stream::EVENTS_STREAM;

/// How a relay claims, waits and retries.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Rows claimed, published and marked per round (one transaction).
    pub batch_size: usize,
    /// How often to look for work when no notification arrives.
    pub poll_interval: Duration,
    /// First pause after a failed round; doubled after every further failure.
    pub min_backoff: Duration,
    /// The longest pause between failed rounds.
    pub max_backoff: Duration,
    /// How long the caller waits for [`Relay::run`] to return once it signalled shutdown,
    /// before giving up on it. `run` itself does not read it: it stops after the batch in
    /// hand, and this bounds that wait when the database or NATS hangs.
    pub stop_timeout: Duration,
    /// The events stream's duplicate window, which the relay provisions: the longest it may
    /// be away between publishing a batch and marking it without leaving duplicates.
    pub duplicate_window: Duration,
    /// The events stream's copies on a NATS cluster (`SDS_EVENTS_REPLICAS`), which the relay
    /// provisions.
    pub stream_replicas: usize,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            poll_interval: Duration::from_secs(1),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            stop_timeout: Duration::from_secs(10),
            duplicate_window: crate::DEFAULT_DUPLICATE_WINDOW,
            stream_replicas: 1,
        }
    }
}

/// Publishes the outbox of the schema that `pool` works in (see `sds_platform::db::connect`).
#[derive(Debug, Clone)]
pub struct Relay {
    pool: PgPool,
    jetstream: jetstream::Context,
    config: RelayConfig,
    bell: OutboxBell,
}

/// The trace context of an `sds.v1.Event` envelope, decoded without the rest of it: prost
/// skips the other fields, so the relay does not pay for decoding bodies it only forwards.
/// The tags must match `proto/sds/v1/events.proto`; a test checks them against `Event`.
#[derive(Clone, PartialEq, prost::Message)]
struct EnvelopeTraceContext {
    #[prost(string, tag = "8")]
    traceparent: String,
    #[prost(string, tag = "9")]
    tracestate: String,
}

/// A claimed outbox row; only the relay reads these.
#[derive(sqlx::FromRow)]
struct PendingRow {
    event_id: Uuid,
    subject: String,
    payload: Vec<u8>,
}

/// Rows locked by the open transaction that claimed them, not yet published.
struct ClaimedBatch {
    transaction: sqlx::Transaction<'static, sqlx::Postgres>,
    rows: Vec<PendingRow>,
}

/// Rows acknowledged by JetStream, still locked by the transaction that claimed them.
struct PublishedBatch {
    transaction: sqlx::Transaction<'static, sqlx::Postgres>,
    event_ids: Vec<Uuid>,
    span: tracing::Span,
}

impl PublishedBatch {
    /// Marks the rows published with one statement and commits the claim.
    async fn mark_published(mut self) -> anyhow::Result<usize> {
        let span = self.span.clone();
        async {
            sqlx::query("UPDATE outbox SET published_at = now() WHERE event_id = ANY($1)")
                .bind(&self.event_ids)
                .execute(&mut *self.transaction)
                .await
                .context("mark outbox rows published")?;
            self.transaction
                .commit()
                .await
                .context("commit published outbox rows")?;
            Ok(self.event_ids.len())
        }
        .instrument(span)
        .await
    }
}

async fn mark_if_any(batch: Option<PublishedBatch>) -> anyhow::Result<usize> {
    match batch {
        Some(batch) => batch.mark_published().await,
        None => Ok(0),
    }
}

impl Relay {
    /// A relay holds up to three connections of `pool` while draining a backlog, and one
    /// more for listening.
    pub fn new(pool: PgPool, jetstream: jetstream::Context, config: RelayConfig) -> Self {
        Self {
            pool,
            jetstream,
            config,
            bell: OutboxBell::new(),
        }
    }

    /// Wakes on `bell` too: the bell its process's writers ring after committing rows they
    /// did not announce (see [`crate::enqueue_all_unannounced`]).
    pub fn with_bell(mut self, bell: OutboxBell) -> Self {
        self.bell = bell;
        self
    }

    /// One round: claims up to `batch_size` unpublished rows, publishes them, waits for all
    /// acks and marks them published. Returns how many rows were published. On a failed
    /// publish or ack nothing is marked; the attempt is recorded on the rows and the error
    /// returned, and a later round publishes them again.
    pub async fn publish_pending_once(&self) -> anyhow::Result<usize> {
        let Some(claimed) = self.claim().await? else {
            return Ok(0);
        };
        self.publish(claimed).await?.mark_published().await
    }

    /// Publishes until the outbox is empty and returns how many rows it published, with
    /// the rounds overlapped as described at [`Relay::drain`].
    pub async fn publish_all_pending(&self) -> anyhow::Result<usize> {
        self.drain(|| true).await
    }

    /// Publishes rounds while they come back full and `keep_going` says so. Three batches
    /// are in flight at once: batch N is marked while batch N+1 is published and batch N+2
    /// is claimed, each in its own transaction. This stays correct because
    ///
    /// - a claim skips rows another open claim has locked and rows already marked, so no
    ///   row is in two batches;
    /// - batch N+1 is sent only once every ack of batch N is in, so one relay keeps the
    ///   order in which it claimed rows;
    /// - a batch that fails anywhere is rolled back, so its rows are published again later
    ///   with the same `Nats-Msg-Id` and deduplicated.
    async fn drain(&self, mut keep_going: impl FnMut() -> bool) -> anyhow::Result<usize> {
        let mut marked_total = 0;
        let mut to_publish = self.claim().await?;
        let mut to_mark: Option<PublishedBatch> = None;
        while let Some(claimed) = to_publish.take() {
            let claim_more = claimed.rows.len() >= self.config.batch_size && keep_going();
            let claim_next = async {
                if claim_more {
                    self.claim().await
                } else {
                    Ok(None)
                }
            };
            let (marked, published, claimed_next) = tokio::join!(
                mark_if_any(to_mark.take()),
                self.publish(claimed),
                claim_next
            );
            marked_total += marked?;
            to_mark = Some(published?);
            to_publish = claimed_next?;
        }
        Ok(marked_total + mark_if_any(to_mark).await?)
    }

    /// Claims the oldest unpublished rows in a new transaction; `None` when there are none.
    async fn claim(&self) -> anyhow::Result<Option<ClaimedBatch>> {
        // This transaction only ever marks rows published. If PostgreSQL crashes and loses
        // its commit, the rows are published again: JetStream drops the copies within its
        // duplicate window and the consumers' inboxes after it. So no need to wait for the
        // fsync, which is a large part of a round's cost.
        let mut transaction = self
            .pool
            .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
            .await
            .context("begin outbox claim")?;
        let rows: Vec<PendingRow> = sqlx::query_as(
            "SELECT event_id, subject, payload FROM outbox \
             WHERE published_at IS NULL ORDER BY position LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(i64::try_from(self.config.batch_size).unwrap_or(i64::MAX))
        .fetch_all(&mut *transaction)
        .await
        .context("claim unpublished outbox rows")?;
        if rows.is_empty() {
            transaction.rollback().await.context("end empty claim")?;
            return Ok(None);
        }
        Ok(Some(ClaimedBatch { transaction, rows }))
    }

    /// Sends the whole batch, then awaits every ack. On failure the claim is rolled back
    /// and the attempt recorded on the rows.
    async fn publish(&self, claimed: ClaimedBatch) -> anyhow::Result<PublishedBatch> {
        let ClaimedBatch { transaction, rows } = claimed;
        let span = publish_span(&rows);
        let event_ids: Vec<Uuid> = rows.iter().map(|row| row.event_id).collect();
        match self.send_and_confirm(rows).instrument(span.clone()).await {
            Ok(()) => Ok(PublishedBatch {
                transaction,
                event_ids,
                span,
            }),
            Err(publish_error) => {
                span.record("otel.status_code", "ERROR");
                // Release the claim first so the recorded attempt cannot be rolled back
                // with it, and so another relay may try these rows.
                drop(transaction.rollback().await);
                self.record_failed_attempt(&event_ids, &publish_error)
                    .instrument(span)
                    .await;
                Err(publish_error)
            }
        }
    }

    async fn send_and_confirm(&self, rows: Vec<PendingRow>) -> anyhow::Result<()> {
        let mut acks: Vec<PublishAckFuture> = Vec::with_capacity(rows.len());
        for row in rows {
            let message = PublishMessage::build()
                .message_id(row.event_id.to_string())
                .payload(Bytes::from(row.payload));
            let ack = self
                .jetstream
                .send_publish(row.subject, message)
                .await
                .context("publish outbox event")?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.context("await JetStream ack for outbox event")?;
        }
        Ok(())
    }

    /// Records a failed attempt on the rows. Best effort: the rows stay unpublished either
    /// way, so a failure here is only logged.
    async fn record_failed_attempt(&self, event_ids: &[Uuid], error: &anyhow::Error) {
        let recorded = sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE event_id = ANY($1)",
        )
        .bind(event_ids)
        .bind(format!("{error:#}"))
        .execute(&self.pool)
        .await;
        if let Err(record_error) = recorded {
            warn!(error = %record_error, "could not record a failed outbox publish attempt");
        }
    }

    /// Provisions the events stream, then publishes until `shutdown` completes, and returns
    /// after the batch in hand. A failed round is logged, the stream provisioned again, and
    /// the round retried with backoff from `min_backoff` doubling to `max_backoff`, so a NATS
    /// or database outage only delays events; the relay returns `Ok` once it has stopped.
    /// The caller bounds its wait for that with [`RelayConfig::stop_timeout`].
    ///
    /// Provisioning is not retried on its own before the first round: while NATS is away
    /// the rounds fail too and record the attempt on the waiting rows, which is where an
    /// operator looks, and each failure provisions again.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let mut shutdown = std::pin::pin!(shutdown);
        tokio::select! {
            () = shutdown.as_mut() => return Ok(()),
            provisioned = crate::ensure_stream(&self.jetstream, self.config.duplicate_window, self.config.stream_replicas) => {
                if let Err(stream_error) = provisioned {
                    warn!(error = %format!("{stream_error:#}"), "events stream not provisioned yet; the relay keeps trying");
                }
            }
        }
        let wake = self.bell.notify();
        let listener_task = tokio::spawn(listen_for_commits(
            self.pool.clone(),
            Arc::clone(&wake),
            self.config.clone(),
        ));
        // Stops the listener however this function ends.
        let _listener_guard = AbortOnDrop(listener_task);

        let mut backoff = self.config.min_backoff;
        loop {
            if shutdown.as_mut().now_or_never().is_some() {
                return Ok(());
            }
            // Once `shutdown` has completed it must not be polled again.
            let mut stopping = false;
            let round = self
                .drain(|| {
                    stopping = stopping || shutdown.as_mut().now_or_never().is_some();
                    !stopping
                })
                .await;
            let pause = match round {
                Ok(_published) => {
                    backoff = self.config.min_backoff;
                    None
                }
                Err(error) => {
                    warn!(error = %format!("{error:#}"), retry_in = ?backoff, "outbox relay round failed");
                    // Cheap and idempotent; it brings back a stream lost with a NATS store. It
                    // waits for NATS's answer, which an outage delays: shutdown must not.
                    if !stopping {
                        tokio::select! {
                            () = shutdown.as_mut() => return Ok(()),
                            provisioned = crate::ensure_stream(&self.jetstream, self.config.duplicate_window, self.config.stream_replicas) => {
                                if let Err(stream_error) = provisioned {
                                    debug!(error = %format!("{stream_error:#}"), "events stream not reachable yet");
                                }
                            }
                        }
                    }
                    let pause = backoff;
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    Some(pause)
                }
            };
            if stopping {
                return Ok(());
            }
            match pause {
                // After a failure only time passes: notifications must not hammer a
                // broken NATS or database.
                Some(pause) => {
                    tokio::select! {
                        () = shutdown.as_mut() => return Ok(()),
                        () = tokio::time::sleep(pause) => {}
                    }
                }
                None => {
                    tokio::select! {
                        () = shutdown.as_mut() => return Ok(()),
                        () = wake.notified() => {}
                        () = tokio::time::sleep(self.config.poll_interval) => {}
                    }
                }
            }
        }
    }
}

/// The span of one batch. It is a root span: a batch carries the events of many changes, so
/// it belongs to none of their traces; instead it links to each. Events written by one
/// transaction share their trace context and sit next to each other, so one link covers
/// them. OpenTelemetry keeps at most 128 links a span by default and counts the rest as
/// dropped.
fn publish_span(rows: &[PendingRow]) -> tracing::Span {
    let span = info_span!(
        parent: None,
        "outbox.publish_batch",
        otel.name = "SDS_EVENTS publish",
        otel.kind = "producer",
        otel.status_code = tracing::field::Empty,
        messaging.system = "nats",
        messaging.operation.type = "send",
        messaging.destination.name = EVENTS_STREAM,
        // As i64: tracing-opentelemetry exports unsigned integers as strings.
        messaging.batch.message_count = i64::try_from(rows.len()).unwrap_or(i64::MAX),
    );
    if span.is_disabled() {
        return span;
    }
    let mut linked_traceparent = String::new();
    for row in rows {
        // An envelope that does not decode is still published; it just has no link.
        let Ok(trace) = EnvelopeTraceContext::decode(row.payload.as_slice()) else {
            continue;
        };
        if trace.traceparent.is_empty() || trace.traceparent == linked_traceparent {
            continue;
        }
        if let Some(event_span) =
            sds_platform::telemetry::stored_span_context(&trace.traceparent, &trace.tracestate)
        {
            span.add_link(event_span);
        }
        linked_traceparent = trace.traceparent;
    }
    span
}

/// Wakes the relay whenever a transaction in its schema commits an outbox row. Reconnects
/// with backoff when the listener connection fails; meanwhile the relay polls.
async fn listen_for_commits(pool: PgPool, wake: Arc<Notify>, config: RelayConfig) {
    let mut backoff = config.min_backoff;
    loop {
        let started = Instant::now();
        let Err(error) = listen_until_broken(&pool, &wake).await;
        // A listener that worked for a while earns a quick reconnect.
        if started.elapsed() > config.max_backoff {
            backoff = config.min_backoff;
        }
        warn!(error = %format!("{error:#}"), retry_in = ?backoff, "outbox listener failed; polling meanwhile");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(config.max_backoff);
    }
}

async fn listen_until_broken(pool: &PgPool, wake: &Notify) -> anyhow::Result<Infallible> {
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(pool)
        .await
        .context("read the relay's schema")?;
    let mut listener = PgListener::connect_with(pool)
        .await
        .context("connect outbox listener")?;
    listener
        .listen(OUTBOX_CHANNEL)
        .await
        .context("listen for outbox commits")?;
    debug!(schema, "outbox listener connected");
    // Anything committed while the listener was away was not announced.
    wake.notify_one();
    loop {
        match listener
            .try_recv()
            .await
            .context("receive outbox notification")?
        {
            // Every service's outbox shares the channel; the payload names the schema.
            Some(notification) if notification.payload() == schema => wake.notify_one(),
            Some(_other_schema) => {}
            // The connection dropped and was re-established; notifications may be lost.
            None => wake.notify_one(),
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sds_proto::v1::{Event, Provider, ProviderRegistered, event::Body};
    use sds_testkit::{PrivateNats, fresh_database, wait_until};

    fn provider_registered() -> crate::NewEvent {
        crate::NewEvent::new(
            sds_vocabulary::AuthorityId::national(),
            "p-1",
            1,
            Body::ProviderRegistered(ProviderRegistered {
                provider: Some(Provider {
                    id: "p-1".to_owned(),
                    ..Default::default()
                }),
            }),
        )
    }

    #[tokio::test]
    async fn a_relay_started_against_a_nats_without_the_stream_provisions_it_before_its_first_round()
     {
        let database = fresh_database().await;
        let pool = database.pool_for_schema("relay_provisions").await;
        crate::migrate(&pool).await.expect("migrate outbox");
        let mut transaction = pool.begin().await.expect("begin");
        crate::enqueue(&mut transaction, provider_registered())
            .await
            .expect("enqueue");
        transaction.commit().await.expect("commit");
        let nats = PrivateNats::start().await;
        let jetstream =
            jetstream::new(async_nats::connect(nats.url()).await.expect("connect NATS"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

        let relay = tokio::spawn(
            Relay::new(pool.clone(), jetstream.clone(), RelayConfig::default()).run(async {
                let _ = stopped.await;
            }),
        );
        wait_until(
            Duration::from_secs(30),
            "the event is marked published",
            || async {
                let unpublished: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                        .fetch_one(&pool)
                        .await
                        .ok()?;
                (unpublished == 0).then_some(())
            },
        )
        .await;

        let mut stream = jetstream
            .get_stream(crate::EVENTS_STREAM)
            .await
            .expect("the relay created the stream");
        assert_eq!(stream.info().await.expect("stream info").state.messages, 1);
        // Provisioned before the first round, so that round did not fail first.
        let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM outbox")
            .fetch_one(&pool)
            .await
            .expect("read attempts");
        assert_eq!(attempts, 0);
        let _ = stop.send(());
        relay
            .await
            .expect("relay task")
            .expect("relay stopped cleanly");
    }

    #[test]
    fn the_trace_context_of_an_envelope_is_read_without_decoding_the_rest() {
        let envelope = Event {
            event_id: Uuid::now_v7().to_string(),
            event_type: "provider.registered".to_owned(),
            authority: "national".to_owned(),
            aggregate_type: "provider".to_owned(),
            aggregate_id: "p-1".to_owned(),
            aggregate_version: 3,
            occurred_at: Some(prost_types::Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned(),
            tracestate: "vendor=value".to_owned(),
            body: Some(Body::ProviderRegistered(ProviderRegistered {
                provider: Some(Provider {
                    id: "p-1".to_owned(),
                    ..Default::default()
                }),
            })),
        };

        let trace = EnvelopeTraceContext::decode(envelope.encode_to_vec().as_slice())
            .expect("an envelope decodes");

        assert_eq!(trace.traceparent, envelope.traceparent);
        assert_eq!(trace.tracestate, envelope.tracestate);
    }
}
