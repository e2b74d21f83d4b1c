//! One transaction of the ledger. Every change follows the same steps: lock the accounts it
//! touches in account id order (so concurrent transactions never wait on each other in a
//! circle, and no deadlock reaches a caller), read them after the lock, apply the domain's
//! rules in memory ([`Book`]), then write the transfers, their entries, the accounts' new
//! sums and `ledger.posted` in the same transaction, so they commit together or not at all.
//!
//! [`batch`] records transfers, [`pending`] posts and voids pending ones and reverses
//! posted ones, [`closing`] closes a fund. Each transaction that writes history stages one
//! link of the hash chain ([`chained`]): its rows name the link by an id drawn first, and
//! the linker chains it after the commit (`crate::chain::linker`), so no posting waits for
//! another that touches none of its accounts.
//!
//! Nothing here announces a commit (no `NOTIFY`, which would queue every posting's commit
//! behind the others'): whoever commits rings the bells of [`crate::grpc::Writer`].

pub mod batch;
pub mod chained;
pub mod closing;
pub mod pending;
mod watch;

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sds_events::NewEvent;
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_vocabulary::AuthorityId;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{
    AccountState, Book, FundLimits, TransferContent, TransferRecord, TransferStatus, Watch,
};
use crate::error::LedgerError;
use crate::grpc::convert::transfer_message;
use crate::store::{self, LockedAccount, NewEntry};

/// Who is acting and when: the caller, and the one "now" the whole transaction records.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub principal: &'a Principal,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    /// The balance thresholds watched as the transaction moves money.
    pub watch: Watch,
}

