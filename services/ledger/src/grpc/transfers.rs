//! Transfers: batches, the ends of pending transfers, and reversals, each in one
//! transaction (see [`crate::posting`]).

use crate::domain::Watch;
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use tracing::info;

use super::convert::{self, transfer_message};
use super::{Writer, in_transaction};
use crate::domain::TransferStatus;
use crate::domain::transfer::distinct_ids;
use crate::error::LedgerError;
use crate::posting::Actor;
use crate::posting::batch::{Retries, create_transfers, no_transfers};
use crate::posting::pending;

/// The most transfers one batch takes; payment runs use bulk posting.
const MAX_BATCH: usize = 1000;

pub(super) async fn create(
    writer: &Writer,
    clock: &Clock,
    watch: Watch,
    principal: &Principal,
    request: &proto::CreateTransfersRequest,
) -> Result<proto::CreateTransfersResponse, LedgerError> {
    if request.transfers.is_empty() {
        return Err(no_transfers().into());
    }
    if request.transfers.len() > MAX_BATCH {
        return Err(sds_vocabulary::Invalid::new(
            "transfers",
            format!(
                "has {} transfers; a batch takes at most {MAX_BATCH}",
                request.transfers.len()
            ),
        )
        .into());
    }
    let contents = convert::new_transfers(&request.transfers)?;
    distinct_ids(&contents)?;
    let actor = Actor::new(principal, clock, watch);
    // The first attempt assumes the transfers are new; one that finds otherwise is run
    // again, looking first.
    let first = std::sync::atomic::AtomicBool::new(true);
    let records = in_transaction!(writer, connection => {
        let retries = if first.swap(false, std::sync::atomic::Ordering::Relaxed) {
            Retries::AssumeNone
        } else {
            Retries::LookFirst
        };
        create_transfers(connection, &actor, contents.clone(), retries)
    })?;
    info!(transfers = records.len(), "transfers recorded");
    Ok(proto::CreateTransfersResponse {
        transfers: records.iter().map(transfer_message).collect(),
    })
}

pub(super) async fn resolve(
    writer: &Writer,
    clock: &Clock,
    watch: Watch,
    principal: &Principal,
    request: &proto::ResolvePendingRequest,
    outcome: TransferStatus,
) -> Result<proto::Transfer, LedgerError> {
    let id = convert::required_id("transfer_id", &request.transfer_id)?;
    let actor = Actor::new(principal, clock, watch);
    let record =
        in_transaction!(writer, connection => pending::resolve(connection, &actor, id, outcome))?;
    info!(transfer = %id, %outcome, "pending transfer resolved");
    Ok(transfer_message(&record))
}

pub(super) async fn reverse(
    writer: &Writer,
    clock: &Clock,
    watch: Watch,
    principal: &Principal,
    request: &proto::ReverseTransferRequest,
) -> Result<proto::Transfer, LedgerError> {
    let id = convert::required_id("transfer_id", &request.transfer_id)?;
    let reversal_id = convert::new_id("reversal_id", &request.reversal_id)?;
    if reversal_id == id {
        return Err(sds_vocabulary::Invalid::new(
            "reversal_id",
            "is the transfer's own id; a reversal is a new transfer with its own id",
        )
        .into());
    }
    let note = convert::note("note", &request.note)?;
    let actor = Actor::new(principal, clock, watch);
    let record = in_transaction!(writer, connection => pending::reverse(connection, &actor, id, reversal_id, note.clone()))?;
    info!(transfer = %id, reversal = %reversal_id, "transfer reversed");
    Ok(transfer_message(&record))
}
