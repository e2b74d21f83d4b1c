//! Appending a link, in two steps. At the start of a posting transaction its rows are given
//! a link id from a sequence ([`next_link_id`]), with no lock taken. As the transaction's
//! last statement, [`append`] moves the chain head on and records the link under that id:
//! the head's row lock is then held only for that statement and the commit, and since it
//! is held to commit, the next append waits for it and links follow commit order without
//! forks.

use chrono::{DateTime, Utc};
use sds_platform::StoreContext as _;
use sqlx::PgConnection;

use super::LinkContent;
use crate::error::LedgerError;

/// The id the rows of this transaction's link carry.
pub async fn next_link_id(connection: &mut PgConnection) -> Result<i64, LedgerError> {
    Ok(sqlx::query_scalar("SELECT nextval('chain_link_id')")
        .fetch_one(&mut *connection)
        .await
        .operation("draw a chain link id")?)
}

/// Appends link `link_id` for `content`; call it last, just before the commit. Returns the
/// link's place in the chain.
pub async fn append(
    connection: &mut PgConnection,
    link_id: i64,
    content: &LinkContent,
    now: DateTime<Utc>,
) -> Result<i64, LedgerError> {
    let digest = content.digest();
    let seq: i64 = sqlx::query_scalar(
        "WITH head AS ( \
             UPDATE chain_head SET seq = seq + 1, hash = sha256(hash || $1) \
             WHERE one RETURNING seq, hash) \
         INSERT INTO chain_link (seq, link_id, hash, linked_at) \
         SELECT seq, $2, hash, $3 FROM head \
         RETURNING seq",
    )
    .bind(digest.as_slice())
    .bind(link_id)
    .bind(now)
    .fetch_one(&mut *connection)
    .await
    .operation("append to the hash chain")?;
    Ok(seq)
}