impl<'a> Actor<'a> {
    pub fn new(principal: &'a Principal, clock: &Clock, watch: Watch) -> Actor<'a> {
        Actor {
            principal,
            now: clock.now(),
            today: clock.today(),
            watch,
        }
    }

    fn by(&self) -> &str {
        &self.principal.org_id
    }
}

/// Accounts locked by the transaction: their sums in a [`Book`], and each with its fund.
#[derive(Debug)]
pub struct Locked {
    pub book: Book,
    pub accounts: HashMap<Uuid, LockedAccount>,
}

/// Locks `ids` (in id order, whatever order they are given in) and reads them.
pub async fn lock(connection: &mut PgConnection, ids: &[Uuid]) -> Result<Locked, LedgerError> {
    Ok(locked_from(
        store::lock_accounts(connection, &sorted(ids)).await?,
    ))
}

/// As [`lock`], one statement cheaper, for a batch: its funds may read as they were before a
/// wait for a lock, so [`write_batch`] checks again that they are open as it writes.
pub async fn lock_for_batch(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Locked, LedgerError> {
    Ok(locked_from(
        store::lock_accounts_reading_funds_before(connection, &sorted(ids)).await?,
    ))
}

fn sorted(ids: &[Uuid]) -> Vec<Uuid> {
    let mut sorted: Vec<Uuid> = ids.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
}

fn locked_from(locked: Vec<LockedAccount>) -> Locked {
    let funds = locked
        .iter()
        .map(|account| {
            (
                account.fund.id,
                FundLimits {
                    overdraft_limit: account.fund.overdraft_limit,
                    open: account.fund.closed_on.is_none(),
                },
            )
        })
        .collect();
    let book = Book::new(locked.iter().map(|account| account.state).collect(), funds);
    let accounts = locked
        .into_iter()
        .map(|account| (account.state.id, account))
        .collect();
    Locked { book, accounts }
}

/// A transfer about to be recorded, with the funds of its two accounts.
#[derive(Debug, Clone)]
pub struct Recording {
    pub content: TransferContent,
    pub fund_id: Uuid,
    pub credit_fund_id: Uuid,
    pub authority: AuthorityId,
}

impl Recording {
    fn record(&self, today: NaiveDate) -> TransferRecord {
        TransferRecord {
            content: self.content.clone(),
            fund_id: self.fund_id,
            authority: self.authority.clone(),
            status: if self.content.pending {
                TransferStatus::Pending
            } else {
                TransferStatus::Posted
            },
            created_on: today,
        }
    }
}

/// The two entries of a movement posted now.
fn entries_of(content: &TransferContent) -> [NewEntry; 2] {
    [
        NewEntry {
            transfer_id: content.id,
            account_id: content.debit,
            amount: -content.amount,
        },
        NewEntry {
            transfer_id: content.id,
            account_id: content.credit,
            amount: content.amount,
        },
    ]
}

/// The accounts `touched`, as `locked.book` now holds them.
fn sums_of(locked: &Locked, touched: &BTreeSet<Uuid>) -> Vec<AccountState> {
    touched
        .iter()
        .filter_map(|id| locked.book.account(*id).copied())
        .collect()
}

/// Writes the sums of the accounts `touched` as `locked.book` now holds them. Returns the
/// events of the thresholds each fund's balance crossed from what it was when locked.
async fn write_sums(
    connection: &mut PgConnection,
    actor: &Actor<'_>,
    batch_id: Uuid,
    locked: &Locked,
    touched: &BTreeSet<Uuid>,
) -> Result<Vec<NewEvent>, LedgerError> {
    let states = sums_of(locked, touched);
    store::update_accounts(connection, &states).await?;
    Ok(watch::crossing_events(actor, batch_id, locked, &states))
}

/// Writes `recordings` as one batch: the transfers, the entries of those posted now, the
/// accounts' sums, the staged chain link, and `ledger.posted` (after any thresholds
/// crossed). Returns them as recorded.
async fn write_batch(
    connection: &mut PgConnection,
    actor: &Actor<'_>,
    recordings: &[Recording],
    locked: &Locked,
) -> Result<Vec<TransferRecord>, LedgerError> {
    let batch_id = Uuid::now_v7();
    let rows: Vec<_> = recordings
        .iter()
        .map(|r| (r.content.clone(), r.fund_id, r.credit_fund_id))
        .collect();
    let entries: Vec<NewEntry> = recordings
        .iter()
        .filter(|r| !r.content.pending)
        .flat_map(|r| entries_of(&r.content))
        .collect();
    let touched: BTreeSet<Uuid> = recordings
        .iter()
        .flat_map(|r| [r.content.debit, r.content.credit])
        .collect();
    let sums = sums_of(locked, &touched);
    // Checked as the batch writes: `lock_for_batch` may have read them before a closing.
    let funds: Vec<Uuid> = recordings
        .iter()
        .flat_map(|r| [r.fund_id, r.credit_fund_id])
        .collect::<BTreeSet<Uuid>>()
        .into_iter()
        .collect();
    let link = chained::batch_link(actor, batch_id, recordings, &entries);
    let records: Vec<TransferRecord> = recordings.iter().map(|r| r.record(actor.today)).collect();
    let mut events = watch::crossing_events(actor, batch_id, locked, &sums);
    events.extend(posted_events(batch_id, &records));
    if rows.len() > store::COPY_ABOVE {
        let link_id = crate::chain::store::next_link_id(connection).await?;
        let (now, today) = (actor.now, actor.today);
        store::copy_transfers(connection, batch_id, &rows, now, today, actor.by(), link_id).await?;
        store::copy_entries(connection, &entries, now, today, link_id).await?;
        store::update_accounts(connection, &sums).await?;
        crate::chain::store::stage(connection, link_id, &link, now).await?;
        sds_events::enqueue_all_unannounced(connection, events).await?;
        if store::count_closed(connection, &funds).await? > 0 {
            return Err(LedgerError::FundClosedMeanwhile);
        }
    } else {
        let written = store::write_posting(
            connection,
            &store::Posting {
                batch_id,
                transfers: &rows,
                entries: &entries,
                accounts: &sums,
                now: actor.now,
                today: actor.today,
                by: actor.by(),
                digest: link.digest(),
                events: sds_events::OutboxRows::of(events),
                funds: &funds,
            },
        )
        .await?;
        if written.funds_closed > 0 {
            return Err(LedgerError::FundClosedMeanwhile);
        }
        if written.transfers != i64::try_from(rows.len()).unwrap_or(i64::MAX) {
            return Err(LedgerError::RecordedMeanwhile);
        }
    }
    Ok(records)
}

/// The most transfers one `ledger.posted` carries: a thousand transfers make an event of
/// about 250 kB, well inside NATS's 1 MB message limit, where a bulk chunk's 10,000 would not
/// fit.
const TRANSFERS_PER_EVENT: usize = 1000;

/// `ledger.posted` for a batch: one event per authority it touched (a batch is normally
/// one authority's), carrying its transfers as recorded, in parts of at most
/// [`TRANSFERS_PER_EVENT`].
fn posted_events(batch_id: Uuid, records: &[TransferRecord]) -> Vec<NewEvent> {
    let mut authorities: Vec<&AuthorityId> = records.iter().map(|r| &r.authority).collect();
    authorities.sort();
    authorities.dedup();
    let mut events = Vec::new();
    for authority in authorities {
        let transfers: Vec<proto::Transfer> = records
            .iter()
            .filter(|r| &r.authority == authority)
            .map(transfer_message)
            .collect();
        let parts = transfers.len().div_ceil(TRANSFERS_PER_EVENT);
        for (index, part) in transfers.chunks(TRANSFERS_PER_EVENT).enumerate() {
            let number = index + 1;
            events.push(NewEvent::new(
                authority.clone(),
                batch_id.to_string(),
                u64::try_from(number).unwrap_or(u64::MAX),
                proto::event::Body::LedgerPosted(proto::LedgerPosted {
                    batch_id: batch_id.to_string(),
                    transfers: part.to_vec(),
                    part: u32::try_from(number).unwrap_or(u32::MAX),
                    parts: u32::try_from(parts).unwrap_or(u32::MAX),
                }),
            ));
        }
    }
    events
}

/// Records `crossings`, then `ledger.posted` for the batch, in one statement.
async fn publish(
    connection: &mut PgConnection,
    mut crossings: Vec<NewEvent>,
    batch_id: Uuid,
    records: &[TransferRecord],
) -> Result<(), LedgerError> {
    crossings.extend(posted_events(batch_id, records));
    sds_events::enqueue_all_unannounced(connection, crossings).await?;
    Ok(())
}
