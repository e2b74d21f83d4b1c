//! The chunks a run is cut into, and the key of this deployment's work queue.

use sds_platform::StoreContext as _;
use sds_vocabulary::AuthorityId;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::PaymentsError;
use crate::runs::ScheduleRange;

/// One chunk of a run: its schedules' ids and whether it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub run_id: Uuid,
    pub chunk: i32,
    pub range: ScheduleRange,
    pub schedules: u64,
    pub done: bool,
    /// Why a replica could not work on it, when it could not (a refusal, not an outage).
    pub failed: Option<String>,
}

/// The name of this deployment's work queue (one per database).
pub async fn work_queue_key(pool: &PgPool) -> Result<Uuid, PaymentsError> {
    Ok(
        sqlx::query_scalar("SELECT key FROM work_queue_key WHERE only_row")
            .fetch_one(pool)
            .await
            .operation("read the work queue key")?,
    )
}

/// The ids at which the authority's schedules are cut, so that each chunk holds about
/// `schedules_per_chunk` of them: the last id of every chunk but the final one.
pub async fn cut_points(
    pool: &PgPool,
    authority: &AuthorityId,
    schedules_per_chunk: i64,
) -> Result<Vec<(Uuid, i64)>, PaymentsError> {
    // One pass in id order; each point carries how many schedules lie up to it.
    Ok(sqlx::query_as(
        "SELECT agreement_id, n FROM ( \
             SELECT agreement_id, row_number() OVER (ORDER BY agreement_id) AS n \
             FROM schedule WHERE authority = $1) numbered \
         WHERE n % $2 = 0 ORDER BY n",
    )
    .bind(authority.as_str())
    .bind(schedules_per_chunk)
    .fetch_all(pool)
    .await
    .operation("cut the run into chunks")?)
}

/// Records the run's chunks unless it has them already (a run taken up again keeps the
/// chunks it was first cut into); returns them all.
pub async fn record(
    pool: &PgPool,
    run_id: Uuid,
    chunks: &[(ScheduleRange, u64)],
) -> Result<Vec<Chunk>, PaymentsError> {
    let mut transaction = pool.begin().await.operation("database connection")?;
    // Serialises two coordinators of the same run (there is one, under the run lock; this
    // only keeps the rows whole if that ever changes).
    sqlx::query("SELECT 1 FROM payment_run WHERE run_id = $1 FOR UPDATE")
        .bind(run_id)
        .execute(&mut *transaction)
        .await
        .operation("lock the run")?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM run_chunk WHERE run_id = $1")
        .bind(run_id)
        .fetch_one(&mut *transaction)
        .await
        .operation("count the run's chunks")?;
    if existing == 0 {
        let numbers: Vec<i32> = (0..chunks.len())
            .map(|number| i32::try_from(number).unwrap_or(i32::MAX))
            .collect();
        let firsts: Vec<Uuid> = chunks.iter().map(|(range, _)| range.first).collect();
        let lasts: Vec<Uuid> = chunks.iter().map(|(range, _)| range.last).collect();
        let counts: Vec<i32> = chunks
            .iter()
            .map(|(_, schedules)| i32::try_from(*schedules).unwrap_or(i32::MAX))
            .collect();
        sqlx::query(
            "INSERT INTO run_chunk (run_id, chunk, first_agreement, last_agreement, schedules) \
             SELECT $1, * FROM UNNEST($2::integer[], $3::uuid[], $4::uuid[], $5::integer[])",
        )
        .bind(run_id)
        .bind(numbers)
        .bind(firsts)
        .bind(lasts)
        .bind(counts)
        .execute(&mut *transaction)
        .await
        .operation("record the run's chunks")?;
    }
    transaction
        .commit()
        .await
        .operation("database connection")?;
    of_run(pool, run_id).await
}

/// The run's chunks in order.
pub async fn of_run(pool: &PgPool, run_id: Uuid) -> Result<Vec<Chunk>, PaymentsError> {
    let rows: Vec<(i32, Uuid, Uuid, i32, bool, Option<String>)> = sqlx::query_as(
        "SELECT chunk, first_agreement, last_agreement, schedules, done_at IS NOT NULL, failed \
         FROM run_chunk WHERE run_id = $1 ORDER BY chunk",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await
    .operation("read the run's chunks")?;
    Ok(rows
        .into_iter()
        .map(|(chunk, first, last, schedules, done, failed)| Chunk {
            run_id,
            chunk,
            range: ScheduleRange { first, last },
            schedules: u64::try_from(schedules).unwrap_or_default(),
            done,
            failed,
        })
        .collect())
}

/// One chunk of a run, if the run has it.
pub async fn get(pool: &PgPool, run_id: Uuid, chunk: i32) -> Result<Option<Chunk>, PaymentsError> {
    let row: Option<(Uuid, Uuid, i32, bool, Option<String>)> = sqlx::query_as(
        "SELECT first_agreement, last_agreement, schedules, done_at IS NOT NULL, failed \
         FROM run_chunk WHERE run_id = $1 AND chunk = $2",
    )
    .bind(run_id)
    .bind(chunk)
    .fetch_optional(pool)
    .await
    .operation("read a chunk")?;
    Ok(row.map(|(first, last, schedules, done, failed)| Chunk {
        run_id,
        chunk,
        range: ScheduleRange { first, last },
        schedules: u64::try_from(schedules).unwrap_or_default(),
        done,
        failed,
    }))
}

/// Marks a chunk done by the replica `by` (again changes nothing).
pub async fn mark_done(
    pool: &PgPool,
    run_id: Uuid,
    chunk: i32,
    by: &str,
) -> Result<(), PaymentsError> {
    sqlx::query(
        "UPDATE run_chunk SET done_at = now(), done_by = $3, failed = NULL \
         WHERE run_id = $1 AND chunk = $2 AND done_at IS NULL",
    )
    .bind(run_id)
    .bind(chunk)
    .bind(by)
    .execute(pool)
    .await
    .operation("mark a chunk done")?;
    Ok(())
}

/// Records why a chunk cannot be worked on (a refusal, not an outage); a chunk done since
/// stays done.
pub async fn mark_failed(
    pool: &PgPool,
    run_id: Uuid,
    chunk: i32,
    reason: &str,
) -> Result<(), PaymentsError> {
    let reason: String = reason.chars().take(2000).collect();
    sqlx::query(
        "UPDATE run_chunk SET failed = $3 WHERE run_id = $1 AND chunk = $2 AND done_at IS NULL",
    )
    .bind(run_id)
    .bind(chunk)
    .bind(if reason.is_empty() {
        "unknown"
    } else {
        reason.as_str()
    })
    .execute(pool)
    .await
    .operation("mark a chunk failed")?;
    Ok(())
}

/// Clears what the run's unfinished chunks failed with, as a run asked for again tries them
/// again.
pub async fn clear_failures(pool: &PgPool, run_id: Uuid) -> Result<(), PaymentsError> {
    sqlx::query("UPDATE run_chunk SET failed = NULL WHERE run_id = $1 AND failed IS NOT NULL")
        .bind(run_id)
        .execute(pool)
        .await
        .operation("clear failed chunks")?;
    Ok(())
}
