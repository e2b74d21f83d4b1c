//! The ledger benchmark (QUALITY.md P2): posting through the ledger service against the
//! same SQL with no service in between, on the same PostgreSQL in the same run, at two
//! ledger sizes so that the cost per transfer is seen to stay flat.
//!
//! For each size the run creates two scratch databases, both migrated by the ledger's own
//! migrations (same tables, indexes, constraints, foreign keys and triggers): one the
//! service runs on, one the raw baseline writes into, so raw rows (which have no hash-chain
//! link) never reach the books the audit reads. Both are seeded with the same funds and
//! accounts ([`seed`], by SQL: those rows are not history), and every fund gets the same
//! opening funding on both sides (through `PostBulk` on the service's). Then each
//! phase posts the same planned transfers on both sides ([`workload`]). Single and batch
//! are cut into rounds in which the sides take turns, the service first, so a host whose
//! speed drifts (other tenants, CPU steal) slows both alike. Each side starts each turn
//! settled ([`settle`]: the service's events published, its chain linked, both databases
//! vacuumed, and at a phase's start the cluster checkpointed), so neither pays for what
//! came before it:
//!
//! - **single**: `CreateTransfers` of one transfer, from `clients` concurrent clients (a
//!   gRPC channel each), against one posting a transaction on as many connections;
//! - **batch**: `CreateTransfers` of `batch_size` transfers, from as many clients, against
//!   the same SQL batched as many a transaction (`UNNEST`, one set-based update);
//! - **bulk**: the transfers of a payment run streamed through `PostBulk` in chunks,
//!   against `COPY` of the same rows plus one set-based update of the balances touched.
//!
//! The service pays for work the raw side does not do, and the ratio counts it: gRPC and
//! the token, validation, idempotency look-ups, the hash-chain link, `ledger.posted` in
//! the outbox (published to NATS by the relay running alongside, on the same 2 cores).
//! Afterwards the ledger audit (`sds ledger audit`'s code) runs on the service's database:
//! any violation, any error reaching a caller, fails the run. So `deadlocks` in the JSON
//! line is PostgreSQL's own count (`pg_stat_database`) over the run in both scratch
//! databases: a deadlock or serialization failure that reached a caller has already
//! failed the run, loudly, before any figure is printed.

mod clients;
mod raw;
mod report;
mod seed;
mod service;
mod workload;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, ensure};
use sqlx::PgPool;

use super::scratch::{config_for, drop_database, scratch_database};
pub use report::LedgerBenchReport;
use report::{Pair, SizeReport};
use service::Service;
use workload::{Picker, Planned};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Ledger sizes, in accounts (four a fund).
    pub accounts: Vec<usize>,
    /// Transfers posted one a call.
    pub single: usize,
    /// Calls of `batch_size` transfers.
    pub batches: usize,
    pub batch_size: usize,
    /// Transfers posted in bulk.
    pub bulk: usize,
    /// Transfers per bulk chunk.
    pub bulk_chunk: usize,
    /// Concurrent clients (and raw connections).
    pub clients: usize,
    /// Rounds the single and batch phases are cut into, the two sides taking turns.
    pub rounds: usize,
}

/// Runs every size in `options`, smallest first.
pub async fn ledger_benchmark(
    database_url: &str,
    nats_url: &str,
    options: &Options,
) -> anyhow::Result<LedgerBenchReport> {
    ensure!(!options.accounts.is_empty(), "--accounts names no size");
    ensure!(
        options.single > 0 && options.batches > 0 && options.bulk > 0,
        "--single, --batches and --bulk must each be at least 1"
    );
    ensure!(options.clients > 0, "--clients must be at least 1");
    ensure!(options.rounds > 0, "--rounds must be at least 1");
    let admin = PgPool::connect(database_url)
        .await
        .with_context(|| format!("connect to PostgreSQL at {database_url}"))?;
    let mut sizes = options.accounts.clone();
    sizes.sort_unstable();
    sizes.dedup();
    let mut report = LedgerBenchReport {
        clients: options.clients,
        batch_size: options.batch_size,
        bulk_chunk: options.bulk_chunk,
        sizes: Vec::new(),
    };
    for accounts in sizes {
        let (ours_name, ours_url) = scratch_database(&admin, database_url, "ledger").await?;
        let (raw_name, raw_url) = scratch_database(&admin, database_url, "ledger_raw").await?;
        let names = [ours_name, raw_name];
        let measured = measure_size(
            &admin, &names, &ours_url, &raw_url, nats_url, accounts, options,
        )
        .await;
        for name in &names {
            drop_database(&admin, name).await;
        }
        report.sizes.push(measured?);
    }
    admin.close().await;
    Ok(report)
}

