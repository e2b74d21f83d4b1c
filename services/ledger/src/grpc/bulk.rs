//! Bulk posting for payment runs: a client stream of chunks, each recorded all or nothing
//! in a transaction of its own, through the same steps as a batch ([`record`]): the
//! accounts locked in id order, the ids already recorded answered as retries, the balance
//! rule applied in memory, then one COPY of the transfers, one of the entries, one update
//! of the touched accounts' sums, one chain link and the chunk's `ledger.posted` parts.
//! So a chunk costs a handful of round trips whatever its size, and a run that lost its
//! answer sends the whole stream again without moving anything twice.
//!
//! A refused chunk ends the call. Its error keeps the refusal's code, names the chunk
//! (`chunks[N].transfers[M]...`) and says how much the chunks before it recorded, since
//! those are committed and stay so.

use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sqlx::PgPool;
use tonic::{Status, Streaming};
use tracing::info;

use super::convert;
use super::in_transaction;
use crate::domain::transfer::distinct_ids;
use crate::domain::{TransferContent, Watch};
use crate::error::LedgerError;
use crate::posting::Actor;
use crate::posting::batch::{Recorded, no_transfers, record};

/// The most transfers one chunk takes: about 3 MB of rows, well inside the 4 MiB message
/// limit, and few enough that a chunk's locks are held for a fraction of a second.
pub const MAX_CHUNK: usize = 10_000;

/// What the call has recorded so far.
#[derive(Debug, Default)]
struct Totals {
    chunks: u32,
    recorded: u64,
    already_recorded: u64,
    /// In pence; wider than an account's sums, since it adds up a whole run.
    amount: i128,
}

impl Totals {
    fn response(&self) -> proto::PostBulkResponse {
        proto::PostBulkResponse {
            chunks: self.chunks,
            recorded: self.recorded,
            already_recorded: self.already_recorded,
            amount: Some(proto::Money {
                // Amounts are above zero, so the total is too.
                amount: format!("{}.{:02}", self.amount / 100, self.amount % 100),
            }),
        }
    }

    /// `status`, placed at chunk `self.chunks` and told what the earlier chunks recorded.
    fn refusal(&self, status: Status) -> Status {
        let message = status.message();
        let placed = if message.starts_with("transfers") {
            format!("chunks[{}].{message}", self.chunks)
        } else {
            format!("chunks[{}]: {message}", self.chunks)
        };
        let before = if self.chunks == 0 {
            "nothing was recorded by this call".to_owned()
        } else {
            format!(
                "the {} chunk(s) before it stay recorded ({} transfers new, {} already recorded); send the stream again from this chunk, or all of it, since recorded transfers are answered as retries",
                self.chunks, self.recorded, self.already_recorded
            )
        };
        Status::new(
            status.code(),
            format!("{placed}; this chunk recorded nothing, and {before}"),
        )
    }
}

/// One chunk's transfers, checked for shape before its transaction.
fn chunk_contents(chunk: &proto::PostBulkChunk) -> Result<Vec<TransferContent>, LedgerError> {
    if chunk.transfers.is_empty() {
        return Err(no_transfers().into());
    }
    if chunk.transfers.len() > MAX_CHUNK {
        return Err(sds_vocabulary::Invalid::new(
            "transfers",
            format!(
                "has {} transfers; a chunk takes at most {MAX_CHUNK} (split the run into more chunks)",
                chunk.transfers.len()
            ),
        )
        .into());
    }
    let contents = convert::new_transfers(&chunk.transfers)?;
    distinct_ids(&contents)?;
    Ok(contents)
}

/// One chunk, in a transaction of its own.
async fn post_chunk(
    pool: &PgPool,
    actor: &Actor<'_>,
    contents: &[TransferContent],
) -> Result<Recorded, LedgerError> {
    in_transaction!(pool, connection => record(connection, actor, contents))
}

pub(super) async fn post_bulk(
    pool: &PgPool,
    clock: &Clock,
    watch: Watch,
    principal: &Principal,
    mut stream: Streaming<proto::PostBulkChunk>,
) -> Result<proto::PostBulkResponse, Status> {
    let mut totals = Totals::default();
    while let Some(chunk) = stream
        .message()
        .await
        .map_err(|status| totals.refusal(status))?
    {
        let contents =
            chunk_contents(&chunk).map_err(|error| totals.refusal(Status::from(error)))?;
        // One "now" per chunk: each chunk is a transaction of its own.
        let actor = Actor::new(principal, clock, watch);
        let recorded = post_chunk(pool, &actor, &contents)
            .await
            .map_err(|error| totals.refusal(Status::from(error)))?;
        totals.chunks += 1;
        totals.recorded += u64::try_from(recorded.written.len()).unwrap_or(u64::MAX);
        totals.already_recorded += u64::try_from(recorded.retried.len()).unwrap_or(u64::MAX);
        totals.amount += recorded
            .written
            .iter()
            .map(|written| i128::from(written.content.amount))
            .sum::<i128>();
    }
    if totals.chunks == 0 {
        return Err(Status::from(LedgerError::from(
            sds_vocabulary::Invalid::new(
                "chunks",
                "is empty; send at least one chunk of transfers",
            ),
        )));
    }
    info!(
        chunks = totals.chunks,
        recorded = totals.recorded,
        already_recorded = totals.already_recorded,
        "bulk posting recorded"
    );
    Ok(totals.response())
}
