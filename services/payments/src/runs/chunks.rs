//! A run shared among replicas: the coordinator (the replica that was asked for the run,
//! holding its lock) cuts the authority's schedules into chunks, hands them out through the
//! work queue ([`super::queue`]) and waits until every one is done; any replica, the
//! coordinator's own among them, works on them ([`work_chunk`]).
//!
//! The coordinator never depends on another replica to finish: when the queue cannot take
//! the chunks (NATS unreachable) it works on them itself; when no chunk has finished for
//! [`STALLED_AFTER`] (messages lost with a NATS server, say) it hands every unfinished one
//! out again and works on the first itself. Working on a chunk twice pays nothing twice.
//! A chunk a replica cannot work on (a refusal, not an outage) says why in `run_chunk`, and
//! the coordinator stops the run with that reason at once; asking for the run again clears
//! it and tries again.

use std::time::{Duration, Instant};

use sds_proto::v1 as proto;
use sqlx::PgPool;

use super::funds::open_funds;
use super::planning::plan;
use super::posting::post;
use super::queue::{CHUNK_ACK_WAIT, ChunkMessage, WorkQueue};
use super::{Progress, ScheduleRange, report};
use crate::error::PaymentsError;
use crate::ledger::Ledger;
use crate::store::chunks::{self, Chunk};
use crate::store::posting;
use crate::store::runs::{self, RunRecord, RunStatus};

/// Schedules per chunk when `SDS_PAYMENT_CHUNK_SCHEDULES` is not set.
pub const DEFAULT_SCHEDULES_PER_CHUNK: u32 = 10_000;

/// How a run is shared out: through this deployment's work queue, in chunks of about
/// `schedules_per_chunk` schedules.
#[derive(Debug, Clone)]
pub struct Sharing {
    /// `None` works on every chunk in the coordinator (a process without NATS).
    pub queue: Option<WorkQueue>,
    pub schedules_per_chunk: u32,
}

/// How long the coordinator waits without any chunk finishing before it works on the first
/// unfinished one itself: longer than a dead replica's chunk takes to be handed to another.
const STALLED_AFTER: Duration = Duration::from_secs(3 * CHUNK_ACK_WAIT.as_secs());

/// How often the coordinator looks at the chunks while they are worked on.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// Plans, funds and posts every schedule of the run, chunk by chunk, on whichever replicas
/// take them; returns once every chunk is done.
pub(super) async fn plan_and_post_in_chunks(
    pool: &PgPool,
    ledger: &Ledger,
    sharing: &Sharing,
    run: &RunRecord,
    progress: &Progress,
) -> Result<(), PaymentsError> {
    let chunks = cut(pool, run, sharing.schedules_per_chunk).await?;
    // Asked again: a chunk that failed is tried again.
    chunks::clear_failures(pool, run.run_id).await?;
    let total: u64 = chunks.iter().map(|chunk| chunk.schedules).sum();
    let unfinished: Vec<Chunk> = chunks.iter().filter(|chunk| !chunk.done).cloned().collect();
    tracing::info!(run = %run.run_id, chunks = chunks.len(), unfinished = unfinished.len(), "payment run in chunks");
    hand_out(pool, ledger, sharing, run, &unfinished, total, progress).await?;
    let mut finished = 0;
    let mut last_change = Instant::now();
    loop {
        let chunks = chunks::of_run(pool, run.run_id).await?;
        if let Some(failed) = chunks.iter().find(|chunk| chunk.failed.is_some()) {
            return Err(PaymentsError::Internal(anyhow::anyhow!(
                "chunk {} of run {} cannot be worked on: {}",
                failed.chunk,
                run.run_id,
                failed.failed.as_deref().unwrap_or_default()
            )));
        }
        let done: Vec<&Chunk> = chunks.iter().filter(|chunk| chunk.done).collect();
        let schedules_done: u64 = done.iter().map(|chunk| chunk.schedules).sum();
        report(
            progress,
            run.run_id,
            proto::RunPhase::Planning,
            schedules_done,
            total,
        )
        .await;
        if done.len() == chunks.len() {
            // Each chunk posted its own instalments as it went.
            let (posted, instalments) = posting::count_posted(pool, run.run_id).await?;
            report(
                progress,
                run.run_id,
                proto::RunPhase::Posting,
                posted,
                instalments,
            )
            .await;
            return Ok(());
        }
        if done.len() > finished {
            finished = done.len();
            last_change = Instant::now();
        } else if last_change.elapsed() >= STALLED_AFTER {
            // Messages lost with a NATS server, or replicas that cannot pull: every chunk
            // still to do is handed out afresh (a new round, which the stream does not take
            // for a repeat), and this replica works on the first itself, so the run moves.
            let unfinished: Vec<Chunk> =
                chunks.iter().filter(|chunk| !chunk.done).cloned().collect();
            tracing::warn!(run = %run.run_id, unfinished = unfinished.len(), "no chunk of the run finished for a while; handing the rest out again");
            hand_out(pool, ledger, sharing, run, &unfinished, total, progress).await?;
            if let Some(first) = unfinished.first() {
                work_chunk(pool, ledger, message_of(first)).await?;
            }
            last_change = Instant::now();
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// Hands `unfinished` out through the work queue as a new round; when the queue cannot take
/// them (NATS away, or no queue), works on them all here.
async fn hand_out(
    pool: &PgPool,
    ledger: &Ledger,
    sharing: &Sharing,
    run: &RunRecord,
    unfinished: &[Chunk],
    total: u64,
    progress: &Progress,
) -> Result<(), PaymentsError> {
    if unfinished.is_empty() {
        return Ok(());
    }
    if let Some(queue) = &sharing.queue {
        let key = chunks::work_queue_key(pool).await?;
        match queue.publish(key, uuid::Uuid::now_v7(), unfinished).await {
            Ok(()) => return Ok(()),
            Err(error) => {
                tracing::warn!(run = %run.run_id, error = %format!("{error:#}"), "the run's chunks cannot be handed out; this replica works on them all");
            }
        }
    }
    for chunk in unfinished {
        work_chunk(pool, ledger, message_of(chunk)).await?;
        report_chunks(pool, run, total, progress).await?;
    }
    Ok(())
}

/// This replica as a chunk's `done_by` names it: its host (a pod's name on Kubernetes) and
/// process id.
fn replica() -> &'static str {
    static REPLICA: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    REPLICA.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "unknown-host".to_owned());
        format!("{host}:{}", std::process::id())
            .chars()
            .take(256)
            .collect()
    })
}

