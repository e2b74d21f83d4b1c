//! `sds bench ...`: benchmarks that measure a raw baseline in the same run and report the
//! ratio, printing a table and writing `bench/results/<name>.json`.

mod assessment_import;
mod ledger;
mod notify;
mod payment_run;
pub(crate) mod scratch;

use std::path::{Path, PathBuf};

use anyhow::Context;

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Outbox relay throughput against raw JetStream async publish (QUALITY.md P3, relay part).
    OutboxRelay {
        /// How many events each side publishes.
        #[arg(long, default_value_t = 50_000)]
        events: usize,
        #[arg(long, env = "SDS_DATABASE_URL", hide_env_values = true, default_value = sds_platform::config::DEFAULT_DATABASE_URL)]
        database_url: String,
        #[arg(long, env = "SDS_NATS_URL", hide_env_values = true, default_value = sds_platform::config::DEFAULT_NATS_URL)]
        nats_url: String,
        /// How long the benchmark streams remember message ids, as `SDS_EVENTS` would.
        #[arg(long, env = "SDS_EVENTS_DUPLICATE_WINDOW_SECONDS", default_value_t = sds_platform::config::DEFAULT_DUPLICATE_WINDOW.as_secs())]
        duplicate_window_seconds: u64,
        /// The copies each benchmark stream keeps (1, or 3 on a NATS cluster given as
        /// --nats-url a,b,c), as SDS_EVENTS would.
        #[arg(long, env = "SDS_EVENTS_REPLICAS", default_value_t = 1)]
        replicas: usize,
        /// Where the JSON figures go.
        #[arg(long, default_value = "bench/results/outbox-relay.json")]
        output: PathBuf,
    },
    /// The case-system import against raw INSERT ... UNNEST of the same rows (QUALITY.md
    /// P4). Works in scratch databases it creates and drops; the last line is JSON.
    AssessmentImport {
        /// How many people (about 1.33 plan lines each).
        #[arg(long, default_value_t = 100_000)]
        people: usize,
        #[arg(long, env = "SDS_DATABASE_URL", hide_env_values = true, default_value = sds_platform::config::DEFAULT_DATABASE_URL)]
        database_url: String,
        #[arg(long, env = "SDS_NATS_URL", hide_env_values = true, default_value = sds_platform::config::DEFAULT_NATS_URL)]
        nats_url: String,
        /// Where the JSON figures go.
        #[arg(long, default_value = "bench/results/assessment-import.json")]
        output: PathBuf,
    },
    /// Posting through the ledger (single transfers, batches, bulk) against the same SQL
    /// with no service in between (QUALITY.md P2), at each ledger size. Works in scratch
    /// databases it creates and drops; audits the books after; the last line is JSON.
    Ledger {
        /// Ledger sizes in accounts (four a fund), comma-separated; the JSON line reports
        /// the largest.
        #[arg(long, value_delimiter = ',', default_values_t = [10_000, 1_000_000])]
        accounts: Vec<usize>,
        /// Transfers posted one per `CreateTransfers`, at each size.
        #[arg(long, default_value_t = 8_000)]
        single: usize,
        /// `CreateTransfers` calls of `--batch-size` transfers, at each size.
        #[arg(long, default_value_t = 200)]
        batches: usize,
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
        /// Transfers posted through `PostBulk`, at each size.
        #[arg(long, default_value_t = 1_000_000)]
        bulk: usize,
        /// Transfers per `PostBulk` chunk (the service takes at most 10,000).
        #[arg(long, default_value_t = 10_000)]
        bulk_chunk: usize,
        /// Concurrent clients for single and batch (and raw connections).
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Turns the single and batch phases are cut into: the service's share of each
        /// round, then the raw side's, so a host whose speed drifts slows both alike.
        #[arg(long, default_value_t = 4)]
        rounds: usize,
        #[arg(long, env = "SDS_DATABASE_URL", hide_env_values = true, default_value = sds_platform::config::DEFAULT_DATABASE_URL)]
        database_url: String,
        #[arg(long, env = "SDS_NATS_URL", hide_env_values = true, default_value = sds_platform::config::DEFAULT_NATS_URL)]
        nats_url: String,
        /// Where the JSON figures go.
        #[arg(long, default_value = "bench/results/ledger.json")]
        output: PathBuf,
    },
    /// QUALITY.md P3: plan variation agreed -> schedule recomputed -> the provider's portal
    /// subscriber told, at a steady rate, every service in this process on a scratch
    /// database; against raw NATS publish -> subscriber in the same run. The last line is
    /// `{"rate_per_s": x, "p50_ms": x, "p99_ms": x, "lost": 0, "duplicated": 0, ...}`.
    Notify {
        /// What is done at the rate: the last signature of variations made ready
        /// beforehand, or each variation's whole workflow.
        #[arg(long, value_enum, default_value_t = notify::Load::LastSignature)]
        load: notify::Load,
        /// People with an active agreement (default: the rate times the seconds for
        /// `last-signature`, which varies each once; 200 for `whole-workflow`).
        #[arg(long)]
        agreements: Option<usize>,
        /// Variations a second to aim at.
        #[arg(long, default_value_t = 200)]
        rate: u32,
        /// How long to keep the rate up, in seconds.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        #[arg(long, env = "SDS_DATABASE_URL", hide_env_values = true, default_value = sds_platform::config::DEFAULT_DATABASE_URL)]
        database_url: String,
        #[arg(long, env = "SDS_NATS_URL", hide_env_values = true, default_value = sds_platform::config::DEFAULT_NATS_URL)]
        nats_url: String,
        #[arg(long, default_value = "bench/results/notify.json")]
        output: PathBuf,
    },
    /// QUALITY.md P1: one payment run over `--lines` generated schedule lines (mixed
    /// frequencies, timings, holding models and backdated variations), end to end through
    /// payments and the ledger, against a raw baseline writing the same rows by hand. The
    /// last line is `{"lines": N, "seconds": x, "raw_seconds": x, "ratio": x, "peak_rss_mb": x}`.
    PaymentRun {
        #[arg(long, default_value_t = 1_000_000)]
        lines: usize,
        /// Payments replicas sharing the run (1 to 8), each with its own pool and chunk
        /// worker, all in this process; with more than one the last line adds `"replicas"`.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=8))]
        replicas: u8,
        #[arg(long, env = "SDS_DATABASE_URL", hide_env_values = true, default_value = sds_platform::config::DEFAULT_DATABASE_URL)]
        database_url: String,
        #[arg(long, env = "SDS_NATS_URL", hide_env_values = true, default_value = sds_platform::config::DEFAULT_NATS_URL)]
        nats_url: String,
        #[arg(long, default_value = "bench/results/payment-run.json")]
        output: PathBuf,
    },
}

