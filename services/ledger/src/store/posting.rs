//! A batch of up to [`COPY_ABOVE`] transfers written in one statement: the transfers, the
//! entries of those posted now, the accounts' new sums, the staged chain link and the
//! batch's events, as data-modifying parts of one `WITH`, in one round trip. A single
//! transfer is the hot path of the ledger, and what it costs beyond the raw write is mostly
//! statements: one here instead of six. Larger batches (a bulk chunk) go by `COPY` instead ([`super::copy`]).
//!
//! The parts run on one snapshot and cannot see each other's rows, which none of them
//! needs: the foreign keys (an entry's transfer) are checked when the statement ends, when
//! every part has written. The link id is drawn once (a `WITH` part calling `nextval` is
//! evaluated once) and named by every row and by the staged link.

use chrono::{DateTime, NaiveDate, Utc};
use sds_events::OutboxRows;
use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use sqlx::{AssertSqlSafe, PgConnection};
use std::sync::LazyLock;
use uuid::Uuid;

use super::transfers::NewEntry;
use crate::chain::Hash;
use crate::domain::{AccountState, TransferContent};
use crate::error::LedgerError;

/// Above this many transfers, `COPY` writes them faster than one statement binding arrays;
/// below it, one prepared statement saves COPY's extra round trips.
pub const COPY_ABOVE: usize = 1000;

/// What one batch writes: each transfer with the funds of its debit and credit accounts,
/// the entries of those posted now, the touched accounts' sums as the batch leaves them,
/// and the digest of the chain link covering the rows.
#[derive(Debug)]
pub struct Posting<'a> {
    pub batch_id: Uuid,
    pub transfers: &'a [(TransferContent, Uuid, Uuid)],
    pub entries: &'a [NewEntry],
    pub accounts: &'a [AccountState],
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub by: &'a str,
    pub digest: Hash,
    /// The events the batch records (thresholds crossed, then `ledger.posted`).
    pub events: OutboxRows,
    /// The funds of the transfers, checked to be open as the statement writes.
    pub funds: &'a [Uuid],
}

/// What the statement reports back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Written {
    /// The link id the rows name.
    pub link_id: i64,
    /// How many transfers it wrote: fewer than asked when an id was already recorded (by
    /// a retry's first attempt), which the statement skipped; the caller rolls back.
    pub transfers: i64,
    /// How many of [`Posting::funds`] are closed, as recorded when the statement ran: the
    /// caller rolls back when any is.
    pub funds_closed: i64,
}

/// Every part but the outbox's, which `sds_events` words (parameters `$25` to `$28`).
const POSTING_PARTS: &str = "WITH link AS (SELECT nextval('chain_link_id') AS id), \
    moved AS ( \
        INSERT INTO transfer (id, batch_id, fund_id, credit_fund_id, debit_account_id, \
            credit_account_id, amount_pence, category, reference, note, pending, \
            reverses_id, created_at, created_on, created_by, chain_link_id) \
        SELECT t.id, $1, t.fund, t.credit_fund, t.debit, t.credit, t.amount, t.category, \
            t.reference, t.note, t.pending, \
            NULLIF(t.reverses, '00000000-0000-0000-0000-000000000000'::uuid), \
            $13, $14, $15, link.id \
        FROM UNNEST($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], \
            $7::bigint[], $8::text[], $9::text[], $10::text[], $11::bool[], $12::uuid[]) \
            WITH ORDINALITY AS t(id, fund, credit_fund, debit, credit, amount, category, \
            reference, note, pending, reverses, n) \
        CROSS JOIN link \
        ORDER BY t.n \
        ON CONFLICT (id) DO NOTHING \
        RETURNING 1), \
    posted AS ( \
        INSERT INTO entry (transfer_id, account_id, amount_pence, posted_at, posted_on, \
            chain_link_id) \
        SELECT e.transfer_id, e.account_id, e.amount, $13, $14, link.id \
        FROM UNNEST($16::uuid[], $17::uuid[], $18::bigint[]) \
            AS e(transfer_id, account_id, amount) \
        CROSS JOIN link), \
    summed AS ( \
        UPDATE account a SET debits_posted = u.dp, credits_posted = u.cp, \
            debits_pending = u.dq, credits_pending = u.cq, version = a.version + 1 \
        FROM UNNEST($19::uuid[], $20::bigint[], $21::bigint[], $22::bigint[], \
            $23::bigint[]) AS u(id, dp, cp, dq, cq) \
        WHERE a.id = u.id), \
    staged AS ( \
        INSERT INTO chain_pending (link_id, digest, staged_at) \
        SELECT link.id, $24, $13 FROM link)";