/// Deadlocks PostgreSQL has counted in the databases `names`.
async fn deadlocks(admin: &PgPool, names: &[String]) -> anyhow::Result<i64> {
    // A fresh snapshot: the statistics are otherwise cached for the transaction.
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(admin)
        .await?;
    sqlx::query_scalar(
        "SELECT coalesce(sum(deadlocks), 0)::bigint FROM pg_stat_database WHERE datname = ANY($1)",
    )
    .bind(names)
    .fetch_one(admin)
    .await
    .context("read pg_stat_database")
}

/// Waits until the service has published every event and chained every link it staged
/// (up to a minute), vacuums and analyses both scratch databases and waits for any
/// autovacuum worker still running, then (when asked) checkpoints the cluster, so each measured phase
/// of either side starts from the same quiet state and pays for its own work only, not for
/// what an earlier phase or the seeding left behind. Without the vacuum, the 250,000
/// opening fundings of the larger ledger set autovacuum off on both databases' tables just
/// as the service's single phase, which runs first, begins.
async fn settle(
    ours: &PgPool,
    raw: &PgPool,
    admin: &PgPool,
    checkpoint: Checkpoint,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (unpublished, staged): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL), \
                    (SELECT count(*) FROM chain_pending)",
        )
        .fetch_one(ours)
        .await
        .context("read the service's backlog")?;
        if (unpublished == 0 && staged == 0) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for pool in [ours, raw] {
        // VACUUM cannot run in a transaction block: sent alone, by the simple protocol.
        sqlx::raw_sql("VACUUM (ANALYZE)")
            .execute(pool)
            .await
            .context("vacuum a scratch database")?;
    }
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    while Instant::now() < deadline {
        sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(admin)
            .await?;
        let vacuuming: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'",
        )
        .fetch_one(admin)
        .await
        .context("read pg_stat_activity")?;
        if vacuuming == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if checkpoint == Checkpoint::Now {
        // Needs a superuser (or pg_checkpoint); without it the phases just start unsettled.
        if let Err(error) = sqlx::query("CHECKPOINT").execute(admin).await {
            eprintln!("ledger bench: no checkpoint between phases ({error})");
        }
    }
    Ok(())
}

/// Whether [`settle`] checkpoints the cluster: at the start of a phase, so no checkpoint
/// that an earlier phase's writes made due falls into it, but not between its rounds. After
/// a checkpoint the first change to each page writes the whole page to the WAL, and on the
/// larger ledger nearly every posting touches pages no other has touched since; a
/// checkpoint before every round would measure both sides at that worst moment only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checkpoint {
    Now,
    NotYet,
}

