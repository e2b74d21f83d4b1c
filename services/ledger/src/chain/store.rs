//! The chain in the database, in two steps. A posting transaction draws a link id for its
//! rows ([`next_link_id`]) and, with them, stages the digest of what it wrote under that id
//! ([`stage`]), taking no lock shared with other postings. The linker then moves staged
//! links onto the chain ([`link_staged`]), in one transaction per batch under the chain
//! head's row lock, so links are numbered one after another without forks however many
//! linkers run.

use chrono::{DateTime, Utc};
use sds_platform::StoreContext as _;
use sqlx::{PgConnection, PgPool};

use super::{Hash, LinkContent, link_hash};
use crate::error::LedgerError;

/// The id the rows of this transaction's link carry.
pub async fn next_link_id(connection: &mut PgConnection) -> Result<i64, LedgerError> {
    Ok(sqlx::query_scalar("SELECT nextval('chain_link_id')")
        .fetch_one(&mut *connection)
        .await
        .operation("draw a chain link id")?)
}

/// Stages link `link_id`, whose rows are `content`, in the posting's transaction: it
/// commits or rolls back with them.
pub async fn stage(
    connection: &mut PgConnection,
    link_id: i64,
    content: &LinkContent,
    now: DateTime<Utc>,
) -> Result<(), LedgerError> {
    sqlx::query("INSERT INTO chain_pending (link_id, digest, staged_at) VALUES ($1, $2, $3)")
        .bind(link_id)
        .bind(content.digest().as_slice())
        .bind(now)
        .execute(&mut *connection)
        .await
        .operation("stage a chain link")?;
    Ok(())
}

/// Moves up to `limit` staged links onto the chain, oldest link id first, in one
/// transaction. Returns how many it linked.
pub async fn link_staged(
    pool: &PgPool,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<usize, LedgerError> {
    // Without waiting for the flush: a round PostgreSQL loses in a crash is lost whole (its
    // links, the head's move and the unstaging are one transaction, and any later commit
    // that survived flushed it too), so its links are still staged and the next round
    // chains them.
    let mut transaction = pool
        .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
        .await
        .operation("begin linking")?;
    // Taken first: a second linker waits here, then sees what this one left.
    let (mut seq, head): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, hash FROM chain_head WHERE one FOR UPDATE")
            .fetch_one(&mut *transaction)
            .await
            .operation("lock the chain head")?;
    let staged: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT link_id, digest FROM chain_pending ORDER BY link_id LIMIT $1")
            .bind(limit)
            .fetch_all(&mut *transaction)
            .await
            .operation("read staged links")?;
    if staged.is_empty() {
        return Ok(0);
    }
    let mut previous: Hash = to_hash(&head, "the chain head")?;
    let mut seqs = Vec::with_capacity(staged.len());
    let mut link_ids = Vec::with_capacity(staged.len());
    let mut hashes = Vec::with_capacity(staged.len());
    for (link_id, digest) in &staged {
        seq += 1;
        previous = link_hash(&previous, &to_hash(digest, "a staged digest")?);
        seqs.push(seq);
        link_ids.push(*link_id);
        hashes.push(previous.to_vec());
    }
    // One statement for the three writes: each round is a handful of round trips however
    // many links it appends.
    sqlx::query(
        "WITH appended AS ( \
             INSERT INTO chain_link (seq, link_id, hash, linked_at) \
             SELECT seq, link_id, hash, $4 FROM UNNEST($1::bigint[], $2::bigint[], $3::bytea[]) \
                 AS linked(seq, link_id, hash)), \
         unstaged AS (DELETE FROM chain_pending WHERE link_id = ANY($2)) \
         UPDATE chain_head SET seq = $5, hash = $6 WHERE one",
    )
    .bind(&seqs)
    .bind(&link_ids)
    .bind(&hashes)
    .bind(now)
    .bind(seq)
    .bind(previous.as_slice())
    .execute(&mut *transaction)
    .await
    .operation("append to the hash chain")?;
    transaction.commit().await.operation("commit linking")?;
    Ok(staged.len())
}

fn to_hash(bytes: &[u8], what: &str) -> Result<Hash, LedgerError> {
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("{what} is {} bytes, not 32", bytes.len()).into())
}
