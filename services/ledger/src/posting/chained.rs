//! What a posting transaction writes to history, as the hash chain covers it: built from
//! the same values the transaction then inserts, so the link's digest is of the rows as
//! stored.

use sds_vocabulary::NamedEnum as _;
use uuid::Uuid;

use super::{Actor, Recording};
use crate::chain::{ChainEntry, ChainResolution, ChainTransfer, LinkContent};
use crate::domain::TransferStatus;
use crate::store::NewEntry;

fn entries(actor: &Actor<'_>, entries: &[NewEntry]) -> Vec<ChainEntry> {
    entries
        .iter()
        .map(|entry| ChainEntry {
            transfer_id: entry.transfer_id,
            account_id: entry.account_id,
            amount: entry.amount,
            posted_on: actor.today,
        })
        .collect()
}

/// A batch of new transfers and the entries of those posted now.
pub fn batch_link(
    actor: &Actor<'_>,
    batch_id: Uuid,
    recordings: &[Recording],
    posted: &[NewEntry],
) -> LinkContent {
    let transfers = recordings
        .iter()
        .map(|recording| {
            let content = &recording.content;
            ChainTransfer {
                id: content.id,
                batch_id,
                fund_id: recording.fund_id,
                credit_fund_id: recording.credit_fund_id,
                debit_account_id: content.debit,
                credit_account_id: content.credit,
                amount: content.amount,
                category: content.category.name().to_owned(),
                reference: content.reference.clone(),
                note: content.note.clone(),
                pending: content.pending,
                reverses_id: content.reverses,
                created_on: actor.today,
                created_by: actor.by().to_owned(),
            }
        })
        .collect();
    LinkContent {
        transfers,
        resolutions: Vec::new(),
        entries: entries(actor, posted),
    }
}

/// The end of a pending transfer and, when it is posted, its entries.
pub fn resolution_link(
    actor: &Actor<'_>,
    transfer_id: Uuid,
    outcome: TransferStatus,
    posted: &[NewEntry],
) -> LinkContent {
    LinkContent {
        transfers: Vec::new(),
        resolutions: vec![ChainResolution {
            transfer_id,
            outcome: outcome.name().to_owned(),
            resolved_on: actor.today,
            resolved_by: actor.by().to_owned(),
        }],
        entries: entries(actor, posted),
    }
}
