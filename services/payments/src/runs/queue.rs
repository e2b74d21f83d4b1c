//! The work queue that shares a payment run among the service's replicas.
//!
//! A run's coordinator cuts it into chunks ([`super::chunks`]) and publishes one message per
//! chunk on a JetStream stream with work-queue retention; every replica of the service pulls
//! from one durable consumer of this deployment's subject, so each message goes to one
//! replica at a time. A replica works on a chunk (plans its schedules, opens their funds,
//! posts their instalments), marks it done in the database, then acknowledges it.
//!
//! What must stay true:
//! - a chunk is acknowledged only after it is marked done, and marked done only after all
//!   of its instalments are posted: an acknowledged chunk is a finished one;
//! - a chunk whose replica died (or stalled) is delivered again after the ack wait, to any
//!   replica: a live replica keeps its chunk by telling JetStream it is still working on it;
//! - working on a chunk twice, at once or one after the other, pays nothing twice: planning
//!   chooses an instalment once, the ledger records a transfer id once, funds have derived
//!   ids;
//! - deployments sharing a NATS server (test databases, say) never take each other's
//!   chunks: the subject and the consumer carry the deployment's key from its database.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{RetentionPolicy, StorageType};
use bytes::Bytes;
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::ledger::Ledger;
use crate::store::chunks::{self, Chunk};

/// The stream every deployment's work queues live on; subjects `sds-work.>`.
pub const WORK_STREAM: &str = "SDS_WORK";

/// How long a delivered chunk may go without word from its replica before JetStream hands
/// it to another.
pub const CHUNK_ACK_WAIT: Duration = Duration::from_secs(30);

/// How often a replica working on a chunk tells JetStream it still is.
const STILL_WORKING_EVERY: Duration = Duration::from_secs(10);

/// How long a chunk message is kept if no replica ever takes it.
const WORK_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The most the work stream holds, in bytes (a chunk message is about 70).
const WORK_MAX_BYTES: i64 = 64 * 1024 * 1024;

/// The largest chunk message the stream takes.
const WORK_MAX_MESSAGE_BYTES: i32 = 1024;

/// The longest a replica waits before trying a chunk again after an outage.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// A consumer no replica has pulled from this long is removed by the server (a test
/// database's, say); a live deployment's replicas pull all the time.
const CONSUMER_INACTIVE: Duration = Duration::from_secs(24 * 3600);

/// How long a replica waits for a chunk in one pull before asking again.
const PULL_EXPIRES: Duration = Duration::from_secs(5);

/// What a chunk message carries: which chunk of which run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkMessage {
    pub run_id: Uuid,
    pub chunk: i32,
}

/// This deployment's work queue on JetStream.
#[derive(Debug, Clone)]
pub struct WorkQueue {
    jetstream: jetstream::Context,
    /// The stream's copies on a NATS cluster, as for the events stream.
    replicas: usize,
}

impl WorkQueue {
    pub fn new(jetstream: jetstream::Context, replicas: usize) -> WorkQueue {
        WorkQueue {
            jetstream,
            replicas,
        }
    }

    /// The subject of this deployment's chunks.
    fn subject(key: Uuid) -> String {
        format!("sds-work.payments.{}.chunk", key.simple())
    }

    fn durable(key: Uuid) -> String {
        format!("payments-run-chunks-{}", key.simple())
    }

    async fn stream(&self) -> anyhow::Result<jetstream::stream::Stream> {
        self.jetstream
            .get_or_create_stream(jetstream::stream::Config {
                name: WORK_STREAM.to_owned(),
                subjects: vec!["sds-work.>".to_owned()],
                retention: RetentionPolicy::WorkQueue,
                storage: StorageType::File,
                num_replicas: self.replicas,
                max_age: WORK_MAX_AGE,
                duplicate_window: Duration::from_secs(3600),
                // Bounded, so that whoever can publish to NATS cannot fill its disk here; a
                // full stream refuses new chunks (the coordinator then works on them
                // itself) rather than dropping work already handed out.
                max_bytes: WORK_MAX_BYTES,
                max_message_size: WORK_MAX_MESSAGE_BYTES,
                discard: async_nats::jetstream::stream::DiscardPolicy::New,
                ..Default::default()
            })
            .await
            .context("create or open the SDS_WORK stream")
    }

    /// Publishes the chunks as hand-out `round` (one id per time the coordinator hands
    /// them out: the stream drops a second publish of the same round within its duplicate
    /// window, but not a later round's, so chunks whose messages were lost are handed out
    /// again), and waits until JetStream holds them.
    pub async fn publish(&self, key: Uuid, round: Uuid, chunks: &[Chunk]) -> anyhow::Result<()> {
        self.stream().await?;
        let subject = Self::subject(key);
        let mut acks = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let body = serde_json::to_vec(&ChunkMessage {
                run_id: chunk.run_id,
                chunk: chunk.chunk,
            })?;
            let message = PublishMessage::build()
                .message_id(format!(
                    "{}/{}/{}",
                    chunk.run_id,
                    chunk.chunk,
                    round.simple()
                ))
                .payload(Bytes::from(body));
            acks.push(
                self.jetstream
                    .send_publish(subject.clone(), message)
                    .await
                    .context("publish a run chunk")?,
            );
        }
        for ack in acks {
            ack.await.context("await JetStream's ack of a run chunk")?;
        }
        Ok(())
    }

    async fn consumer(&self, key: Uuid) -> anyhow::Result<PullConsumer> {
        let durable = Self::durable(key);
        self.stream()
            .await?
            .get_or_create_consumer(
                &durable,
                pull::Config {
                    durable_name: Some(durable.clone()),
                    filter_subject: Self::subject(key),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: CHUNK_ACK_WAIT,
                    // A chunk is tried until it is done: the run waits for every one.
                    max_deliver: -1,
                    inactive_threshold: CONSUMER_INACTIVE,
                    ..Default::default()
                },
            )
            .await
            .with_context(|| format!("create or open consumer {durable}"))
    }
}

