//! `sds bench payment-run` (QUALITY.md P1): one payment run over N schedule lines, end to
//! end through the service, against a raw baseline that writes the same rows by hand.
//!
//! Two scratch databases are created, migrated by payments' and the ledger's own migrations
//! and dropped afterwards. Both are seeded alike, untimed ([`seed`]): the schedules and
//! the funds a first run would have opened. Then:
//!
//! - **ours**: the ledger and payments run in this process (as `sds serve` runs them),
//!   and `RunPayments` is called as finance staff for the run date, timed from the call to
//!   its last progress message: planning every schedule, posting through the ledger's bulk
//!   posting, writing the journal, completing. Peak RSS is the process's high-water mark
//!   over the run (reset just before it);
//! - **raw**: the rows the run wrote (its instalments, the ledger's transfers and entries)
//!   are read back and written into the raw database by hand in one transaction: `COPY` of
//!   the instalments, `COPY` of the transfers and entries, one set-based update of the
//!   balances they touch.
//!
//! The last line is `{"lines": N, "seconds": x, "raw_seconds": x, "ratio": x, "peak_rss_mb": x}`,
//! with `ratio` = seconds / raw_seconds (P1: at most 3, and at most 60 s for 1,000,000 lines).
//! `--replicas N` shares the run among N payments replicas (issue 12): each its own pool
//! and chunk worker in this process, the first one's ledger theirs; the line then ends with
//! `"replicas": N`, and the peak RSS is all of them together.

mod raw;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use sds::payment_run_seed as seed;
use sds_proto::v1 as proto;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sqlx::PgPool;

use super::scratch::{drop_database, scratch_database, thousandths};
use seed::AUTHORITY;

/// What one benchmark run measured.
#[derive(Debug, Clone)]
pub struct PaymentRunReport {
    pub lines: usize,
    /// Payments replicas that shared the run.
    pub replicas: u8,
    pub schedules: usize,
    pub instalments: u64,
    pub transfers: u64,
    pub total: String,
    pub seconds: Duration,
    pub raw_seconds: Duration,
    pub peak_rss_kib: u64,
    pub seeded_in: Duration,
}

impl PaymentRunReport {
    fn ratio_thousandths(&self) -> u128 {
        (self.seconds.as_micros() * 1000) / self.raw_seconds.as_micros().max(1)
    }

    pub fn table(&self) -> String {
        format!(
            "payment run: {} lines in {} schedules (seeded in {} s), {} payments replica(s); {} instalments paid, {} ledger transfers, {} in all\n\
             \x20 ours {} s, raw {} s, ours / raw {} (target at most 3.000; at most 60 s for 1,000,000 lines); peak RSS {} MB (target at most 512)",
            self.lines,
            self.schedules,
            thousandths(self.seeded_in.as_millis()),
            self.replicas,
            self.instalments,
            self.transfers,
            self.total,
            thousandths(self.seconds.as_millis()),
            thousandths(self.raw_seconds.as_millis()),
            thousandths(self.ratio_thousandths()),
            self.peak_rss_kib / 1024,
        )
    }

    /// P1's line; a run shared by more than one replica adds how many.
    pub fn to_json(&self) -> String {
        let replicas = if self.replicas > 1 {
            format!(", \"replicas\": {}", self.replicas)
        } else {
            String::new()
        };
        format!(
            "{{\"lines\": {}, \"seconds\": {}, \"raw_seconds\": {}, \"ratio\": {}, \"peak_rss_mb\": {}{replicas}}}",
            self.lines,
            thousandths(self.seconds.as_millis()),
            thousandths(self.raw_seconds.as_millis()),
            thousandths(self.ratio_thousandths()),
            self.peak_rss_kib / 1024,
        )
    }
}

pub async fn payment_run_benchmark(
    database_url: &str,
    nats_url: &str,
    lines: usize,
    replicas: u8,
) -> anyhow::Result<PaymentRunReport> {
    ensure!(lines > 0, "--lines must be at least 1");
    let admin = PgPool::connect(database_url)
        .await
        .with_context(|| format!("connect to {database_url}"))?;
    let (ours_name, ours_url) = scratch_database(&admin, database_url, "payrun").await?;
    let (raw_name, raw_url) = scratch_database(&admin, database_url, "payrun_raw").await?;
    let exports = std::env::temp_dir().join(format!("sds-bench-exports-{ours_name}"));
    let measured = measure(&ours_url, &raw_url, nats_url, &exports, lines, replicas).await;
    drop_database(&admin, &ours_name).await;
    drop_database(&admin, &raw_name).await;
    let _ = std::fs::remove_dir_all(&exports);
    admin.close().await;
    measured
}

fn config(
    database_url: &str,
    nats_url: &str,
    exports: &std::path::Path,
) -> anyhow::Result<sds_platform::PlatformConfig> {
    replica_config(database_url, nats_url, exports, None)
}

/// The configuration of the benchmark's processes; a payments replica of its own reaches
/// the ledger at `ledger`.
fn replica_config(
    database_url: &str,
    nats_url: &str,
    exports: &std::path::Path,
    ledger: Option<SocketAddr>,
) -> anyhow::Result<sds_platform::PlatformConfig> {
    let database_url = database_url.to_owned();
    let nats_url = nats_url.to_owned();
    let exports = exports.display().to_string();
    sds_platform::PlatformConfig::from_lookup(move |name| match name {
        "SDS_LEDGER_URL" => ledger.map(|addr| format!("http://{addr}")),
        "SDS_DATABASE_URL" => Some(database_url.clone()),
        "SDS_NATS_URL" => Some(nats_url.clone()),
        "SDS_LISTEN_ADDR" | "SDS_HTTP_ADDR" => Some("127.0.0.1:0".to_owned()),
        "SDS_REFLECTION" => Some("off".to_owned()),
        // One client drives the whole load: a per-caller limit would measure the limit.
        "SDS_RATE_LIMIT_PER_SECOND" => Some("off".to_owned()),
        "SDS_EXPORTS_DIR" => Some(exports.clone()),
        other => std::env::var(other).ok(),
    })
    .context("configuration")
}

