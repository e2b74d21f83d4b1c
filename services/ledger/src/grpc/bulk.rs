//! Bulk posting for payment runs: a client stream of chunks, each recorded all or nothing
//! in a transaction of its own, through the same steps as a batch ([`record`]): the
//! accounts locked in id order, the ids already recorded answered as retries, the balance
//! rule applied in memory, then one COPY of the transfers, one of the entries, one update
//! of the touched accounts' sums, one chain link and the chunk's `ledger.posted` parts.
//! So a chunk costs a handful of round trips whatever its size, and a run that lost its
//! answer sends the whole stream again without moving anything twice.
//!
//! What must stay true:
//! - a refused chunk ends the call; its error keeps the refusal's code, names the chunk
//!   (`chunks[N].transfers[M]...`) and says how much the chunks before it recorded, since
//!   those are committed and stay so;
//! - a chunk, once received, runs to its commit or rollback in a task of its own, whatever
//!   the client does: a client that goes away in the middle of a COPY must not leave a
//!   connection in the pool half way through it;
//! - a stream holds one of the server's request slots while it lasts, so only finance staff
//!   of an authority may open one (refused before anything is read), at most
//!   [`MAX_BULK_STREAMS`] run at once, and each chunk must arrive whole within
//!   [`CHUNK_ARRIVAL`] of being asked for.

use std::time::Duration;

use sds_platform::Principal;
use sds_proto::v1 as proto;
use tonic::{Code, Status, Streaming};
use tracing::{Instrument as _, info, warn};

use super::convert;
use super::in_transaction;
use crate::domain::TransferContent;
use crate::domain::access::ensure_may_post_somewhere;
use crate::domain::transfer::distinct_ids;
use crate::error::LedgerError;
use crate::posting::Actor;
use crate::posting::batch::{Recorded, Retries, no_transfers, record};

/// The most transfers one chunk takes. A chunk must also fit the 4 MiB a message may be:
/// 10,000 transfers with short references and notes take about 2 MB, so a run with long
/// notes sends fewer per chunk (`sds ledger post-bulk` splits by size as well as count).
pub const MAX_CHUNK: usize = 10_000;

/// Bulk streams the service runs at once; one more is refused `RESOURCE_EXHAUSTED`.
pub const MAX_BULK_STREAMS: usize = 8;

/// How long a chunk may take to arrive whole once the service is ready for it: a stream
/// trickling a byte at a time cannot hold its slot for longer.
pub const CHUNK_ARRIVAL: Duration = Duration::from_secs(60);

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

    fn add(&mut self, recorded: &Recorded) {
        self.chunks += 1;
        self.recorded += u64::try_from(recorded.written.len()).unwrap_or(u64::MAX);
        self.already_recorded += u64::try_from(recorded.retried.len()).unwrap_or(u64::MAX);
        self.amount += recorded
            .written
            .iter()
            .map(|written| i128::from(written.content.amount))
            .sum::<i128>();
    }

    /// `status`, placed at chunk `self.chunks` and told what the earlier chunks recorded.
    fn refusal(&self, status: Status) -> Status {
        // A chunk tonic could not decode is the caller's fault, as for any other call.
        let status =
            sds_platform::server::callers_fault(status.code(), status.message().as_bytes())
                .unwrap_or(status);
        warn!(
            chunk = self.chunks,
            code = ?status.code(),
            recorded = self.recorded,
            "bulk posting ended by a refused chunk"
        );
        let message = status
            .message()
            .strip_suffix("; nothing was recorded")
            .unwrap_or(status.message());
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

/// One chunk, in a transaction of its own, in a task of its own: dropped with the call,
/// the task still runs the transaction to its end.
async fn post_chunk(
    api: &super::LedgerApi,
    principal: &Principal,
    contents: Vec<TransferContent>,
) -> Result<Recorded, LedgerError> {
    let writer = api.writer.clone();
    let clock = api.clock.clone();
    let watch = api.watch;
    let principal = principal.clone();
    tokio::spawn(
        async move {
            // One "now" per chunk: each chunk is a transaction of its own.
            let actor = Actor::new(&principal, &clock, watch);
            // A run's chunks are new but for a run sent again: the first attempt assumes so,
            // and one that meets a recorded id (its COPY refused by the key) runs again,
            // looking first.
            let mut retries = Retries::AssumeNone;
            in_transaction!(writer, connection => {
                let this = retries;
                retries = Retries::LookFirst;
                record(connection, &actor, &contents, this)
            })
        }
        .instrument(tracing::Span::current()),
    )
    .await
    .map_err(|failed| anyhow::anyhow!("the chunk's task failed: {failed}"))?
}

pub(super) async fn post_bulk(
    api: &super::LedgerApi,
    principal: Principal,
    mut stream: Streaming<proto::PostBulkChunk>,
) -> Result<proto::PostBulkResponse, Status> {
    ensure_may_post_somewhere(&principal).map_err(LedgerError::from)?;
    let Ok(_slot) = api.bulk_streams.clone().try_acquire_owned() else {
        return Err(Status::resource_exhausted(format!(
            "{MAX_BULK_STREAMS} bulk postings are already running; send this one when one of them has ended"
        )));
    };
    let mut totals = Totals::default();
    loop {
        let next = match tokio::time::timeout(CHUNK_ARRIVAL, stream.message()).await {
            Ok(next) => next.map_err(|status| totals.refusal(status))?,
            Err(_late) => {
                return Err(totals.refusal(Status::new(
                    Code::DeadlineExceeded,
                    format!(
                        "the chunk did not arrive whole within {} s; send each chunk at once",
                        CHUNK_ARRIVAL.as_secs()
                    ),
                )));
            }
        };
        let Some(chunk) = next else { break };
        let contents =
            chunk_contents(&chunk).map_err(|error| totals.refusal(Status::from(error)))?;
        let recorded = post_chunk(api, &principal, contents)
            .await
            .map_err(|error| totals.refusal(Status::from(error)))?;
        totals.add(&recorded);
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
