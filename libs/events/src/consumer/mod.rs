//! Idempotent durable pull consumers of the events stream.
//!
//! For each message the consumer records the event id in its `inbox` table and runs the
//! handler in the same transaction, then acks. What must stay true:
//!
//! - an event takes effect at most once per consumer: a redelivery, or a republish that
//!   slipped past JetStream's duplicate window, finds its inbox row and is only acked;
//! - an event takes effect at least once: the ack follows the commit, and a failed handler
//!   rolls back everything it wrote and is redelivered after a growing delay. A transient
//!   failure is retried without limit by default; an event that can never succeed (its
//!   envelope or body cannot be decoded, or the handler refuses it for good) is tried
//!   [`ConsumerConfig::poison_attempts`] times and then written to the `dead_letter` table,
//!   with its reason, before it is let go, so later events keep flowing;
//! - a handler declares the event types it handles ([`EventHandler::HANDLES`]) and receives
//!   the decoded body; events of other types that reach its filter are acknowledged and
//!   skipped without an inbox row;
//! - replicas of a service share one durable consumer, so JetStream spreads the work;
//! - no order is promised: events of one aggregate may arrive out of order (several relays,
//!   retries, replicas), so handlers compare the aggregate version with what they hold, or
//!   ask [`Received::is_newest_seen`];
//! - events already waiting when one arrives are applied together, in one transaction
//!   (`together`), and fall back to one at a time if any of them fails: the same rules, one
//!   commit instead of many under load.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use futures::{FutureExt as _, StreamExt as _};
use sds_proto::v1::event::Body;
use sds_vocabulary::{AuthorityId, NamedEnum};
use sqlx::{PgConnection, PgPool};
use tracing::{Instrument as _, warn};
use uuid::Uuid;

use crate::event_type::EventType;
use crate::stream::ensure_stream;
use crate::subject::filter_for_event_types;

mod envelope;
mod settle;
mod together;

use envelope::{Decoded, decode, event_span};
use settle::{DeadLetter, NotApplied, acknowledge, give_up_or_retry, settle};

/// One durable consumer of the events stream. Its subject filter follows from the event
/// types its handler declares.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Shared by every replica of the service; also the `consumer` column of the inbox.
    pub durable_name: String,
    /// Deliveries of one event before JetStream gives up on it; -1 (the default) never
    /// gives up, so an outage only delays events, as long as it is shorter than the stream
    /// keeps them ([`crate::EVENTS_MAX_AGE`]). With a limit, an event on its last delivery
    /// that still fails is written to `dead_letter`, whatever `poison_attempts` says.
    pub max_deliver: i64,
    /// Deliveries of an event that can never succeed (undecodable, or refused for good by
    /// the handler) before it is written to `dead_letter`. More than one, so that a refusal
    /// caused by a race with another change gets a second look.
    pub poison_attempts: i64,
    /// How long a delivery may stay unacknowledged before JetStream redelivers it; longer
    /// than the slowest handler.
    pub ack_wait: Duration,
    /// Messages requested per pull.
    pub batch: usize,
    /// At most this many events already waiting are applied in one transaction (1: each
    /// alone). Nothing waits for a group to fill: a lone event is applied at once.
    pub together: usize,
    /// The pause before a failed event is redelivered; doubled with every further delivery,
    /// up to a minute.
    pub retry_delay: Duration,
    /// The events stream's duplicate window, for when the consumer is the one that
    /// provisions the stream; the same as the relays' so that they never undo each other.
    pub duplicate_window: Duration,
    /// The events stream's copies, for the same reason; the consumer keeps as many.
    pub stream_replicas: usize,
    /// Counts the events this consumer sets aside in `dead_letter`
    /// (`sds_consumer_dead_letters`); counts nothing by default.
    pub dead_letters: sds_platform::metrics::DeadLetterCount,
}

impl ConsumerConfig {
    /// A consumer with the usual settings: unlimited deliveries for transient failures, 3
    /// for events that can never succeed, 30 s ack wait, pulls of 100, up to 32 waiting
    /// events applied together, retries after 1 s, 2 s, 4 s ... up to a minute.
    pub fn new(durable_name: impl Into<String>) -> Self {
        Self {
            durable_name: durable_name.into(),
            max_deliver: -1,
            poison_attempts: 3,
            ack_wait: Duration::from_secs(30),
            batch: 100,
            together: 32,
            retry_delay: Duration::from_secs(1),
            duplicate_window: crate::DEFAULT_DUPLICATE_WINDOW,
            stream_replicas: 1,
            dead_letters: sds_platform::metrics::DeadLetterCount::default(),
        }
    }
}

/// Why a handler could not apply an event. Either way its writes are rolled back.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth trying again later (database unavailable, a conflict, a dependency down): the
    /// event is redelivered after a delay.
    #[error("{0:#}")]
    Transient(anyhow::Error),
    /// Trying again cannot help (the event contradicts what the handler knows): after
    /// [`ConsumerConfig::poison_attempts`] deliveries the event is written to `dead_letter`
    /// with this reason and not redelivered.
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        Self::Transient(error.into())
    }
}