async fn measure(
    ours_url: &str,
    raw_url: &str,
    nats_url: &str,
    exports: &std::path::Path,
    lines: usize,
    replicas: u8,
) -> anyhow::Result<PaymentRunReport> {
    let config = config(ours_url, nats_url, exports)?;
    let sds_platform::config::JwtConfig::SharedSecret(secret) = config.jwt.clone() else {
        anyhow::bail!("the benchmark signs its own tokens: unset SDS_JWT_PUBLIC_KEYS_FILE");
    };
    let components = || vec![sds_ledger::component(), sds_payments::component()];
    let process = sds_runtime::build(config, components()).await?;
    sds_runtime::migrate(&self::config(raw_url, nats_url, exports)?, &components()).await?;
    let addr: SocketAddr = process.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(process.run(async {
        let _ = stopped.await;
    }));
    // Further payments replicas: their own pools and chunk workers, posting to the first
    // process's ledger, as `sds serve --only payments` processes would.
    let mut others = Vec::new();
    for _ in 1..replicas {
        let config = replica_config(ours_url, nats_url, exports, Some(addr))?;
        let replica = sds_runtime::build(config, vec![sds_payments::component()]).await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        others.push((
            stop,
            tokio::spawn(replica.run(async {
                let _ = stopped.await;
            })),
        ));
    }

    let generated = seed::generate(lines);
    eprintln!(
        "payment-run bench: {lines} lines in {} schedules: seeding",
        generated.len()
    );
    let seeding = Instant::now();
    for url in [ours_url, raw_url] {
        let payments = sds_platform::db::connect(url, sds_payments::SCHEMA, 2).await?;
        seed::seed_schedules(&payments, &generated).await?;
        seed::seed_banking(&payments, &generated).await?;
        payments.close().await;
        let ledger = sds_platform::db::connect(url, sds_ledger::SCHEMA, 2).await?;
        seed::seed_funds(&ledger, &generated).await?;
        ledger.close().await;
    }
    let seeded_in = seeding.elapsed();
    drop(generated);

    let token = super::scratch::finance_token(&secret, AUTHORITY)?;
    let mut client = PaymentsServiceClient::connect(format!("http://{addr}"))
        .await
        .context("connect to the benchmark's payments")?;
    let mut request = tonic::Request::new(proto::RunPaymentsRequest {
        authority: AUTHORITY.to_owned(),
        run_date: Some(proto::Date {
            iso: seed::run_date().to_string(),
        }),
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);

    eprintln!("payment-run bench: running payments");
    reset_peak_rss();
    let started = Instant::now();
    let mut stream = client
        .run_payments(request)
        .await
        .map_err(|status| anyhow::anyhow!("RunPayments: {status}"))?
        .into_inner();
    let mut completed = None;
    // When each phase was first reported, to say where the run's time goes.
    let mut phases: Vec<(i32, Duration)> = Vec::new();
    while let Some(progress) = stream
        .message()
        .await
        .map_err(|status| anyhow::anyhow!("RunPayments: {status}"))?
    {
        if phases
            .last()
            .is_none_or(|(phase, _)| *phase != progress.phase)
        {
            phases.push((progress.phase, started.elapsed()));
        }
        if progress.completed.is_some() {
            completed = progress.completed;
        }
    }
    let seconds = started.elapsed();
    let spans: Vec<String> = phases
        .iter()
        .enumerate()
        .map(|(index, (phase, from))| {
            let to = phases.get(index + 1).map_or(seconds, |(_, next)| *next);
            let name = proto::RunPhase::try_from(*phase)
                .map_or("unknown", |phase| phase.as_str_name())
                .trim_start_matches("RUN_PHASE_")
                .to_ascii_lowercase();
            format!("{name} {:.1} s", (to - *from).as_secs_f64())
        })
        .collect();
    eprintln!("ours: {}", spans.join(", "));
    let peak_rss_kib = peak_rss_kib();
    let summary = completed.context("the run's progress ended before it completed")?;
    ensure!(summary.instalments > 0, "the run paid nothing: {summary:?}");

    eprintln!("payment-run bench: raw baseline");
    let raw = raw::same_rows(ours_url, raw_url, summary.run_id.parse()?).await?;
    let report = PaymentRunReport {
        lines,
        replicas,
        schedules: raw.schedules,
        instalments: summary.instalments,
        transfers: raw.transfers,
        total: summary.total.map(|money| money.amount).unwrap_or_default(),
        seconds,
        raw_seconds: raw.elapsed,
        peak_rss_kib,
        seeded_in,
    };
    drop(client);
    for (stop, running) in others {
        let _ = stop.send(());
        running.await.context("a payments replica")??;
    }
    let _ = stop.send(());
    running.await.context("the benchmark's services")??;
    Ok(report)
}

/// Resets the process's peak resident set to what it holds now (Linux `clear_refs`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident set since the last reset, in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or_default()
}