/// Takes chunks of this deployment's runs, `at_once` at a time, until `stop` is cancelled;
/// then gives back those in hand (so another replica takes them at once) and returns.
/// While NATS or the database is unreachable it keeps trying.
pub async fn take_chunks(
    pool: PgPool,
    ledger: Ledger,
    queue: WorkQueue,
    at_once: usize,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let mut backoff = Duration::from_millis(200);
    let key = loop {
        match chunks::work_queue_key(&pool).await {
            Ok(key) => break key,
            Err(error) => tracing::warn!(%error, "cannot read the work queue key yet"),
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    };
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(at_once.max(1)));
    let mut working = JoinSet::new();
    loop {
        let consumer = tokio::select! {
            () = stop.cancelled() => break,
            consumer = queue.consumer(key) => consumer,
        };
        let consumer = match consumer {
            Ok(consumer) => {
                backoff = Duration::from_millis(200);
                consumer
            }
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), retry_in = ?backoff, "cannot open the run chunk queue");
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        // One pull per free slot, so that no chunk waits here while its ack wait runs.
        loop {
            let permit = tokio::select! {
                () = stop.cancelled() => break,
                permit = permits.clone().acquire_owned() => permit.context("chunk slots")?,
            };
            while working.try_join_next().is_some() {}
            let pulled = tokio::select! {
                () = stop.cancelled() => break,
                pulled = pull_one(&consumer) => pulled,
            };
            match pulled {
                Ok(Some(message)) => {
                    let (pool, ledger, stop) = (pool.clone(), ledger.clone(), stop.clone());
                    working.spawn(async move {
                        work_on(&pool, &ledger, message, stop).await;
                        drop(permit);
                    });
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "run chunk queue interrupted");
                    break;
                }
            }
        }
        if stop.is_cancelled() {
            break;
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
    // Chunks in hand see `stop` and give their messages back.
    while working.join_next().await.is_some() {}
    Ok(())
}

/// Whether a chunk failed because something it needs is away (worth trying again), rather
/// than refused (which would be refused again).
fn is_outage(error: &crate::error::PaymentsError) -> bool {
    use crate::error::PaymentsError;
    match error {
        PaymentsError::LedgerUnavailable(_) | PaymentsError::AssessmentUnavailable(_) => true,
        PaymentsError::Store(store) => store.is_unavailable(),
        _ => false,
    }
}

async fn pull_one(consumer: &PullConsumer) -> anyhow::Result<Option<jetstream::Message>> {
    let mut batch = consumer
        .batch()
        .max_messages(1)
        .expires(PULL_EXPIRES)
        .messages()
        .await
        .context("pull a run chunk")?;
    match batch.next().await {
        Some(Ok(message)) => Ok(Some(message)),
        Some(Err(error)) => Err(anyhow::anyhow!("pull a run chunk: {error}")),
        None => Ok(None),
    }
}

/// Works on one delivered chunk: done and acknowledged, or given back for a retry.
async fn work_on(
    pool: &PgPool,
    ledger: &Ledger,
    message: jetstream::Message,
    stop: CancellationToken,
) {
    let Ok(chunk_message) = serde_json::from_slice::<ChunkMessage>(&message.payload) else {
        // Nothing any replica could do with it; not a chunk this service published.
        tracing::error!(subject = %message.subject, "a run chunk message that cannot be read; setting it aside");
        let _ = message.ack_with(AckKind::Term).await;
        return;
    };
    let worked = {
        let work = super::chunks::work_chunk(pool, ledger, chunk_message);
        let mut work = std::pin::pin!(work);
        let mut ticks = tokio::time::interval(STILL_WORKING_EVERY);
        ticks.tick().await;
        loop {
            tokio::select! {
                worked = &mut work => break Some(worked),
                () = stop.cancelled() => break None,
                _ = ticks.tick() => {
                    let _ = message.ack_with(AckKind::Progress).await;
                }
            }
        }
    };
    match worked {
        Some(Ok(())) => {
            if let Err(error) = message.double_ack().await {
                // Done and marked: a second delivery finds it done and only acknowledges.
                tracing::warn!(run = %chunk_message.run_id, chunk = chunk_message.chunk, %error, "chunk done but its acknowledgement was not confirmed");
            }
        }
        Some(Err(error)) if is_outage(&error) => {
            // The database or the ledger away: tried again, later each time.
            let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
            let delay = Duration::from_secs(1 << delivered.clamp(1, 5)).min(MAX_RETRY_DELAY);
            tracing::warn!(run = %chunk_message.run_id, chunk = chunk_message.chunk, %error, retry_in = ?delay, "run chunk not finished; it will be tried again");
            let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
        }
        Some(Err(error)) => {
            // A refusal will be the same next time: the chunk says why and is set aside,
            // and the coordinator stops the run and tells the caller.
            tracing::error!(run = %chunk_message.run_id, chunk = chunk_message.chunk, %error, "run chunk cannot be worked on; the run stops until it is asked for again");
            let reason = error.to_string();
            match chunks::mark_failed(pool, chunk_message.run_id, chunk_message.chunk, &reason)
                .await
            {
                Ok(()) => {
                    let _ = message.ack_with(AckKind::Term).await;
                }
                Err(_) => {
                    let _ = message.ack_with(AckKind::Nak(Some(MAX_RETRY_DELAY))).await;
                }
            }
        }
        None => {
            let _ = message.ack_with(AckKind::Nak(None)).await;
        }
    }
}
