//! `sds simulate` (issue 13): a seeded run of the real services, through their real gRPC
//! APIs, in one `sds serve` process on a simulated clock that moves a day at a time, with
//! faults injected and every invariant checked after every simulated day.
//!
//! A run starts its own NATS and (unless given `--database-url`) its own PostgreSQL under
//! `.local/` ([`infra`]), starts every service as one `sds serve` child reading "today"
//! from a clock file the run moves ([`platform`]), draws the whole workload from the seed
//! ([`workload`]) and lays it down day by day with the flow driver ([`act`]). Each day:
//! the day's steps, with the day's interruption between two parts of them ([`interrupt`]:
//! the platform killed, NATS or PostgreSQL restarted, the relays stopped), the day's
//! repeats ([`faults`]), the payment runs of the authorities whose run date it is, then the checks
//! ([`checks`]), always once the platform is quiet ([`quiet`]). The last line on standard
//! output is JSON with the counts and the digest of the final books ([`digest`]).
//!
//! What must stay true: the same seed and flags give the same books, so the same digest,
//! on every run; the first violation stops the run and says the seed, the day, the check
//! and what was wrong; nothing of a run is left running when it ends.

mod act;
mod checks;
mod days;
mod digest;
mod faults;
mod history;
mod infra;
mod interrupt;
mod ledger_steps;
mod logs;
mod people;
mod platform;
mod progress;
mod quiet;
mod rng;
mod schedules;
mod statements;
mod steps;
mod subscribers;
mod terms;
mod uptake;
mod workload;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context as _, ensure};
use chrono::{Days, NaiveDate};
use clap::ValueEnum as _;
use sds_platform::{ManualClock, PlatformConfig};
use tonic::transport::Channel;
use uuid::Uuid;

use checks::Violation;
use days::Simulation;
use faults::FaultLevel;
use workload::Workload;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The seed the whole run is drawn from: the same seed gives the same books.
    #[arg(long)]
    seed: u64,
    /// How many people's funds the run opens (1 or more).
    #[arg(long)]
    funds: u64,
    /// How many days it simulates (1 to 3650).
    #[arg(long)]
    days: u64,
    /// How often faults come: none, some or heavy.
    #[arg(long, default_value = "none")]
    faults: String,
    /// How many authorities the funds are spread across (1 to 100).
    #[arg(long, default_value_t = 4)]
    authorities: u64,
    /// The first simulated day, YYYY-MM-DD.
    #[arg(long, default_value = "2026-04-01")]
    start: String,
    /// A running PostgreSQL server (any database URL on it) to make the run's own database
    /// on; without it the run starts a PostgreSQL of its own under .local/.
    #[arg(long, env = "SDS_SIMULATE_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// How many people's steps of one day are made at once (the books do not depend on it).
    #[arg(long, default_value_t = 32)]
    parallel: usize,
    /// Only these people of the run (fund numbers, 1 to --funds, separated by commas), each
    /// with the history the whole run gives them: a violation's people, seen on their own.
    #[arg(long)]
    only: Option<String>,
    /// For the tests of the checks: on this day (1, 2, ...) one signed fund's balance is
    /// stored a penny richer than its entries, behind the ledger's back.
    #[arg(long, hide = true)]
    plant_wrong_balance_on_day: Option<u64>,
}

/// The run's settings, checked.
#[derive(Debug, Clone)]
struct Settings {
    seed: u64,
    funds: usize,
    days: u64,
    faults: FaultLevel,
    authorities: usize,
    start: NaiveDate,
    parallel: usize,
    only: Option<BTreeSet<usize>>,
    plant_wrong_balance_on_day: Option<u64>,
    database_url: Option<String>,
}

