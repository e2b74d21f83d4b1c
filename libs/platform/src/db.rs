//! The PostgreSQL pool and per-service schema migrations.
//!
//! Every service owns one schema in the shared database. Its connections set
//! `search_path` to that schema, so its migrations, its `_sqlx_migrations` table, its
//! outbox and its inbox all live there and no service can trip over another's tables.

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// How long a caller waits for a connection unless configured otherwise: long enough for a
/// busy pool, short enough that a request fails fast while the database is away.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a pooled connection may sit idle before it is pinged on its way out.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// Opens a pool whose connections work inside `schema`, creating the schema if needed, with
/// the default acquire timeout.
pub async fn connect(
    database_url: &str,
    schema: &str,
    max_connections: u32,
) -> anyhow::Result<PgPool> {
    connect_with_timeout(
        database_url,
        schema,
        max_connections,
        DEFAULT_ACQUIRE_TIMEOUT,
    )
    .await
}

/// Opens a pool whose connections work inside `schema`, creating the schema if needed; a
/// caller waits at most `acquire_timeout` for a connection.
pub async fn connect_with_timeout(
    database_url: &str,
    schema: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<PgPool> {
    if !is_plain_identifier(schema) {
        anyhow::bail!("schema name {schema:?} must be lowercase letters, digits and underscores");
    }
    let options: PgConnectOptions = database_url
        .parse()
        .with_context(|| "parse SDS_DATABASE_URL (expected postgres://user@host:port/database)")?;
    // Generic plans: every statement is prepared once per connection, and the services'
    // statements find rows by key or by arrays of keys, where a plan made for the values of
    // one call is no better than the generic one. Left to PostgreSQL's default, it planned
    // the ledger's one-statement posting (a `WITH` of five writes) afresh on every call,
    // which cost a fifth of the ledger's single-transfer throughput.
    let options = options
        .options([
            ("search_path", schema),
            ("plan_cache_mode", "force_generic_plan"),
        ])
        .application_name(&format!("sds-{schema}"));
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        // A connection is pinged before it is handed out only when it sat idle long enough
        // to have gone stale (the server restarted, a firewall dropped it). By default sqlx
        // pings on every acquire, a round trip more for every transaction of a busy
        // service; a connection that broke while in use fails its request as UNAVAILABLE
        // and is dropped, as it would have mid-transaction anyway.
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IDLE_AFTER {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("connect to PostgreSQL for schema {schema}"))?;
    // Replicas starting together on a fresh database would race to create the schema (IF
    // NOT EXISTS is no guard against a concurrent create): one at a time, under a lock
    // held for the transaction only. The name was checked to be a plain identifier above.
    let mut transaction = pool.begin().await.context("begin creating the schema")?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('sds-create-schema:' || $1))")
        .bind(schema)
        .execute(&mut *transaction)
        .await
        .with_context(|| format!("lock to create schema {schema}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}"
    )))
    .execute(&mut *transaction)
    .await
    .with_context(|| format!("create schema {schema}"))?;
    transaction
        .commit()
        .await
        .with_context(|| format!("create schema {schema}"))?;
    Ok(pool)
}

/// Applies a service's embedded migrations inside its schema. Safe to run from several
/// processes at once: sqlx takes an advisory lock.
pub async fn migrate(pool: &PgPool, migrator: &Migrator) -> anyhow::Result<()> {
    migrator.run(pool).await.context("apply migrations")?;
    Ok(())
}

fn is_plain_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_schema_names_are_accepted() {
        assert!(super::is_plain_identifier("directory"));
        assert!(!super::is_plain_identifier("directory; drop table x"));
        assert!(!super::is_plain_identifier("1abc"));
    }
}