/// Writes `posting` in the open transaction, whose accounts it has locked.
pub async fn write_posting(
    connection: &mut PgConnection,
    posting: &Posting<'_>,
) -> Result<Written, LedgerError> {
    let transfers = || posting.transfers.iter().map(|(content, _, _)| content);
    let accounts = posting.accounts;
    let sums = |pick: fn(&AccountState) -> i64| accounts.iter().map(pick).collect::<Vec<_>>();
    static WRITE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{POSTING_PARTS}, outboxed AS ({}) \
             SELECT link.id AS link_id, (SELECT count(*) FROM moved) AS transfers, \
                 (SELECT count(*) FROM fund WHERE id = ANY($29) AND closed_on IS NOT NULL) \
                     AS funds_closed \
             FROM link",
            sds_events::rows_insert(25)
        )
    });
    let events = &posting.events;
    Ok(sqlx::query_as(AssertSqlSafe(WRITE.as_str()))
        .bind(posting.batch_id)
        .bind(transfers().map(|content| content.id).collect::<Vec<_>>())
        .bind(
            posting
                .transfers
                .iter()
                .map(|row| row.1)
                .collect::<Vec<_>>(),
        )
        .bind(
            posting
                .transfers
                .iter()
                .map(|row| row.2)
                .collect::<Vec<_>>(),
        )
        .bind(transfers().map(|content| content.debit).collect::<Vec<_>>())
        .bind(
            transfers()
                .map(|content| content.credit)
                .collect::<Vec<_>>(),
        )
        .bind(
            transfers()
                .map(|content| content.amount)
                .collect::<Vec<_>>(),
        )
        .bind(
            transfers()
                .map(|content| content.category.name())
                .collect::<Vec<_>>(),
        )
        .bind(
            transfers()
                .map(|content| content.reference.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            transfers()
                .map(|content| content.note.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            transfers()
                .map(|content| content.pending)
                .collect::<Vec<_>>(),
        )
        .bind(
            transfers()
                .map(|content| content.reverses.unwrap_or_default())
                .collect::<Vec<_>>(),
        )
        .bind(posting.now)
        .bind(posting.today)
        .bind(posting.by)
        .bind(
            posting
                .entries
                .iter()
                .map(|e| e.transfer_id)
                .collect::<Vec<_>>(),
        )
        .bind(
            posting
                .entries
                .iter()
                .map(|e| e.account_id)
                .collect::<Vec<_>>(),
        )
        .bind(posting.entries.iter().map(|e| e.amount).collect::<Vec<_>>())
        .bind(
            accounts
                .iter()
                .map(|account| account.id)
                .collect::<Vec<_>>(),
        )
        .bind(sums(|account| account.debits_posted))
        .bind(sums(|account| account.credits_posted))
        .bind(sums(|account| account.debits_pending))
        .bind(sums(|account| account.credits_pending))
        .bind(posting.digest.as_slice())
        .bind(&events.event_ids)
        .bind(&events.subjects)
        .bind(&events.event_types)
        .bind(&events.payloads)
        .bind(posting.funds)
        .fetch_one(&mut *connection)
        .await
        .operation("write a posting")?)
}
