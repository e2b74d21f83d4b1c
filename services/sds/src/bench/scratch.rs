//! What every benchmark needs around its measurement: scratch databases created for the
//! run and dropped after it (so real data is never touched), the configuration that points
//! an in-process service at one, and figures printed with integer arithmetic.

use anyhow::Context as _;
use sds_platform::PlatformConfig;
use sqlx::PgPool;
use uuid::Uuid;

/// Creates a database named for the benchmark and `purpose`; returns its name and URL.
pub async fn scratch_database(
    admin: &PgPool,
    admin_url: &str,
    purpose: &str,
) -> anyhow::Result<(String, String)> {
    let name = format!("bench_{purpose}_{}", Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(admin)
        .await
        .with_context(|| format!("create scratch database {name}"))?;
    let (server, _) = admin_url
        .rsplit_once('/')
        .context("the database URL names no database")?;
    Ok((name.clone(), format!("{server}/{name}")))
}

/// Drops scratch database `name`, best effort: one left behind is harmless and named for
/// what it is.
pub async fn drop_database(admin: &PgPool, name: &str) {
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(admin)
    .await;
}

/// The platform's configuration from the environment, but on `database_url` and
/// `nats_url`, listening on a free loopback port, without reflection or rate limits.
pub fn config_for(database_url: &str, nats_url: &str) -> anyhow::Result<PlatformConfig> {
    let database_url = database_url.to_owned();
    let nats_url = nats_url.to_owned();
    PlatformConfig::from_lookup(move |name| match name {
        "SDS_DATABASE_URL" => Some(database_url.clone()),
        "SDS_NATS_URL" => Some(nats_url.clone()),
        "SDS_LISTEN_ADDR" | "SDS_HTTP_ADDR" => Some("127.0.0.1:0".to_owned()),
        "SDS_REFLECTION" => Some("off".to_owned()),
        // One client drives the whole load: a per-caller limit would measure the limit.
        "SDS_RATE_LIMIT_PER_SECOND" => Some("off".to_owned()),
        other => std::env::var(other).ok(),
    })
    .context("configuration")
}

/// `1234` thousandths as `1.234`.
pub fn thousandths(value: u128) -> String {
    format!("{}.{:03}", value / 1000, value % 1000)
}

/// A token of `authority`'s finance staff, signed with the local shared `secret`, valid for
/// an hour: what the benchmarks and chaos runs call the services as.
pub fn finance_token(secret: &str, authority: &str) -> anyhow::Result<String> {
    use sds_platform::{AuthorityId, OrgKind, Principal, Role, TokenIssuer};
    Ok(TokenIssuer::shared_secret(secret).issue(
        &Principal {
            org_id: authority.to_owned(),
            org_kind: OrgKind::Authority,
            roles: vec![Role::Finance],
            authorities: vec![AuthorityId::parse("authority", authority)?],
            person_id: None,
        },
        std::time::Duration::from_secs(3600),
    )?)
}
