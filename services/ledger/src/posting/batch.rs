//! A batch of transfers, all or nothing: every new transfer is checked and applied in
//! memory before anything is written, so one that would overdraw a fund refuses the whole
//! batch. Ids already recorded with the same content are answered with the original and
//! move nothing again; with other content the batch is refused.

use std::collections::HashMap;

use sds_platform::OrgKind;
use sds_vocabulary::Invalid;
use uuid::Uuid;

use super::{Actor, Locked, Recording, lock_for_batch, write_batch};
use crate::domain::access::{
    Moved, ensure_may_post, ensure_may_post_movement, is_staff_of, may_read,
};
use crate::domain::transfer::compare;
use crate::domain::{Movement, Retry, TransferContent, TransferRecord};
use crate::error::LedgerError;
use crate::store::{self, LockedAccount};
use sqlx::PgConnection;

/// What a batch recorded: the transfers it wrote, and those it answered as retries.
#[derive(Debug, Default)]
pub struct Recorded {
    pub written: Vec<TransferRecord>,
    pub retried: Vec<TransferRecord>,
}

/// How a batch finds the transfers it holds that are already recorded (retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retries {
    /// Looks them up once the accounts are locked, before deciding anything.
    LookFirst,
    /// Assumes there are none, saving the look-up on the common path: the write skips an
    /// id already recorded and reports it, and a refusal may be a retry's, so either ends
    /// the transaction with [`LedgerError::RecordedMeanwhile`] and the caller runs the
    /// batch again with [`Retries::LookFirst`].
    AssumeNone,
}

/// Records `contents` (checked for shape and distinct ids by the caller) in the open
/// transaction. Returns each as recorded, in the order asked.
pub async fn create_transfers(
    connection: &mut PgConnection,
    actor: &Actor<'_>,
    contents: Vec<TransferContent>,
    retries: Retries,
) -> Result<Vec<TransferRecord>, LedgerError> {
    let ids: Vec<Uuid> = contents.iter().map(|content| content.id).collect();
    let recorded = record(connection, actor, &contents, retries).await?;
    let mut by_id: HashMap<Uuid, TransferRecord> = recorded
        .written
        .into_iter()
        .chain(recorded.retried)
        .map(|record| (record.content.id, record))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Records the transfers of `contents` not yet recorded, as one batch, and answers the
/// others as retries. Refuses the whole batch if one is refused.
pub async fn record(
    connection: &mut PgConnection,
    actor: &Actor<'_>,
    contents: &[TransferContent],
    retries: Retries,
) -> Result<Recorded, LedgerError> {
    let ids: Vec<Uuid> = contents.iter().map(|content| content.id).collect();
    // Lock first, then look for ids already recorded: a concurrent request with the same
    // transfer holds these accounts until it commits, so what it recorded is seen here and
    // answered as a retry, rather than its effect on the balance refusing this one.
    let accounts: Vec<Uuid> = contents
        .iter()
        .flat_map(|content| [content.debit, content.credit])
        .collect();
    let mut locked = lock_for_batch(connection, &accounts).await?;
    let mut recorded: HashMap<Uuid, TransferRecord> = match retries {
        Retries::LookFirst => store::load_transfers(connection, &ids).await?,
        Retries::AssumeNone => Vec::new(),
    }
    .into_iter()
    .map(|record| (record.content.id, record))
    .collect();
    let mut fresh = Vec::new();
    let mut retried = Vec::with_capacity(recorded.len());
    for (index, content) in contents.iter().enumerate() {
        match recorded.remove(&content.id) {
            Some(record) => {
                // A transfer id is a global key, so another authority's transfer may hold
                // it: its caller learns only that the id is taken, never whose it is.
                if is_staff_of(actor.principal, &record.authority) {
                    ensure_may_post(actor.principal, &record.authority)?;
                } else if !holder_may_repeat(actor, &locked, &record.content) {
                    return Err(LedgerError::TransferIdUsed(content.id));
                }
                if compare(&record.content, content) == Retry::Conflict {
                    return Err(LedgerError::TransferIdUsed(content.id));
                }
                retried.push(record);
            }
            None => fresh.push((index, content)),
        }
    }
    let mut written = Vec::new();
    if !fresh.is_empty() {
        let mut recordings = Vec::with_capacity(fresh.len());
        for (index, content) in fresh {
            match apply_one(actor, &mut locked, index, content) {
                Ok(recording) => recordings.push(recording),
                // Perhaps a retry, whose original already moved the balance: decided again,
                // looking first.
                Err(LedgerError::Refused { .. }) if retries == Retries::AssumeNone => {
                    return Err(LedgerError::RecordedMeanwhile);
                }
                // The funds were read before any wait for the locks: a refusal that a fund
                // closed meanwhile would explain is decided again on what is recorded now.
                Err(refused @ LedgerError::Refused { .. }) => {
                    let funds: Vec<Uuid> = locked.accounts.values().map(|a| a.fund.id).collect();
                    if store::count_closed(connection, &funds).await? > 0
                        && locked.accounts.values().any(|a| a.fund.closed_on.is_none())
                    {
                        return Err(LedgerError::FundClosedMeanwhile);
                    }
                    return Err(refused);
                }
                Err(other) => return Err(other),
            }
        }
        written = write_batch(connection, actor, &recordings, &locked).await?;
    }
    Ok(Recorded { written, retried })
}

/// Whether a caller who is not the authority's staff may be answered a transfer already
/// recorded with the same content: it holds the fund and could have posted the transfer.
fn holder_may_repeat(actor: &Actor<'_>, locked: &Locked, content: &TransferContent) -> bool {
    let (Some(debit), Some(credit)) = (
        locked.accounts.get(&content.debit),
        locked.accounts.get(&content.credit),
    ) else {
        return false;
    };
    debit.fund.id == credit.fund.id
        && ensure_may_post_movement(actor.principal, moved(debit, credit, content)).is_ok()
}

/// What a transfer between two locked accounts moves, for [`ensure_may_post_movement`].
fn moved<'a>(
    debit: &'a LockedAccount,
    credit: &LockedAccount,
    content: &TransferContent,
) -> Moved<'a> {
    Moved {
        fund: &debit.fund,
        debit: debit.state.kind,
        credit: credit.state.kind,
        category: content.category,
        pending: content.pending,
    }
}

