//! `sds`: every service in one process (`sds serve`), and the operator command line.
//!
//! Client subcommands talk to a running server over gRPC: the address comes from
//! `SDS_ADDR` (default `127.0.0.1:50051`) and the bearer token from `SDS_TOKEN` or
//! `--token`. A server error is printed as one line and the exit status is non-zero.

mod bench;
mod care_inspectorate;
mod client;
mod directory_cli;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use sds_platform::{AuthorityId, OrgKind, PlatformConfig, Principal, Role, TokenIssuer};
use sds_vocabulary::NamedEnum as _;

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
    Token(TokenArgs),
    /// Exits 0 when the server at SDS_ADDR reports SERVING.
    Health(client::ServerArgs),
    /// The provider directory.
    #[command(subcommand)]
    Directory(directory_cli::DirectoryCommand),
    /// Payment schedules.
    #[command(subcommand)]
    Payments(PaymentsCommand),
    /// Benchmarks against a raw baseline measured in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The organisation id: an authority id such as demo-shire, or a provider's UUID.
    #[arg(long)]
    org: String,
    /// authority, provider, holder or person.
    #[arg(long)]
    kind: String,
    /// Comma-separated roles, e.g. commissioning,finance.
    #[arg(long, value_delimiter = ',', default_value = "")]
    roles: Vec<String>,
    /// An authority the caller may act for; repeat for several.
    #[arg(long = "authority")]
    authorities: Vec<String>,
    /// For a supported person, their person id.
    #[arg(long)]
    person: Option<String>,
    /// How long the token stays valid.
    #[arg(long, default_value_t = 12)]
    valid_hours: u64,
    #[arg(long, env = "SDS_JWT_SECRET", default_value = sds_platform::config::LOCAL_JWT_SECRET, hide_env_values = true)]
    secret: String,
}

#[derive(Debug, Subcommand)]
enum PaymentsCommand {
    /// Prints the payment schedule of a plan history as JSON (see DOMAIN.md, "Money rules").
    Preview {
        /// The input JSON file, or - for standard input.
        #[arg(long)]
        input: PathBuf,
    },
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
        Command::Token(args) => {
            let kind = OrgKind::parse("--kind", &args.kind)?;
            let mut roles = Vec::new();
            for role in args.roles.iter().filter(|role| !role.is_empty()) {
                roles.push(Role::parse("--roles", role)?);
            }
            let mut authorities = Vec::new();
            for authority in &args.authorities {
                authorities.push(AuthorityId::parse("--authority", authority)?);
            }
            let principal = Principal {
                org_id: args.org,
                org_kind: kind,
                roles,
                authorities,
                person_id: args.person,
            };
            let token = TokenIssuer::shared_secret(&args.secret)
                .issue(&principal, Duration::from_secs(args.valid_hours * 3600))?;
            println!("{token}");
            Ok(())
        }
        Command::Health(server) => client::check_health(&server).await,
        Command::Directory(command) => directory_cli::run(command).await,
        Command::Payments(PaymentsCommand::Preview { input }) => {
            let text = if input.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&input)
                    .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", input.display()))?
            };
            let schedule = sds_money::preview::preview_json(&text)
                .map_err(|error| anyhow::anyhow!("InvalidArgument: {error}"))?;
            println!("{schedule}");
            Ok(())
        }
        Command::Bench(command) => bench::run(command).await,
    }
}
