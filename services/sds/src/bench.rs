//! `sds bench ...`: benchmarks that measure a raw baseline in the same run and report the
//! ratio, printing a table and writing `bench/results/<name>.json`.

use std::path::PathBuf;

use anyhow::Context;

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Outbox relay throughput against raw JetStream async publish (QUALITY.md P3, relay part).
    OutboxRelay {
        /// How many events each side publishes.
        #[arg(long, default_value_t = 50_000)]
        events: usize,
        #[arg(long, env = "SDS_DATABASE_URL", default_value = sds_platform::config::DEFAULT_DATABASE_URL)]
        database_url: String,
        #[arg(long, env = "SDS_NATS_URL", default_value = sds_platform::config::DEFAULT_NATS_URL)]
        nats_url: String,
        /// How long the benchmark streams remember message ids, as `SDS_EVENTS` would.
        #[arg(long, env = "SDS_EVENTS_DUPLICATE_WINDOW_SECONDS", default_value_t = sds_platform::config::DEFAULT_DUPLICATE_WINDOW.as_secs())]
        duplicate_window_seconds: u64,
        /// Where the JSON figures go.
        #[arg(long, default_value = "bench/results/outbox-relay.json")]
        output: PathBuf,
    },
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::OutboxRelay {
            events,
            database_url,
            nats_url,
            duplicate_window_seconds,
            output,
        } => {
            let report = sds_events::bench::relay_benchmark(
                &database_url,
                &nats_url,
                events,
                std::time::Duration::from_secs(duplicate_window_seconds),
            )
            .await?;
            println!("{}", report.table());
            if let Some(parent) = output.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("create {}", parent.display()))?;
            }
            std::fs::write(&output, report.to_json())
                .with_context(|| format!("write {}", output.display()))?;
            eprintln!("figures written to {}", output.display());
            Ok(())
        }
    }
}
