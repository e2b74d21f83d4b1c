//! The raw baseline of a payment run: the rows the run wrote, written again by hand into a
//! database seeded and migrated alike, in one transaction: `COPY` of the instalments, `COPY`
//! of the ledger's transfers and entries, and one set-based update of the balances they
//! touch. Reading the rows out of the service's database is not timed.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::TryStreamExt as _;
use sqlx::PgPool;
use uuid::Uuid;

use sds::payment_run_seed::AUTHORITY;

pub struct RawRun {
    pub schedules: usize,
    pub transfers: u64,
    pub elapsed: Duration,
}

async fn copied_out(pool: &PgPool, statement: &str) -> anyhow::Result<Vec<u8>> {
    let mut connection = pool.acquire().await?;
    let chunks: Vec<bytes::Bytes> = connection
        .copy_out_raw(statement)
        .await
        .with_context(|| format!("copy out: {statement}"))?
        .try_collect()
        .await?;
    Ok(chunks.concat())
}

/// Writes the rows run `run_id` wrote in the service's database (`ours_url`) into the raw
/// one, timed.
pub async fn same_rows(ours_url: &str, raw_url: &str, run_id: Uuid) -> anyhow::Result<RawRun> {
    let ours_payments = sds_platform::db::connect(ours_url, sds_payments::SCHEMA, 2).await?;
    let ours_ledger = sds_platform::db::connect(ours_url, sds_ledger::SCHEMA, 2).await?;
    let instalments = copied_out(
        &ours_payments,
        &format!(
            "COPY (SELECT agreement_id, period_start, period_end, due_date, base, adjustment, \
                 amount, run_id, posted FROM instalment_payment WHERE run_id = '{run_id}') TO STDOUT"
        ),
    )
    .await?;
    let schedules: i64 = sqlx::query_scalar("SELECT count(*) FROM schedule")
        .fetch_one(&ours_payments)
        .await?;
    let transfers = copied_out(
        &ours_ledger,
        "COPY (SELECT id, batch_id, fund_id, credit_fund_id, debit_account_id, credit_account_id, \
             amount_pence, category, reference, note, pending, created_at, created_on, created_by \
             FROM transfer) TO STDOUT",
    )
    .await?;
    let entries = copied_out(
        &ours_ledger,
        "COPY (SELECT transfer_id, account_id, amount_pence, posted_at, posted_on FROM entry) TO STDOUT",
    )
    .await?;
    let transfer_count =
        u64::try_from(transfers.iter().filter(|byte| **byte == b'\n').count()).unwrap_or_default();
    ours_payments.close().await;
    ours_ledger.close().await;

    let raw_payments = sds_platform::db::connect(raw_url, sds_payments::SCHEMA, 1).await?;
    sqlx::query(
        "INSERT INTO payment_run (run_id, authority, run_date, status, requested_by) \
         VALUES ($1, $2, DATE '2026-12-01', 'posting', 'bench')",
    )
    .bind(run_id)
    .bind(AUTHORITY)
    .execute(&raw_payments)
    .await
    .context("the raw run's row")?;
    raw_payments.close().await;
    // One connection working in the ledger's schema; payments' table is named in full.
    let raw = sds_platform::db::connect(raw_url, sds_ledger::SCHEMA, 1).await?;

    let started = Instant::now();
    let mut transaction = raw.begin().await?;
    let mut copy = transaction
        .copy_in_raw(
            "COPY payments.instalment_payment (agreement_id, period_start, period_end, due_date, \
                 base, adjustment, amount, run_id, posted) FROM STDIN",
        )
        .await?;
    copy.send(instalments.as_slice()).await?;
    copy.finish().await?;
    let after_instalments = started.elapsed();
    let mut copy = transaction
        .copy_in_raw(
            "COPY transfer (id, batch_id, fund_id, credit_fund_id, debit_account_id, \
                 credit_account_id, amount_pence, category, reference, note, pending, \
                 created_at, created_on, created_by) FROM STDIN",
        )
        .await?;
    copy.send(transfers.as_slice()).await?;
    copy.finish().await?;
    let after_transfers = started.elapsed();
    let mut copy = transaction
        .copy_in_raw(
            "COPY entry (transfer_id, account_id, amount_pence, posted_at, posted_on) FROM STDIN",
        )
        .await?;
    copy.send(entries.as_slice()).await?;
    copy.finish().await?;
    let after_entries = started.elapsed();
    sqlx::query(
        "UPDATE account a SET debits_posted = a.debits_posted + m.debits, \
             credits_posted = a.credits_posted + m.credits, version = a.version + 1 \
         FROM (SELECT account_id, \
                   coalesce(sum(-amount_pence) FILTER (WHERE amount_pence < 0), 0) AS debits, \
                   coalesce(sum(amount_pence) FILTER (WHERE amount_pence > 0), 0) AS credits \
               FROM entry GROUP BY account_id) m \
         WHERE a.id = m.account_id",
    )
    .execute(&mut *transaction)
    .await
    .context("update the balances")?;
    let after_balances = started.elapsed();
    transaction.commit().await?;
    let elapsed = started.elapsed();
    // Where the raw time goes, for whoever tunes the ledger's write path (stderr: the last
    // line on stdout stays the figures).
    eprintln!(
        "raw: instalments {:.1} s, transfers {:.1} s, entries {:.1} s, balances {:.1} s, commit {:.1} s",
        after_instalments.as_secs_f64(),
        (after_transfers - after_instalments).as_secs_f64(),
        (after_entries - after_transfers).as_secs_f64(),
        (after_balances - after_entries).as_secs_f64(),
        (elapsed - after_balances).as_secs_f64()
    );
    raw.close().await;
    Ok(RawRun {
        schedules: usize::try_from(schedules).unwrap_or_default(),
        transfers: transfer_count,
        elapsed,
    })
}
