//! Registration request ids (idempotency keys). The key is claimed before the provider is
//! written, in the same transaction: a concurrent retry with the same key waits on the
//! claim (PostgreSQL's unique index) until the first transaction ends, then sees its
//! outcome. If the first rolled back, the retry claims the key itself.

use chrono::{DateTime, Utc};
use sds_platform::StoreContext as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::ProviderId;
use crate::domain::registration::{Claim, RequestId, judge};
use crate::error::DirectoryError;

/// Claims `request_id` for registering `provider` with `details` (its encoded form), or
/// says what an earlier request under the same key did.
pub async fn claim_request_id(
    connection: &mut PgConnection,
    scope: &str,
    request_id: &RequestId,
    details: &[u8],
    provider: ProviderId,
) -> Result<Claim, DirectoryError> {
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO registration_request (registrant, request_id, details, provider_id) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (registrant, request_id) DO NOTHING \
         RETURNING provider_id",
    )
    .bind(scope)
    .bind(request_id.as_str())
    .bind(details)
    .bind(provider.as_uuid())
    .fetch_optional(&mut *connection)
    .await
    .operation("claim registration request id")?;
    if claimed.is_some() {
        return Ok(Claim::New);
    }
    let (earlier_details, earlier_provider, received_at): (Vec<u8>, Uuid, DateTime<Utc>) =
        sqlx::query_as(
            "SELECT details, provider_id, received_at FROM registration_request \
             WHERE registrant = $1 AND request_id = $2",
        )
        .bind(scope)
        .bind(request_id.as_str())
        .fetch_one(&mut *connection)
        .await
        .operation("read claimed registration request id")?;
    Ok(judge(
        &earlier_details,
        ProviderId::from_uuid(earlier_provider),
        received_at,
        details,
    ))
}