impl From<anyhow::Error> for HandlerError {
    fn from(error: anyhow::Error) -> Self {
        Self::Transient(error)
    }
}

/// An event as a handler receives it: the envelope's facts, decoded and checked, apart
/// from its body.
#[derive(Debug, Clone)]
pub struct Received {
    /// The consumer (durable name) handling it.
    pub consumer: String,
    pub event_id: Uuid,
    pub event_type: EventType,
    pub authority: AuthorityId,
    pub aggregate_id: String,
    pub aggregate_version: u64,
    pub occurred_at: Option<prost_types::Timestamp>,
}

impl Received {
    /// Whether this event's aggregate version is above every version of the same aggregate
    /// this consumer has seen, recording it if so, in the handler's transaction. A handler
    /// that keeps only the latest state ignores an event for which this is false: an older
    /// fact that arrived late.
    pub async fn is_newest_seen(
        &self,
        transaction: &mut PgConnection,
    ) -> Result<bool, sqlx::Error> {
        crate::versions::advance(
            transaction,
            &self.consumer,
            self.event_type.aggregate_type(),
            &self.aggregate_id,
            self.aggregate_version,
        )
        .await
    }
}

/// Applies events of the types it declares inside the consumer's transaction. Implement
/// `handle` as a plain `async fn handle(&self, transaction: &mut PgConnection, event:
/// &Received, body: Body) -> Result<(), HandlerError>`; the declared form only adds `Send`,
/// so that a consumer can run on `tokio::spawn`.
pub trait EventHandler: Send + Sync + 'static {
    /// The event types this handler applies. The consumer's subject filter follows from
    /// them; an event of another type that reaches it is acknowledged and skipped.
    const HANDLES: &'static [EventType];

    /// Everything written through `transaction` commits together with the inbox row, or
    /// not at all. `body` is of one of the types in [`EventHandler::HANDLES`].
    fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

const MIN_RECONNECT_BACKOFF: Duration = Duration::from_millis(100);
const MAX_RECONNECT_BACKOFF: Duration = Duration::from_secs(5);

/// Consumes events until `shutdown` completes, finishing the event in hand. Creates the
/// durable consumer if needed; while NATS is unreachable it keeps trying with backoff.
pub async fn run_consumer<H: EventHandler>(
    pool: PgPool,
    jetstream: jetstream::Context,
    config: ConsumerConfig,
    handler: H,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if H::HANDLES.is_empty() {
        anyhow::bail!(
            "consumer {} declares no event types; a handler must name what it handles",
            config.durable_name
        );
    }
    let mut shutdown = std::pin::pin!(shutdown);
    let filter_subject = filter_for_event_types(H::HANDLES);
    let mut backoff = MIN_RECONNECT_BACKOFF;
    loop {
        let mut waiting = None;
        let opened = tokio::select! {
            () = shutdown.as_mut() => return Ok(()),
            opened = open_messages(&jetstream, &config, &filter_subject) => opened,
        };
        match opened {
            Ok(mut messages) => loop {
                let next = match waiting.take() {
                    Some(next) => next,
                    None => tokio::select! {
                        () = shutdown.as_mut() => return Ok(()),
                        next = messages.next() => next,
                    },
                };
                match next {
                    Some(Ok(message)) => {
                        backoff = MIN_RECONNECT_BACKOFF;
                        // Whatever has already arrived joins it, without waiting for more;
                        // an error or the end of the stream is kept for the next turn.
                        let mut group = vec![message];
                        while group.len() < config.together {
                            match messages.next().now_or_never() {
                                Some(Some(Ok(message))) => group.push(message),
                                Some(other) => {
                                    waiting = Some(other);
                                    break;
                                }
                                None => break,
                            }
                        }
                        together::handle_group(&pool, &config, &handler, group).await;
                    }
                    Some(Err(stream_error)) => {
                        let fatal = matches!(
                            stream_error.kind(),
                            pull::MessagesErrorKind::ConsumerDeleted
                                | pull::MessagesErrorKind::PushBasedConsumer
                        );
                        warn!(consumer = %config.durable_name, error = %stream_error, "event stream interrupted");
                        if fatal {
                            break;
                        }
                    }
                    None => break,
                }
            },
            Err(open_error) => {
                warn!(consumer = %config.durable_name, error = %format!("{open_error:#}"), retry_in = ?backoff, "cannot open event consumer");
            }
        }
        tokio::select! {
            () = shutdown.as_mut() => return Ok(()),
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_RECONNECT_BACKOFF);
    }
}

