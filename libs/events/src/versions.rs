//! The newest aggregate version each consumer has seen. Events arrive in no promised order,
//! so a handler that keeps only the latest state of an aggregate asks here whether an event
//! is newer than everything it has applied, and ignores it if not.

use sqlx::PgConnection;

/// Records `version` for the aggregate if it is above every version `consumer` has seen of
/// it, and says whether it was. Runs in the handler's transaction, so a rolled-back handler
/// leaves no trace; concurrent deliveries of one aggregate serialise on its row.
pub async fn advance(
    transaction: &mut PgConnection,
    consumer: &str,
    aggregate_type: &str,
    aggregate_id: &str,
    version: u64,
) -> Result<bool, sqlx::Error> {
    let version = i64::try_from(version).unwrap_or(i64::MAX);
    let advanced: Option<i64> = sqlx::query_scalar(
        "INSERT INTO aggregate_version (consumer, aggregate_type, aggregate_id, version) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (consumer, aggregate_type, aggregate_id) DO UPDATE SET version = EXCLUDED.version \
         WHERE aggregate_version.version < EXCLUDED.version \
         RETURNING version",
    )
    .bind(consumer)
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(version)
    .fetch_optional(&mut *transaction)
    .await?;
    Ok(advanced.is_some())
}
