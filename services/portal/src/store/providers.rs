//! The portal's copy of the directory's providers: where each works and in what, so that a
//! package request reaches the providers it matches. Filled only from the directory's
//! events; an event older than the version kept changes nothing, so redelivery and
//! reordering are harmless.

use sds_platform::{StoreContext as _, StoreError};
use sqlx::PgConnection;
use uuid::Uuid;

/// What the portal keeps of one version of a provider record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownProvider {
    pub id: Uuid,
    pub service_types: Vec<String>,
    pub localities: Vec<String>,
    pub active: bool,
    pub version: u64,
}

/// Keeps `provider` unless a version at least as new is kept already. Returns whether it
/// changed anything.
pub async fn remember(
    connection: &mut PgConnection,
    provider: &KnownProvider,
) -> Result<bool, StoreError> {
    let version = i64::try_from(provider.version).unwrap_or(i64::MAX);
    let changed = sqlx::query(
        "INSERT INTO known_provider (provider_id, service_types, localities, active, version) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (provider_id) DO UPDATE SET \
             service_types = excluded.service_types, localities = excluded.localities, \
             active = excluded.active, version = excluded.version, updated_at = now() \
         WHERE known_provider.version < excluded.version",
    )
    .bind(provider.id)
    .bind(&provider.service_types)
    .bind(&provider.localities)
    .bind(provider.active)
    .bind(version)
    .execute(&mut *connection)
    .await
    .operation("remember provider")?
    .rows_affected();
    Ok(changed > 0)
}

/// The active providers working in `locality` in at least one of `service_types`, both
/// compared ignoring case (as the directory compares them), in id order.
pub async fn matching(
    connection: &mut PgConnection,
    locality: &str,
    service_types: &[String],
) -> Result<Vec<Uuid>, StoreError> {
    sqlx::query_scalar(
        "SELECT provider_id FROM known_provider \
         WHERE active AND localities_folded @> ARRAY[lower($1)] \
           AND service_types_folded && fold_case($2::text[]) \
         ORDER BY provider_id",
    )
    .bind(locality)
    .bind(service_types)
    .fetch_all(&mut *connection)
    .await
    .operation("match providers to a request")
}