fn message_of(chunk: &Chunk) -> ChunkMessage {
    ChunkMessage {
        run_id: chunk.run_id,
        chunk: chunk.chunk,
    }
}

async fn report_chunks(
    pool: &PgPool,
    run: &RunRecord,
    total: u64,
    progress: &Progress,
) -> Result<(), PaymentsError> {
    let done: u64 = chunks::of_run(pool, run.run_id)
        .await?
        .iter()
        .filter(|chunk| chunk.done)
        .map(|chunk| chunk.schedules)
        .sum();
    report(progress, run.run_id, proto::RunPhase::Planning, done, total).await;
    Ok(())
}

/// The run's chunks: those it was first cut into, or a new cut of the authority's schedules.
async fn cut(
    pool: &PgPool,
    run: &RunRecord,
    schedules_per_chunk: u32,
) -> Result<Vec<Chunk>, PaymentsError> {
    let recorded = chunks::of_run(pool, run.run_id).await?;
    if !recorded.is_empty() {
        return Ok(recorded);
    }
    let points =
        chunks::cut_points(pool, &run.authority, i64::from(schedules_per_chunk.max(1))).await?;
    let total = runs::count_schedules(pool, &run.authority).await?;
    let ids: Vec<uuid::Uuid> = points.iter().map(|(id, _)| *id).collect();
    let ranges = ScheduleRange::cut_at(&ids);
    let mut before = 0;
    let mut counted = Vec::with_capacity(ranges.len());
    for (index, range) in ranges.into_iter().enumerate() {
        let up_to = points
            .get(index)
            .map_or(total, |(_, n)| u64::try_from(*n).unwrap_or_default());
        counted.push((range, up_to.saturating_sub(before)));
        before = up_to;
    }
    chunks::record(pool, run.run_id, &counted).await
}

/// Works on one chunk of a run, on whichever replica took it: plans its schedules, opens
/// their funds and posts their instalments, then marks it done. A chunk already done, or of
/// a run this deployment does not have or has moved past planning, is left as it is.
pub async fn work_chunk(
    pool: &PgPool,
    ledger: &Ledger,
    message: ChunkMessage,
) -> Result<(), PaymentsError> {
    let Some(chunk) = chunks::get(pool, message.run_id, message.chunk).await? else {
        tracing::warn!(run = %message.run_id, chunk = message.chunk, "a chunk of a run this deployment does not have");
        return Ok(());
    };
    if chunk.done {
        return Ok(());
    }
    let Some(run) = runs::get_run(pool, message.run_id).await? else {
        return Ok(());
    };
    if run.status != RunStatus::Planning {
        // The coordinator has moved on and posts whatever is left itself.
        return Ok(());
    }
    // Nobody follows a chunk's own progress; the coordinator reports the run's.
    let progress = Progress::unfollowed();
    plan(pool, &run, chunk.range, &progress).await?;
    open_funds(pool, ledger, &run, chunk.range, &progress).await?;
    post(pool, ledger, &run, chunk.range, &progress).await?;
    chunks::mark_done(pool, chunk.run_id, chunk.chunk, replica()).await?;
    tracing::debug!(run = %run.run_id, chunk = chunk.chunk, schedules = chunk.schedules, "run chunk done");
    Ok(())
}
