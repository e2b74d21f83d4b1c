//! What the event metrics are sampled from (see `sds_platform::metrics`): the age of the
//! oldest unpublished outbox row (`sds_outbox_oldest_unpublished_seconds`) and what a
//! durable consumer has yet to acknowledge (`sds_consumer_pending`). The runtime samples
//! both for every service every `SDS_METRICS_SAMPLE_MS`. The dead-letter counter is kept
//! by the consumer itself ([`crate::ConsumerConfig::dead_letters`]).

use anyhow::Context as _;
use async_nats::jetstream;
use sqlx::PgPool;

use crate::stream::EVENTS_STREAM;

/// Seconds since the oldest unpublished event of the outbox in `pool`'s schema was
/// written, by the database's clock; 0 when every event is published.
///
/// "Oldest" is the first in relay order (the partial index the relay claims from), so one
/// row is read however long the backlog: its `created_at` is its transaction's start, which
/// a transaction that committed late can put a little before a row ahead of it.
pub async fn oldest_unpublished_age(pool: &PgPool) -> Result<f64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(( \
             SELECT GREATEST(EXTRACT(EPOCH FROM now() - created_at), 0)::float8 \
             FROM outbox WHERE published_at IS NULL ORDER BY position LIMIT 1 \
         ), 0)::float8",
    )
    .fetch_one(pool)
    .await
}

/// Events in the stream that durable consumer `durable` has not yet acknowledged: those
/// not yet delivered (`num_pending`) and those delivered and awaiting their ack
/// (`num_ack_pending`). An error when NATS does not answer or the consumer does not exist
/// (yet).
pub async fn consumer_pending(
    jetstream: &jetstream::Context,
    durable: &str,
) -> anyhow::Result<u64> {
    let stream = jetstream
        .get_stream_no_info(EVENTS_STREAM)
        .await
        .context("open the events stream")?;
    let info = stream
        .consumer_info(durable)
        .await
        .with_context(|| format!("read consumer {durable}"))?;
    Ok(info
        .num_pending
        .saturating_add(u64::try_from(info.num_ack_pending).unwrap_or(u64::MAX)))
}