/// Checks transfer `index` against the locked accounts and applies it to the book.
fn apply_one(
    actor: &Actor<'_>,
    locked: &mut Locked,
    index: usize,
    content: &TransferContent,
) -> Result<Recording, LedgerError> {
    let field = |name: &str| format!("transfers[{index}].{name}");
    // The fund's payees, for a provider reading as one paid from it; gathered only for a
    // provider, since a bulk chunk locks thousands of accounts.
    let payees = |fund: Uuid| -> Vec<Uuid> {
        if actor.principal.org_kind != OrgKind::Provider {
            return Vec::new();
        }
        locked
            .accounts
            .values()
            .filter(|account| account.fund.id == fund)
            .filter_map(|account| account.payee)
            .collect()
    };
    let account = |id: Uuid, name: &str| {
        locked
            .accounts
            .get(&id)
            // A fund the caller may not read is not recorded, as far as the caller knows.
            .filter(|account| may_read(actor.principal, &account.fund, &payees(account.fund.id)))
            .ok_or_else(|| LedgerError::AccountNotFound {
                field: field(name),
                id,
            })
    };
    let debit = account(content.debit, "debit_account_id")?;
    let credit = account(content.credit, "credit_account_id")?;
    ensure_may_post_movement(actor.principal, moved(debit, credit, content))?;
    if credit.fund.id != debit.fund.id {
        return Err(LedgerError::OtherFund {
            field: field("credit_account_id"),
            fund: debit.fund.id,
            other: credit.fund.id,
        });
    }
    let recording = Recording {
        content: content.clone(),
        fund_id: debit.fund.id,
        credit_fund_id: credit.fund.id,
        authority: debit.fund.authority.clone(),
    };
    let movement = if content.pending {
        Movement::Reserve
    } else {
        Movement::Post
    };
    locked
        .book
        .apply(content.debit, content.credit, content.amount, movement)
        .map_err(|refused| LedgerError::Refused {
            at: format!("transfers[{index}]"),
            refused,
        })?;
    Ok(recording)
}

/// The refusal of an empty batch.
pub fn no_transfers() -> Invalid {
    Invalid::new("transfers", "is empty; a batch has at least one transfer")
}