async fn open_messages(
    jetstream: &jetstream::Context,
    config: &ConsumerConfig,
    filter_subject: &str,
) -> anyhow::Result<pull::Stream> {
    let stream = ensure_stream(jetstream, config.duplicate_window, config.stream_replicas).await?;
    let wanted = pull::Config {
        durable_name: Some(config.durable_name.clone()),
        filter_subject: filter_subject.to_owned(),
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::Explicit,
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        ..Default::default()
    };
    let mut consumer: PullConsumer = stream
        .get_or_create_consumer(&config.durable_name, wanted.clone())
        .await
        .with_context(|| format!("create or open consumer {}", config.durable_name))?;
    let current = consumer.cached_info().config.clone();
    if current.filter_subject != wanted.filter_subject
        || current.max_deliver != wanted.max_deliver
        || current.ack_wait != wanted.ack_wait
    {
        consumer = reconcile(&stream, config, wanted, &current.filter_subject).await?;
    }
    consumer
        .stream()
        .max_messages_per_batch(config.batch)
        .messages()
        .await
        .with_context(|| format!("pull from consumer {}", config.durable_name))
}

/// Brings a durable consumer created by an earlier build (another filter, as when a
/// handler declares a new event type, or other limits) to this build's settings: updated
/// in place where the server allows it, else deleted and created again. Recreating starts
/// from the beginning of the stream; the inbox, which outlives the stream's retention,
/// makes every event already applied a no-op. Events of a newly declared type that the old
/// filter never delivered are then delivered from the start of the stream.
async fn reconcile(
    stream: &jetstream::stream::Stream,
    config: &ConsumerConfig,
    wanted: pull::Config,
    old_filter: &str,
) -> anyhow::Result<PullConsumer> {
    warn!(consumer = %config.durable_name, old_filter, new_filter = %wanted.filter_subject, "durable consumer settings changed; updating it");
    match stream.update_consumer(wanted.clone()).await {
        Ok(updated) if updated.cached_info().config.filter_subject == wanted.filter_subject => {
            return Ok(updated);
        }
        Ok(_) => {
            warn!(consumer = %config.durable_name, "the server kept the old filter; recreating the consumer")
        }
        Err(update_error) => {
            warn!(consumer = %config.durable_name, error = %update_error, "cannot update the consumer in place; recreating it")
        }
    }
    stream
        .delete_consumer(&config.durable_name)
        .await
        .with_context(|| format!("delete outdated consumer {}", config.durable_name))?;
    stream
        .create_consumer(wanted)
        .await
        .with_context(|| format!("recreate consumer {}", config.durable_name))
}

async fn handle_message<H: EventHandler>(
    pool: &PgPool,
    config: &ConsumerConfig,
    handler: &H,
    message: jetstream::Message,
) {
    let (delivered, stream_sequence) = match message.info() {
        Ok(info) => (info.delivered, info.stream_sequence),
        Err(info_error) => {
            warn!(consumer = %config.durable_name, subject = %message.subject, error = %info_error, "message without JetStream metadata; skipping it");
            return;
        }
    };
    let decoded = match decode(&config.durable_name, message.payload.as_ref(), H::HANDLES) {
        Ok(Some(decoded)) => decoded,
        Ok(None) => {
            // Another type under the same filter (the aggregate's), perhaps one this build
            // cannot even read yet: not this handler's business.
            acknowledge(&message, AckKind::Ack, config).await;
            return;
        }
        Err((event_id, event_type, reason)) => {
            // Nothing from the payload is logged: it may hold personal data.
            warn!(consumer = %config.durable_name, subject = %message.subject, stream_sequence, delivery = delivered, reason, "undecodable event");
            let letter = DeadLetter {
                stream_sequence,
                event_id,
                event_type,
                reason,
            };
            give_up_or_retry(pool, config, &message, letter, delivered).await;
            return;
        }
    };
    let span = event_span(config, &message, &decoded.received, delivered);
    async {
        let event_id = decoded.received.event_id;
        let event_type = decoded.received.event_type;
        let outcome = apply_once(pool, config, handler, decoded).await;
        settle(
            pool,
            config,
            &message,
            (event_id, event_type),
            delivered,
            outcome,
        )
        .await;
    }
    .instrument(span)
    .await;
}

/// Records the event in the inbox and runs the handler, in one transaction.
async fn apply_once<H: EventHandler>(
    pool: &PgPool,
    config: &ConsumerConfig,
    handler: &H,
    decoded: Decoded,
) -> Result<(), NotApplied> {
    let transient = |error: sqlx::Error| NotApplied::Transient(anyhow::Error::new(error));
    let Decoded { received, body } = decoded;
    let mut transaction = pool.begin().await.map_err(transient)?;
    // A concurrent delivery of the same event waits here on the other's uncommitted row,
    // then sees the conflict once it commits.
    let inserted = sqlx::query(
        "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&config.durable_name)
    .bind(received.event_id)
    .bind(received.event_type.name())
    .execute(&mut *transaction)
    .await
    .map_err(transient)?
    .rows_affected();
    if inserted == 0 {
        transaction.rollback().await.map_err(transient)?;
        // Applied before: only acknowledged.
        return Ok(());
    }
    if let Err(handler_error) = handler.handle(&mut transaction, &received, body).await {
        // Rolling back is what matters; if even that fails the connection is discarded and
        // PostgreSQL rolls back on its own.
        drop(transaction.rollback().await);
        return Err(handler_error.into());
    }
    transaction.commit().await.map_err(transient)?;
    Ok(())
}
