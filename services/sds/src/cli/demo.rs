//! `sds demo seed`: lays down a realistic history for the local demo, through the services'
//! own APIs, in the weeks before today: a person with an approved plan whose option 2 line
//! went out as a package request, a provider's offer accepted, the agreement signed by every
//! party, two payment runs and a backdated variation between them (the flow of
//! [`sds::flow`]). `deploy/local/up` runs it once and prints where to look.
//!
//! The history needs past days to be "today" in turn, so the server must read its clock
//! from the file given here (`SDS_CLOCK_FILE`, as `deploy/local/up` starts it): the command
//! moves that file through the days, then removes it, and the server runs on in real time.
//! Tokens are signed locally with `SDS_JWT_SECRET`, as `sds token` signs them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::Days;
use sds::flow::{self, Calendar, Platform};
use sds_platform::{ManualClock, Principal, Role, TokenIssuer};
use sds_proto::v1 as proto;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_vocabulary::AuthorityId;

use super::{ServerArgs, connect};

/// How many days before today the person accepts the offer: far enough that the second
/// run (at most 56 days later) is in the past.
const DAYS_BEFORE_TODAY: u64 = 60;

#[derive(Debug, clap::Subcommand)]
pub enum DemoCommand {
    /// Lays down the demo history in the weeks before today (once: run it on a fresh
    /// database). Prints the ids and tokens to sign in with, one `NAME=value` per line.
    Seed(SeedArgs),
    /// Varies the demo person's plan from today to a new weekly amount and has every party
    /// sign the agreement's variation, so that the provider's dashboard shows it arrive.
    Vary(VaryArgs),
}

#[derive(Debug, clap::Args)]
pub struct VaryArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[arg(long, default_value = "demo-shire")]
    authority: String,
    /// The demo person (DEMO_PERSON_ID).
    #[arg(long, env = "DEMO_PERSON_ID")]
    person: String,
    /// The demo provider (DEMO_PROVIDER_ID).
    #[arg(long, env = "DEMO_PROVIDER_ID")]
    provider: String,
    /// The demo agreement (DEMO_AGREEMENT_ID).
    #[arg(long, env = "DEMO_AGREEMENT_ID")]
    agreement: String,
    /// The new weekly amount of the plan's line 1.
    #[arg(long, default_value = "300.00")]
    weekly: String,
    #[arg(long, env = "SDS_JWT_SECRET", default_value = sds_platform::config::LOCAL_JWT_SECRET, hide_env_values = true)]
    secret: String,
}

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The demo authority.
    #[arg(long, default_value = "demo-shire")]
    authority: String,
    /// The clock file the server reads "today" from (its SDS_CLOCK_FILE).
    #[arg(long)]
    clock_file: PathBuf,
    #[arg(long, env = "SDS_JWT_SECRET", default_value = sds_platform::config::LOCAL_JWT_SECRET, hide_env_values = true)]
    secret: String,
}

pub async fn run(command: DemoCommand) -> anyhow::Result<()> {
    match command {
        DemoCommand::Seed(args) => seed(args).await,
        DemoCommand::Vary(args) => vary(args).await,
    }
}

fn signer(secret: &str) -> flow::Tokens {
    let issuer = TokenIssuer::shared_secret(secret);
    Arc::new(move |principal: &Principal| {
        issuer
            .issue(principal, Duration::from_secs(12 * 3600))
            .unwrap_or_default()
    })
}

async fn vary(args: VaryArgs) -> anyhow::Result<()> {
    let authority = AuthorityId::parse("authority", &args.authority)
        .map_err(|invalid| anyhow::anyhow!("--authority {}", invalid.problem()))?;
    let channel = connect(&args.server).await?;
    // The server runs in real time: the hand has nothing to move.
    let platform = Platform::in_one_process(
        authority,
        channel,
        signer(&args.secret),
        Arc::new(|_| Ok(())),
    );
    let agreement = ContractsServiceClient::new(platform.contracts.clone())
        .get_agreement(flow::bearer(
            &platform.staff(&[Role::Practitioner]),
            proto::GetAgreementRequest {
                agreement_id: args.agreement.clone(),
            },
        ))
        .await
        .map_err(super::status_error)?
        .into_inner();
    let today = sds_platform::Clock::system().today();
    let varied = flow::vary_and_sign(
        &platform,
        &args.person,
        &agreement,
        &args.provider,
        today,
        &args.weekly,
    )
    .await?;
    println!(
        "agreement {} is at version {}: {} a week from {today}",
        varied.id, varied.version, args.weekly
    );
    Ok(())
}

