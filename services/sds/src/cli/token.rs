//! `sds token`: a locally signed bearer token (HS256 with `SDS_JWT_SECRET`), for local use
//! and tests. Production tokens come from the identity provider.

use std::time::Duration;

use sds_platform::{OrgKind, Principal, TokenIssuer};

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
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

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let kind = OrgKind::parse(&args.kind).map_err(anyhow::Error::msg)?;
    let principal = Principal {
        org_id: args.org,
        org_kind: kind,
        roles: args
            .roles
            .into_iter()
            .filter(|role| !role.is_empty())
            .collect(),
        authorities: args.authorities,
        person_id: args.person,
    };
    let token = TokenIssuer::shared_secret(&args.secret)
        .issue(&principal, Duration::from_secs(args.valid_hours * 3600))?;
    println!("{token}");
    Ok(())
}
