//! The two ends of a pending transfer (posted or voided, once) and the reversal of a
//! posted one by a new transfer pointing at it.

use sqlx::PgConnection;
use uuid::Uuid;

use super::batch::{Retries, create_transfers};
use super::{Actor, chained, entries_of, lock, publish, write_sums};
use crate::domain::access::{ensure_may_post, holds, is_staff_of};
use crate::domain::transfer::reversal_of;
use crate::domain::{Movement, TransferRecord, TransferStatus};
use crate::error::LedgerError;
use crate::store;

/// The transfer `id`, if the caller may act on it: finance staff of its authority. The
/// holder of the transfer's fund learns that settling and reversing are finance's; anyone
/// else who is not staff of that authority is told it is not recorded.
async fn load_for_posting(
    connection: &mut PgConnection,
    actor: &Actor<'_>,
    id: Uuid,
) -> Result<TransferRecord, LedgerError> {
    let record = store::load_transfers(connection, &[id])
        .await?
        .pop()
        .ok_or(LedgerError::TransferNotFound(id))?;
    if !is_staff_of(actor.principal, &record.authority) {
        // Only the authority's own staff, and the fund's holder, learn that a transfer
        // exists; anyone else, whatever authorities their token names, is told it is not
        // recorded.
        let held = store::load_fund(connection, record.fund_id)
            .await?
            .is_some_and(|(fund, _)| holds(actor.principal, &fund));
        if !held {
            return Err(LedgerError::TransferNotFound(id));
        }
    }
    ensure_may_post(actor.principal, &record.authority)?;
    Ok(record)
}

/// Posts (`outcome` = posted) or voids pending transfer `id`. Asking again for the same end
/// returns the transfer as it is; asking for the other end is refused.
pub async fn resolve(
    connection: &mut PgConnection,
    actor: &Actor<'_>,
    id: Uuid,
    outcome: TransferStatus,
) -> Result<TransferRecord, LedgerError> {
    let record = load_for_posting(connection, actor, id).await?;
    if !record.content.pending {
        return Err(LedgerError::NotPending {
            id,
            status: record.status,
        });
    }
    let mut locked = lock(connection, &[record.content.debit, record.content.credit]).await?;
    // Read again under the accounts' locks: a concurrent post or void has committed or not.
    let record = store::load_transfers(connection, &[id])
        .await?
        .pop()
        .ok_or(LedgerError::TransferNotFound(id))?;
    match record.status {
        TransferStatus::Pending => {}
        status if status == outcome => return Ok(record),
        status => return Err(LedgerError::AlreadyResolved { id, status }),
    }
    let content = &record.content;
    let movement = if outcome == TransferStatus::Posted {
        Movement::PostPending
    } else {
        Movement::VoidPending
    };
    locked
        .book
        .apply(content.debit, content.credit, content.amount, movement)
        .map_err(|refused| LedgerError::Refused {
            at: format!("transfer {id}"),
            refused,
        })?;
    let posted: Vec<_> = if outcome == TransferStatus::Posted {
        entries_of(content).to_vec()
    } else {
        Vec::new()
    };
    let link_id = crate::chain::store::next_link_id(connection).await?;
    store::insert_resolution(
        connection,
        id,
        outcome,
        actor.now,
        actor.today,
        actor.by(),
        link_id,
    )
    .await?;
    store::insert_entries(connection, &posted, actor.now, actor.today, link_id).await?;
    let batch_id = uuid::Uuid::now_v7();
    let crossings = write_sums(
        connection,
        actor,
        batch_id,
        &locked,
        &[content.debit, content.credit].into_iter().collect(),
    )
    .await?;
    let resolved = TransferRecord {
        status: outcome,
        ..record
    };
    publish(
        connection,
        crossings,
        batch_id,
        std::slice::from_ref(&resolved),
    )
    .await?;
    let link = chained::resolution_link(actor, id, outcome, &posted);
    crate::chain::store::stage(connection, link_id, &link, actor.now).await?;
    Ok(resolved)
}

/// Reverses posted transfer `id` by a new transfer `reversal_id` the other way round.
pub async fn reverse(
    connection: &mut PgConnection,
    actor: &Actor<'_>,
    id: Uuid,
    reversal_id: Uuid,
    note: String,
) -> Result<TransferRecord, LedgerError> {
    let original = load_for_posting(connection, actor, id).await?;
    // Reversing a reversal would restore the original through a chain of corrections no
    // statement reads plainly; the movement is recorded afresh instead.
    if let Some(of) = original.content.reverses {
        return Err(LedgerError::ReversesAReversal { id, of });
    }
    let reversal = reversal_of(&original.content, reversal_id, note);
    match store::reversal_of(connection, id).await? {
        // Asked again: the batch answers with the original or refuses other content.
        Some(by) if by == reversal_id => {}
        Some(by) => return Err(LedgerError::AlreadyReversed { id, by }),
        None if original.status != TransferStatus::Posted => {
            return Err(LedgerError::NotReversible {
                id,
                status: original.status,
            });
        }
        None => {}
    }
    let mut records =
        create_transfers(connection, actor, vec![reversal], Retries::LookFirst).await?;
    records
        .pop()
        .ok_or_else(|| anyhow::anyhow!("a batch of one recorded nothing").into())
}
