//! Keeping the outbox and the inbox from growing forever.
//!
//! What must stay true:
//! - an unpublished outbox row is never removed (it is an event not yet delivered); only
//!   rows published longer ago than the outbox retention go;
//! - an inbox row is removed only once no delivery of its event can still arrive: the
//!   inbox retention must be longer than the events stream keeps messages
//!   ([`crate::stream::EVENTS_MAX_AGE`]), which configuration checks, since a consumer
//!   recreated on the stream is redelivered everything the stream still holds;
//! - `dead_letter` is never pruned: people decide what becomes of those events.
//!
//! Rows go in bounded batches, so pruning never holds long locks or a long transaction.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;

/// How long handled rows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Published outbox rows older than this are removed.
    pub outbox: Duration,
    /// Inbox rows older than this are removed.
    pub inbox: Duration,
}

/// What one pruning pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub outbox_rows: u64,
    pub inbox_rows: u64,
}

/// Rows removed per statement.
const BATCH: i64 = 5_000;

/// Removes published outbox rows and inbox rows past their retention, in the schema of
/// `pool`.
pub async fn prune(pool: &PgPool, retention: Retention) -> anyhow::Result<Pruned> {
    let outbox_rows = delete_in_batches(
        pool,
        // A row is created before it is published, so the old published rows are among the
        // old created ones, which the BRIN index on created_at finds without a full scan.
        "DELETE FROM outbox WHERE event_id IN ( \
             SELECT event_id FROM outbox \
             WHERE created_at < now() - $1 \
               AND published_at IS NOT NULL AND published_at < now() - $1 \
             LIMIT $2)",
        retention.outbox,
    )
    .await
    .context("prune published outbox rows")?;
    let inbox_rows = delete_in_batches(
        pool,
        "DELETE FROM inbox WHERE (consumer, event_id) IN ( \
             SELECT consumer, event_id FROM inbox WHERE handled_at < now() - $1 LIMIT $2)",
        retention.inbox,
    )
    .await
    .context("prune old inbox rows")?;
    Ok(Pruned {
        outbox_rows,
        inbox_rows,
    })
}

/// Runs `statement` (which takes the age as `$1` and the batch size as `$2`) until a batch
/// removes fewer rows than it may; returns how many rows went.
async fn delete_in_batches(
    pool: &PgPool,
    statement: &'static str,
    older_than: Duration,
) -> Result<u64, sqlx::Error> {
    let mut removed_in_all = 0;
    loop {
        let removed = sqlx::query(statement)
            .bind(older_than)
            .bind(BATCH)
            .execute(pool)
            .await?
            .rows_affected();
        removed_in_all += removed;
        if removed < BATCH.unsigned_abs() {
            return Ok(removed_in_all);
        }
    }
}
