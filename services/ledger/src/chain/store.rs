//! Appending a link: one statement that moves the chain head on and records the link. The
//! head's row lock is held until the posting transaction commits, so the next append waits
//! for it and links follow commit order without forks.

use chrono::{DateTime, Utc};
use sds_platform::StoreContext as _;
use sqlx::PgConnection;

use super::LinkContent;
use crate::error::LedgerError;

/// Appends the link for `content` and returns its sequence number, which the rows written
/// with it carry.
pub async fn append(
    connection: &mut PgConnection,
    content: &LinkContent,
    now: DateTime<Utc>,
) -> Result<i64, LedgerError> {
    let digest = content.digest();
    let seq: i64 = sqlx::query_scalar(
        "WITH head AS ( \
             UPDATE chain_head SET seq = seq + 1, hash = sha256(hash || $1) \
             WHERE one RETURNING seq, hash) \
         INSERT INTO chain_link (seq, hash, linked_at) SELECT seq, hash, $2 FROM head \
         RETURNING seq",
    )
    .bind(digest.as_slice())
    .bind(now)
    .fetch_one(&mut *connection)
    .await
    .operation("append to the hash chain")?;
    Ok(seq)
}
