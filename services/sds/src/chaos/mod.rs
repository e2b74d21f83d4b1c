//! `sds chaos payment-run` (issue 12): a payment run on a running deployment, broken in the
//! middle by the fault commands it is given, then checked.
//!
//! It seeds `--lines` schedule lines for the authority `bench-payments` straight into
//! payments' and the ledger's tables (`sds::payment_run_seed`, as the benchmark does),
//! asks the payments replica at `--payments` for the run as finance staff, and once the
//! first of the run's chunks is done and others are not, runs each `--fault NAME=COMMAND`
//! (a shell command: `deploy/cluster/node nats 2 kill`, say), waits a moment, and runs each
//! `--recover COMMAND`. It asks again, as finance staff are told to, until the run
//! completes, then checks the books ([`books`]) and prints, as its last line,
//! `{"lines": N, "instalments": N, "paid_more_than_once": 0, "unpaid": 0,
//! "audit_violations": 0, "notifications_lost": 0, "notifications_duplicated": 0,
//! "faults": ["..."]}`, exiting non-zero when any count is not 0 or the exports do not
//! say what the ledger says.
//!
//! It reads every schema through `SDS_DATABASE_URL` and signs its token with
//! `SDS_JWT_SECRET`, as `sds ledger audit` and `sds token` do; meant for a deployment of its
//! own (`deploy/cluster/chaos` starts one), since it adds a run's worth of schedules.

mod books;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use sds::payment_run_seed::{self as seed, AUTHORITY};
use sds_platform::PlatformConfig;
use sds_proto::v1 as proto;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sqlx::PgPool;
use uuid::Uuid;

/// Chaos runs against a running deployment.
#[derive(Debug, clap::Subcommand)]
pub enum ChaosCommand {
    /// A payment run broken in the middle by the given faults, then checked: each
    /// instalment paid once, exports equal to the ledger, the audit clean, every remittance
    /// told to its payee's portal once.
    PaymentRun {
        /// Schedule lines seeded for the run.
        #[arg(long, default_value_t = 100_000)]
        lines: usize,
        /// The payments replica asked for the run (host:port).
        #[arg(long, env = "SDS_ADDR", default_value = "127.0.0.1:50051")]
        payments: String,
        /// Where the deployment's payments replicas write run files (SDS_EXPORTS_DIR).
        #[arg(long, env = "SDS_EXPORTS_DIR")]
        exports_dir: PathBuf,
        /// A fault to inject mid-run, as NAME=COMMAND (a shell command); repeatable, run
        /// in order.
        #[arg(long = "fault", value_name = "NAME=COMMAND")]
        faults: Vec<String>,
        /// A command that undoes the faults (starts what was killed); repeatable, run in
        /// order a moment after the faults.
        #[arg(long = "recover", value_name = "COMMAND")]
        recoveries: Vec<String>,
    },
}

/// How long the run may take, faults and all, before the chaos gives up.
const RUN_DEADLINE: Duration = Duration::from_secs(900);

/// How long the remittances may take to reach the portal after the run.
const TOLD_DEADLINE: Duration = Duration::from_secs(180);

pub async fn run(command: ChaosCommand) -> anyhow::Result<()> {
    let ChaosCommand::PaymentRun {
        lines,
        payments,
        exports_dir,
        faults,
        recoveries,
    } = command;
    ensure!(lines > 0, "--lines must be at least 1");
    let faults: Vec<(String, String)> = faults
        .iter()
        .map(|fault| {
            fault
                .split_once('=')
                .map(|(name, command)| (name.trim().to_owned(), command.to_owned()))
                .filter(|(name, command)| !name.is_empty() && !command.trim().is_empty())
                .with_context(|| format!("--fault {fault:?}: give NAME=COMMAND"))
        })
        .collect::<anyhow::Result<_>>()?;
    let config = PlatformConfig::from_env()?;
    let sds_platform::config::JwtConfig::SharedSecret(secret) = &config.jwt else {
        bail!(
            "the chaos run signs its own finance token: set SDS_JWT_SECRET, not SDS_JWT_PUBLIC_KEYS_FILE"
        );
    };
    let token = crate::bench::scratch::finance_token(secret, AUTHORITY)?;

    eprintln!("chaos: seeding {lines} schedule lines for {AUTHORITY}");
    let generated = seed::generate(lines);
    let payments_pool =
        sds_platform::db::connect(&config.database_url, sds_payments::SCHEMA, 2).await?;
    seed::seed_schedules(&payments_pool, &generated).await?;
    seed::seed_banking(&payments_pool, &generated).await?;
    payments_pool.close().await;
    let ledger_pool =
        sds_platform::db::connect(&config.database_url, sds_ledger::SCHEMA, 2).await?;
    seed::seed_funds(&ledger_pool, &generated).await?;
    drop(generated);
    let observer = PgPool::connect(&config.database_url)
        .await
        .context("connect to the deployment's database")?;

    eprintln!(
        "chaos: asking {payments} for the run of {}",
        seed::run_date()
    );
    let started = Instant::now();
    let asking = tokio::spawn(run_until_complete(payments.clone(), token));
    let mut injected = Vec::new();
    if !faults.is_empty() {
        let run_id = wait_until_mid_run(&observer, &asking).await?;
        for (name, command) in &faults {
            eprintln!("chaos: run {run_id} mid-way; fault {name}: {command}");
            shell(command)?;
            injected.push(name.clone());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        for command in &recoveries {
            eprintln!("chaos: recovering: {command}");
            shell(command)?;
        }
    }
    let summary = asking.await.context("the run")??;
    eprintln!(
        "chaos: run {} completed in {:.1} s: {} instalments, {} payees, {}",
        summary.run_id,
        started.elapsed().as_secs_f64(),
        summary.instalments,
        summary.payees,
        summary
            .total
            .as_ref()
            .map_or("?", |money| money.amount.as_str())
    );
    let run_id: Uuid = summary.run_id.parse().context("the run's id")?;

    let books = books::paid_once(&observer, run_id).await?;
    let folder = exports_dir
        .join(AUTHORITY)
        .join(format!("{}_{run_id}", seed::run_date()));
    let exports = books::exports_say(&folder, books.total_pence);
    let audit = sds_ledger::audit::run(&ledger_pool).await?;
    for violation in &audit.violations {
        eprintln!("chaos: audit: {}: {}", violation.kind, violation.detail);
    }
    ledger_pool.close().await;
    let told = books::remittances_told(&observer, run_id, TOLD_DEADLINE).await?;
    observer.close().await;

    let faults_json = injected
        .iter()
        .map(|name| serde_json::Value::String(name.clone()).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "{{\"lines\": {lines}, \"instalments\": {}, \"paid_more_than_once\": {}, \"unpaid\": {}, \"audit_violations\": {}, \"notifications_lost\": {}, \"notifications_duplicated\": {}, \"faults\": [{faults_json}]}}",
        books.instalments,
        books.paid_more_than_once,
        books.unpaid,
        audit.violations.len(),
        told.lost,
        told.duplicated,
    );
    exports.context("the run's exports against the ledger")?;
    ensure!(
        books.paid_more_than_once == 0
            && books.unpaid == 0
            && audit.violations.is_empty()
            && told.lost == 0
            && told.duplicated == 0,
        "the books are not right after the faults (see the line above)"
    );
    Ok(())
}

/// Runs a shell command; fails when it does.
fn shell(command: &str) -> anyhow::Result<()> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(command)
        .status()
        .with_context(|| format!("run {command:?}"))?;
    ensure!(status.success(), "{command:?} failed with {status}");
    Ok(())
}