async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let authority = AuthorityId::parse("authority", &args.authority)
        .map_err(|invalid| anyhow::anyhow!("--authority {}", invalid.problem()))?;
    let channel = connect(&args.server).await?;
    let issuer = TokenIssuer::shared_secret(&args.secret);
    let tokens = signer(&args.secret);
    let clock_file = args.clock_file.clone();
    let hand: flow::Hand = Arc::new(move |day| {
        sds_platform::write_clock_file(&clock_file, ManualClock::on(day).clock().now())
            .with_context(|| format!("write the clock file {}", clock_file.display()))
    });
    let platform = Platform::in_one_process(authority, channel.clone(), tokens, hand);
    let today = sds_platform::Clock::system().today();
    let accepted_on = today
        .checked_sub_days(Days::new(DAYS_BEFORE_TODAY))
        .context("a day two months ago")?;
    let calendar = Calendar::new(accepted_on);

    let laid_down = lay_down(&platform, &calendar).await;
    // Back to real time whatever happened, so the server is not left in the past.
    if args.clock_file.exists() {
        std::fs::remove_file(&args.clock_file)
            .with_context(|| format!("remove the clock file {}", args.clock_file.display()))?;
    }
    let (person_id, provider_id, outcome) = laid_down?;
    let valid = Duration::from_secs(12 * 3600);
    let provider_token = issuer.issue(
        &Principal {
            org_id: provider_id.clone(),
            org_kind: sds_platform::OrgKind::Provider,
            roles: vec![Role::ProviderAdmin],
            authorities: vec![],
            person_id: None,
        },
        valid,
    )?;
    let person_token = issuer.issue(
        &Principal {
            org_id: person_id.clone(),
            org_kind: sds_platform::OrgKind::Person,
            roles: vec![],
            authorities: vec![platform.authority.clone()],
            person_id: Some(person_id.clone()),
        },
        valid,
    )?;
    println!("DEMO_PERSON_ID={person_id}");
    println!("DEMO_PROVIDER_ID={provider_id}");
    println!("DEMO_AGREEMENT_ID={}", outcome.agreement_id);
    println!("DEMO_FUND_ID={}", outcome.fund_id);
    println!("DEMO_PROVIDER_TOKEN={provider_token}");
    println!("DEMO_PERSON_TOKEN={person_token}");
    Ok(())
}

/// The history itself; returns the person's and the provider's ids and what the flow did.
async fn lay_down(
    platform: &Platform,
    calendar: &Calendar,
) -> anyhow::Result<(String, String, flow::Outcome)> {
    platform.on_day(calendar.assessed_on())?;
    flow::setup::authority(platform, calendar).await?;
    let person_id = flow::setup::person_with_plan(
        platform,
        calendar,
        &flow::setup::Person {
            case_reference: "DEMO-0001",
            name: "Morag Innes",
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1941, 2, 17).context("a date")?,
            locality: "Banchory",
            client_group: sds_proto::v1::ClientGroup::ElderlyFrail,
        },
    )
    .await?;
    let provider = DirectoryServiceClient::new(platform.directory.clone())
        .register_provider(flow::bearer(
            &platform.staff(&[Role::Commissioning]),
            proto::RegisterProviderRequest {
                details: Some(proto::ProviderDetails {
                    name: "Deeside Home Support".into(),
                    kind: proto::ProviderKind::VoluntaryOrganisation as i32,
                    service_types: vec!["Care at home".into()],
                    localities: vec!["Aberdeenshire".into()],
                    capacity: Some(30),
                    contact_email: "office@deeside-home-support.example".into(),
                    ..proto::ProviderDetails::default()
                }),
                // The same registration again is the same provider.
                request_id: "demo-provider-deeside-home-support".into(),
            },
        ))
        .await
        .context("register the demo provider")?
        .into_inner();
    flow::setup::provider_ready(platform, &provider).await?;
    let outcome = flow::drive(platform, calendar, &person_id, &provider).await?;
    Ok((person_id, provider.id, outcome))
}