fn write_figures(output: &Path, json: &str) -> anyhow::Result<()> {
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("create {}", parent.display()))?;
    }
    std::fs::write(output, json).with_context(|| format!("write {}", output.display()))?;
    eprintln!("figures written to {}", output.display());
    Ok(())
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::OutboxRelay {
            events,
            database_url,
            nats_url,
            duplicate_window_seconds,
            replicas,
            output,
        } => {
            let report = sds_events::bench::relay_benchmark(
                &database_url,
                &nats_url,
                events,
                std::time::Duration::from_secs(duplicate_window_seconds),
                replicas,
            )
            .await?;
            println!("{}", report.table());
            write_figures(&output, &report.to_json())
        }
        BenchCommand::AssessmentImport {
            people,
            database_url,
            nats_url,
            output,
        } => {
            let report =
                assessment_import::import_benchmark(&database_url, &nats_url, people).await?;
            println!("{}", report.table());
            let json = report.to_json();
            write_figures(&output, &json)?;
            println!("{json}");
            Ok(())
        }
        BenchCommand::Notify {
            load,
            agreements,
            rate,
            seconds,
            database_url,
            nats_url,
            output,
        } => {
            let report = notify::notify_benchmark(
                &database_url,
                &nats_url,
                notify::Options {
                    load,
                    agreements: agreements.unwrap_or(match load {
                        notify::Load::LastSignature => {
                            usize::try_from(u64::from(rate).saturating_mul(seconds))
                                .unwrap_or(usize::MAX)
                        }
                        notify::Load::WholeWorkflow => 200,
                    }),
                    rate,
                    seconds,
                },
            )
            .await?;
            println!("{}", report.table());
            let json = report.to_json();
            write_figures(&output, &json)?;
            println!("{json}");
            Ok(())
        }
        BenchCommand::PaymentRun {
            lines,
            replicas,
            database_url,
            nats_url,
            output,
        } => {
            let report =
                payment_run::payment_run_benchmark(&database_url, &nats_url, lines, replicas)
                    .await?;
            println!("{}", report.table());
            let json = report.to_json();
            write_figures(&output, &json)?;
            println!("{json}");
            Ok(())
        }
        BenchCommand::Ledger {
            accounts,
            single,
            batches,
            batch_size,
            bulk,
            bulk_chunk,
            clients,
            rounds,
            database_url,
            nats_url,
            output,
        } => {
            let options = ledger::Options {
                accounts,
                single,
                batches,
                batch_size,
                bulk,
                bulk_chunk,
                clients,
                rounds,
            };
            let report = ledger::ledger_benchmark(&database_url, &nats_url, &options).await?;
            println!("{}", report.table());
            // The audit's own summary line for each size's books, then the figures.
            for size in &report.sizes {
                println!("audit of the {}-account ledger:", size.accounts);
                println!("{}", size.audit);
            }
            let json = report.to_json();
            write_figures(&output, &json)?;
            println!("{json}");
            Ok(())
        }
    }
}