/// Waits until the authority's unfinished run has finished some chunks and not all.
async fn wait_until_mid_run(
    observer: &PgPool,
    asking: &tokio::task::JoinHandle<anyhow::Result<proto::PaymentRunSummary>>,
) -> anyhow::Result<Uuid> {
    let started = Instant::now();
    loop {
        let chunks: Option<(Uuid, i64, i64)> = sqlx::query_as(
            "SELECT r.run_id, count(*) FILTER (WHERE c.done_at IS NOT NULL), count(c.chunk) \
             FROM payments.payment_run r LEFT JOIN payments.run_chunk c ON c.run_id = r.run_id \
             WHERE r.authority = $1 AND r.status = 'planning' GROUP BY r.run_id",
        )
        .bind(AUTHORITY)
        .fetch_optional(observer)
        .await
        .context("look at the run's chunks")?;
        if let Some((run_id, done, all)) = chunks
            && done > 0
            && done < all
        {
            return Ok(run_id);
        }
        ensure!(
            !asking.is_finished(),
            "the run ended before the faults could be injected mid-way (seed more --lines)"
        );
        ensure!(
            started.elapsed() < RUN_DEADLINE,
            "the run did not get half way within {RUN_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asks for the run until it completes: an answer that says to try again (the replica
/// gone, another call in progress) is tried again, as finance staff are told to.
async fn run_until_complete(
    payments: String,
    token: String,
) -> anyhow::Result<proto::PaymentRunSummary> {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match ask_once(&payments, &token).await {
            Ok(summary) => return Ok(summary),
            Err(status) if try_again(&status) && started.elapsed() < RUN_DEADLINE => {
                eprintln!(
                    "chaos: attempt {attempt}: {:?}: {}; asking again",
                    status.code(),
                    status.message()
                );
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(status) => bail!("the run: {status}"),
        }
    }
}

/// What finance staff are told to try again: the replica gone or cut off, or the run
/// still held by the call a killed replica was serving.
fn try_again(status: &tonic::Status) -> bool {
    match status.code() {
        tonic::Code::Unavailable
        | tonic::Code::Aborted
        | tonic::Code::Cancelled
        | tonic::Code::Unknown => true,
        tonic::Code::FailedPrecondition => status.message().contains("in progress"),
        _ => false,
    }
}

async fn ask_once(payments: &str, token: &str) -> Result<proto::PaymentRunSummary, tonic::Status> {
    let mut client = PaymentsServiceClient::connect(format!("http://{payments}"))
        .await
        .map_err(|error| tonic::Status::unavailable(format!("connect to {payments}: {error}")))?;
    let mut request = tonic::Request::new(proto::RunPaymentsRequest {
        authority: AUTHORITY.to_owned(),
        run_date: Some(proto::Date {
            iso: seed::run_date().to_string(),
        }),
    });
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| tonic::Status::internal("a token that is not a header value"))?;
    request.metadata_mut().insert("authorization", bearer);
    let mut stream = client.run_payments(request).await?.into_inner();
    while let Some(progress) = stream.message().await? {
        if let Some(summary) = progress.completed {
            return Ok(summary);
        }
    }
    Err(tonic::Status::unavailable(
        "the run's progress ended before it completed",
    ))
}
