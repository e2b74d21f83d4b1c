//! `sds`: every service in one process (`sds serve`), and the operator command line.
//!
//! This file only dispatches: `serve`, `migrate` and `bench` live in their own modules, and
//! each client command in `cli/` (one module per service). Client subcommands talk to a
//! running server over gRPC: the address comes from `SDS_ADDR` (default `127.0.0.1:50051`)
//! and the bearer token from `SDS_TOKEN` or `--token`. Any error is printed as one line and
//! the exit status is non-zero.

mod bench;
mod chaos;
mod cli;
mod serve;
mod simulate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sds_platform::PlatformConfig;

#[derive(Debug, Parser)]
#[command(
    name = "sds",
    version,
    about = "Individual Service Funds: the platform and its operator command line"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs every service (or those named with --only) in one process on one port, until
    /// SIGTERM or Ctrl-C.
    Serve(serve::OnlyArgs),
    /// Applies every service's (or those named with --only) database migrations, then exits.
    Migrate(serve::OnlyArgs),
    /// Prints a locally signed bearer token (HS256 with SDS_JWT_SECRET).
    Token(cli::token::TokenArgs),
    /// Exits 0 when the server at SDS_ADDR reports SERVING.
    Health(cli::ServerArgs),
    /// The provider directory.
    #[command(subcommand)]
    Directory(cli::directory::DirectoryCommand),
    /// People, the authority's policy and assessments.
    #[command(subcommand)]
    Assessment(cli::assessment::AssessmentCommand),
    /// Contract defaults and providers' rate cards.
    #[command(subcommand)]
    Contracts(cli::contracts::ContractsCommand),
    /// Funds held for each person, their accounts, transfers and balances.
    #[command(subcommand)]
    Ledger(cli::ledger::LedgerCommand),
    /// Payment schedules.
    #[command(subcommand)]
    Payments(cli::payments::PaymentsCommand),
    /// A provider's or holder's notifications from the portal.
    #[command(subcommand)]
    Portal(cli::portal::PortalCommand),
    /// The read audit trail of personal data, from every service at once.
    #[command(subcommand)]
    Audit(cli::audit::AuditCommand),
    /// The local demo's history (deploy/local/up runs it once).
    #[command(subcommand)]
    Demo(cli::demo::DemoCommand),
    /// Benchmarks against a raw baseline measured in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Faults injected into a running deployment, and the books checked after them.
    #[command(subcommand)]
    Chaos(chaos::ChaosCommand),
    /// A seeded simulation of the platform over many days, faults injected, every
    /// invariant checked each day; the last line is JSON with the digest of the books.
    Simulate(simulate::SimulateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(only) => {
            let config = PlatformConfig::from_env()?;
            let _telemetry = sds_platform::telemetry::init("sds", config.log_format);
            serve::serve(config, &only).await
        }
        Command::Migrate(only) => {
            let config = PlatformConfig::from_env()?;
            serve::migrate(config, &only).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Token(args) => cli::token::run(args),
        Command::Health(server) => cli::check_health(&server).await,
        Command::Directory(command) => cli::directory::run(command).await,
        Command::Assessment(command) => cli::assessment::run(command).await,
        Command::Contracts(command) => cli::contracts::run(command).await,
        Command::Ledger(command) => cli::ledger::run(command).await,
        Command::Payments(command) => cli::payments::run(command).await,
        Command::Portal(command) => cli::portal::run(command).await,
        Command::Audit(command) => cli::audit::run(command).await,
        Command::Demo(command) => cli::demo::run(command).await,
        Command::Bench(command) => bench::run(command).await,
        Command::Chaos(command) => chaos::run(command).await,
        Command::Simulate(args) => simulate::run(args).await,
    }
}
