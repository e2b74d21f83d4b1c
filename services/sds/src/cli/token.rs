//! `sds token`: a locally signed bearer token (HS256 with `SDS_JWT_SECRET`), for local use
//! and tests. Production tokens come from the identity provider.
//!
//! Flags are read in the shared vocabulary (organisation kinds, roles, authority ids), so a
//! misspelt role is refused here, with the accepted ones, instead of producing a token that
//! every service then refuses.

use std::time::Duration;

use sds_platform::{Principal, TokenIssuer};
use sds_vocabulary::{AuthorityId, OrgKind, Role};

use crate::cli::enum_arg::EnumArg;

/// A bound that keeps the expiry time far from overflowing, and tokens from outliving
/// the secret that signs them by decades.
const MAX_VALID_HOURS: u64 = 24 * 366 * 10;

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// The organisation id: an authority id such as demo-shire, or a provider's UUID.
    #[arg(long)]
    org: String,
    /// The kind of organisation the token speaks for.
    #[arg(long, value_parser = EnumArg::<OrgKind>::new())]
    kind: OrgKind,
    /// Comma-separated roles, e.g. commissioning,finance.
    #[arg(long, value_delimiter = ',', value_parser = EnumArg::<Role>::new())]
    roles: Vec<Role>,
    /// An authority the caller may act for, such as demo-shire; repeat for several.
    #[arg(long = "authority", value_name = "AUTHORITY", value_parser = authority_id)]
    authorities: Vec<AuthorityId>,
    /// For a supported person, their person id.
    #[arg(long)]
    person: Option<String>,
    /// How long the token stays valid, in hours. Servers refuse tokens valid for longer
    /// than their SDS_JWT_MAX_LIFETIME_HOURS (24 by default).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(..=MAX_VALID_HOURS))]
    valid_hours: u64,
    #[arg(long, env = "SDS_JWT_SECRET", default_value = sds_platform::config::LOCAL_JWT_SECRET, hide_env_values = true)]
    secret: String,
}

fn authority_id(raw: &str) -> Result<AuthorityId, String> {
    AuthorityId::parse("authority", raw).map_err(|invalid| invalid.problem().to_owned())
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let valid_for = Duration::from_secs(args.valid_hours * 3600);
    let token = TokenIssuer::shared_secret(&args.secret).issue(&principal(args), valid_for)?;
    println!("{token}");
    Ok(())
}

/// Who the token speaks for, in the words the flags were read in.
fn principal(args: TokenArgs) -> Principal {
    Principal {
        org_id: args.org,
        org_kind: args.kind,
        roles: args.roles,
        authorities: args.authorities,
        person_id: args.person,
    }
}