impl Settings {
    fn from_args(args: &SimulateArgs) -> anyhow::Result<Settings> {
        ensure!(
            (1..=1_000_000).contains(&args.funds),
            "--funds {} is not from 1 to 1000000",
            args.funds
        );
        ensure!(
            (1..=3650).contains(&args.days),
            "--days {} is not from 1 to 3650",
            args.days
        );
        ensure!(
            (1..=100).contains(&args.authorities),
            "--authorities {} is not from 1 to 100",
            args.authorities
        );
        ensure!(
            (1..=64).contains(&args.parallel),
            "--parallel {} is not from 1 to 64",
            args.parallel
        );
        let faults = FaultLevel::from_str(&args.faults, true).map_err(|_| {
            anyhow::anyhow!(
                "--faults {:?} is not one of: none, some, heavy",
                args.faults
            )
        })?;
        let start = NaiveDate::parse_from_str(&args.start, "%Y-%m-%d")
            .ok()
            .with_context(|| format!("--start {:?} is not a date as YYYY-MM-DD", args.start))?;
        let funds = usize::try_from(args.funds)?;
        let only = args
            .only
            .as_deref()
            .map(|text| history::parse_only(text, funds))
            .transpose()
            .map_err(|problem| anyhow::anyhow!(problem))?;
        Ok(Settings {
            seed: args.seed,
            funds,
            days: args.days,
            faults,
            authorities: usize::try_from(args.authorities)?,
            start,
            parallel: args.parallel,
            only,
            plant_wrong_balance_on_day: args.plant_wrong_balance_on_day,
            database_url: args.database_url.clone(),
        })
    }

    fn day(&self, offset: u64) -> NaiveDate {
        self.start
            .checked_add_days(Days::new(offset))
            .unwrap_or(self.start)
    }
}

/// What a run came to.
#[derive(Debug, Clone, Default)]
struct Totals {
    events: u64,
    faults: u64,
    checks: u64,
    digest: String,
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let settings = Settings::from_args(&args)?;
    // Every service's tracing output, looked at for personal data (`no_personal_data_in_logs`).
    logs::capture();
    let mut workload = Workload::draw(
        settings.seed,
        settings.funds,
        settings.days,
        settings.authorities,
        settings.start,
    );
    if let Some(only) = &settings.only {
        // Each fund's history is drawn from a stream of its own: the people kept live the
        // lives they live in the whole run.
        workload.funds.retain(|fund| only.contains(&fund.number));
    }
    eprintln!(
        "simulate: seed {}, {} funds across {} authorities, {} days from {}, faults {:?}",
        settings.seed,
        settings.funds,
        settings.authorities,
        settings.days,
        settings.start,
        settings.faults
    );
    let mut infra = infra::Infra::start(settings.seed, args.database_url.as_deref()).await?;
    // Ctrl-C or SIGTERM stops the run, but never leaves its NATS and PostgreSQL running.
    let outcome = tokio::select! {
        outcome = simulate(&settings, &workload, &infra) => outcome,
        signal = interrupted() => Err(anyhow::anyhow!("the run was stopped by {signal}")),
    };
    infra.stop();
    let line = |totals: &Totals, violations: u32| {
        format!(
            "{{\"seed\": {}, \"days\": {}, \"funds\": {}, \"events\": {}, \"faults\": {}, \"checks\": {}, \"violations\": {violations}, \"digest\": \"{}\"}}",
            settings.seed,
            settings.days,
            settings.funds,
            totals.events,
            totals.faults,
            totals.checks,
            totals.digest
        )
    };
    match outcome? {
        Ok(totals) => {
            println!("{}", line(&totals, 0));
            Ok(())
        }
        Err(stopped) => {
            let Stopped {
                totals,
                offset,
                violation,
                ..
            } = &stopped;
            eprintln!(
                "simulate: VIOLATION: seed {}, day {} ({}), check {}: {}",
                settings.seed,
                offset + 1,
                settings.day(*offset),
                violation.check,
                violation.detail
            );
            history::tell(&settings, &stopped).await;
            println!("{}", line(totals, 1));
            anyhow::bail!(
                "seed {} broke {} on day {} ({}); run it again with the same flags to see it again",
                settings.seed,
                violation.check,
                offset + 1,
                settings.day(*offset)
            )
        }
    }
}