#[allow(clippy::too_many_arguments)]
async fn measure_size(
    admin: &PgPool,
    names: &[String],
    ours_url: &str,
    raw_url: &str,
    nats_url: &str,
    accounts: usize,
    options: &Options,
) -> anyhow::Result<SizeReport> {
    // Building the service migrates its database; the raw one is migrated the same way.
    let service = Arc::new(Service::start(ours_url, nats_url, options.clients).await?);
    sds_runtime::migrate(&config_for(raw_url, nats_url)?, &[sds_ledger::component()]).await?;
    let ours_pool = sds_platform::db::connect(ours_url, sds_ledger::SCHEMA, 2).await?;
    let raw_pool = sds_platform::db::connect(
        raw_url,
        sds_ledger::SCHEMA,
        u32::try_from(options.clients).unwrap_or(u32::MAX),
    )
    .await?;
    let raw = raw::Raw::new(raw_pool.clone(), options.clients);

    let fleet = workload::fleet(accounts);
    eprintln!(
        "ledger bench: {} accounts ({} funds): seeding",
        fleet.len() * workload::ACCOUNTS_PER_FUND,
        fleet.len()
    );
    let seeding = Instant::now();
    seed::seed(&ours_pool, &fleet).await?;
    seed::seed(&raw_pool, &fleet).await?;
    let seeding = seeding.elapsed();
    let deadlocks_before = deadlocks(admin, names).await?;

    eprintln!("ledger bench: opening funding");
    let opening = Arc::new(workload::opening_funding(&fleet));
    let funding = service
        .post_bulk(Arc::clone(&opening), options.bulk_chunk)
        .await
        .context("opening funding")?;
    raw.bulk(&opening).await?;

    // The same seed at every size, so sizes differ only in how many funds there are.
    let mut picker = Picker::seeded(0x1ed6e7);
    eprintln!("ledger bench: single");
    let planned = Arc::new(workload::transfers(
        &fleet,
        &mut picker,
        "single",
        options.single,
    ));
    let settled = Settle {
        ours: &ours_pool,
        raw: &raw_pool,
        admin,
    };
    let single = both(&service, &raw, &planned, 1, &settled, options.rounds)
        .await
        .context("single")?;
    eprintln!("ledger bench: batch");
    let planned = Arc::new(workload::transfers(
        &fleet,
        &mut picker,
        "batch",
        options.batches * options.batch_size,
    ));
    let batch = both(
        &service,
        &raw,
        &planned,
        options.batch_size,
        &settled,
        options.rounds,
    )
    .await
    .context("batch")?;
    eprintln!("ledger bench: bulk");
    let planned = Arc::new(workload::transfers(
        &fleet,
        &mut picker,
        "bulk",
        options.bulk,
    ));
    settled.wait(Checkpoint::Now).await?;
    let ours = service
        .post_bulk(Arc::clone(&planned), options.bulk_chunk)
        .await
        .context("bulk")?;
    settled.wait(Checkpoint::Now).await?;
    let bulk = Pair {
        ours,
        raw: raw.bulk(&planned).await.context("bulk, raw")?,
    };

    let service = Arc::into_inner(service).context("the service is still in use")?;
    service.stop().await?;
    raw.close().await;
    eprintln!("ledger bench: auditing");
    let audit = sds_ledger::audit::run(&ours_pool).await;
    ours_pool.close().await;
    let audit = audit?;
    for violation in &audit.violations {
        eprintln!("{}: {}", violation.kind, violation.detail);
    }
    ensure!(
        audit.is_clean(),
        "the audit found {} violations of the ledger's invariants after the benchmark: {}",
        audit.violations.len(),
        audit.json_line()
    );
    let deadlocks = deadlocks(admin, names).await? - deadlocks_before;
    Ok(SizeReport {
        accounts: fleet.len() * workload::ACCOUNTS_PER_FUND,
        funds: fleet.len(),
        seeding,
        funding,
        single,
        batch,
        bulk,
        deadlocks,
        audit: audit.json_line(),
    })
}

/// What [`settle`] needs, carried to each phase.
struct Settle<'a> {
    ours: &'a PgPool,
    raw: &'a PgPool,
    admin: &'a PgPool,
}

impl Settle<'_> {
    async fn wait(&self, checkpoint: Checkpoint) -> anyhow::Result<()> {
        settle(self.ours, self.raw, self.admin, checkpoint).await
    }
}

/// Posts `planned` through the service and the same rows raw, `per_call` a call, in
/// `rounds` turns (the service's share of a round, then the raw side's, each settled
/// first), so that a host whose speed drifts during the phase (other tenants' load, CPU
/// steal) slows both sides alike instead of whichever happened to run at the bad moment.
async fn both(
    service: &Arc<Service>,
    raw: &raw::Raw,
    planned: &Arc<Vec<Planned>>,
    per_call: usize,
    settled: &Settle<'_>,
    rounds: usize,
) -> anyhow::Result<Pair> {
    // Whole calls per round, so each side posts exactly the calls of the whole phase.
    let calls = planned.len().div_ceil(per_call.max(1));
    let per_round = calls.div_ceil(rounds.max(1)) * per_call.max(1);
    let mut pair = Pair::default();
    for (index, round) in planned.chunks(per_round.max(1)).enumerate() {
        let round = Arc::new(round.to_vec());
        settled
            .wait(if index == 0 {
                Checkpoint::Now
            } else {
                Checkpoint::NotYet
            })
            .await?;
        pair.ours.absorb(
            service
                .create_transfers(Arc::clone(&round), per_call)
                .await?,
        );
        settled.wait(Checkpoint::NotYet).await?;
        pair.raw.absorb(raw.post(round, per_call).await?);
    }
    Ok(pair)
}
