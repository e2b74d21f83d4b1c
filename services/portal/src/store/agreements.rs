//! Who is party to each agreement, as agreement.signed and agreement.varied said last, for
//! the events that name only the payee.

use sds_platform::{StoreContext as _, StoreError};
use sqlx::PgConnection;
use uuid::Uuid;

/// An agreement's provider and, for a fund a third party holds, its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parties {
    pub provider: Uuid,
    pub holder: Option<Uuid>,
}

/// Keeps the parties of `version` of the agreement unless a later version is kept.
pub async fn remember(
    connection: &mut PgConnection,
    agreement_id: Uuid,
    version: u32,
    parties: Parties,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO agreement_party (agreement_id, provider_id, holder_id, version) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (agreement_id) DO UPDATE SET provider_id = excluded.provider_id, \
             holder_id = excluded.holder_id, version = excluded.version \
         WHERE agreement_party.version < excluded.version",
    )
    .bind(agreement_id)
    .bind(parties.provider)
    .bind(parties.holder)
    .bind(i64::from(version.max(1)))
    .execute(&mut *connection)
    .await
    .operation("remember agreement parties")?;
    Ok(())
}

/// The agreement's parties, when an earlier event told them.
pub async fn of(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<Option<Parties>, StoreError> {
    let row: Option<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "SELECT provider_id, holder_id FROM agreement_party WHERE agreement_id = $1",
    )
    .bind(agreement_id)
    .fetch_optional(&mut *connection)
    .await
    .operation("read agreement parties")?;
    Ok(row.map(|(provider, holder)| Parties { provider, holder }))
}