/// Waits for Ctrl-C or SIGTERM; names which.
async fn interrupted() -> &'static str {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        () = terminate => "SIGTERM",
    }
}

/// Where a run stopped on a violation: the day (from 0), the check's finding, the fund
/// numbers it names and their history as lines to print.
struct Stopped {
    totals: Totals,
    offset: u64,
    violation: Violation,
    people: Vec<usize>,
    history: Vec<String>,
}

/// The run itself on the infrastructure given: `Ok(Err(..))` when a check found a
/// violation, `Err` when the run could not go on.
async fn simulate(
    settings: &Settings,
    workload: &Workload,
    infra: &infra::Infra,
) -> anyhow::Result<Result<Totals, Stopped>> {
    let manual = ManualClock::on(settings.start);
    let clock_file = infra.folder().join("clock");
    let clock = platform::FileClock::new(manual.clone(), clock_file.clone());
    clock.set(manual.clock().now())?;
    let secret = format!("simulate-{}", Uuid::new_v4());
    let exports = infra.folder().join("exports");
    let environment: Vec<(String, String)> = [
        ("SDS_HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ("SDS_DATABASE_URL", infra.database_url.clone()),
        ("SDS_NATS_URL", infra.nats_url.clone()),
        ("SDS_JWT_SECRET", secret.clone()),
        ("SDS_CLOCK_FILE", clock_file.display().to_string()),
        ("SDS_DRAIN_SECONDS", "5".to_owned()),
        ("SDS_RELAY_STOP_SECONDS", "5".to_owned()),
        // One client makes every request of the run: no rate to hold it to, and the least
        // share of the server's connections the services take (6 each), so two runs side by
        // side (the tests) fit in one PostgreSQL's 100; a loaded machine may keep a request
        // waiting a while.
        ("SDS_RATE_LIMIT_PER_SECOND", "off".to_owned()),
        ("SDS_DB_MAX_CONNECTIONS", "36".to_owned()),
        ("SDS_DB_ACQUIRE_TIMEOUT_MS", "20000".to_owned()),
        ("SDS_EXPORTS_DIR", exports.display().to_string()),
        // An event cut off by a kill is delivered again after this; the default half
        // minute would make each kill a pause of half a minute in the run.
        ("SDS_CONSUMER_ACK_WAIT_SECONDS", "5".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    // Checked before the child is started, so a bad setting is told as the run's own.
    PlatformConfig::from_lookup(|name| {
        environment
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.clone())
    })
    .context("the simulated platform's configuration")?;
    // The platform is a child process, so that a kill is a real SIGKILL (see [`platform`]).
    logs::watch(&infra.folder().join("sds.log"));
    let process = platform::PlatformProcess::start(environment, &infra.folder().join("sds.log"))
        .await
        .context("start the platform")?;
    let addr = process.addr();
    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await
        .context("connect to the platform")?;
    let observer = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&infra.database_url)
        .await
        .context("connect to the run's database")?;
    // The ledger's audit reads the ledger's tables as the ledger does: in its schema.
    let ledger_options: sqlx::postgres::PgConnectOptions = infra
        .database_url
        .parse()
        .context("the run's database URL")?;
    let ledger = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(ledger_options.options([("search_path", sds_ledger::SCHEMA)]))
        .await
        .context("connect to the ledger's schema")?;
    let quiet = quiet::Quiet::new(observer.clone(), &infra.nats_url).await?;
    let tally = Arc::new(Mutex::new(interrupt::Tally::default()));
    let interrupter =
        interrupt::Interrupter::new(process, infra, channel.clone(), Arc::clone(&tally));
    let mut days = Simulation::new(
        settings,
        workload,
        channel,
        &clock,
        &secret,
        observer,
        ledger,
        quiet,
        interrupter,
    );
    // Dropping the simulation kills the platform: the books are read by then.
    let outcome = days.run().await;
    if settings.faults != FaultLevel::None {
        let tally = *tally.lock().unwrap_or_else(PoisonError::into_inner);
        eprintln!("simulate: interruptions: {tally}");
    }
    outcome
}
