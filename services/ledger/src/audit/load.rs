//! The audit's SQL: totals aggregated by the database and streamed a row at a time, and
//! history read one page of chain links at a time, so a ledger of millions of transfers is
//! never held in memory at once (but for the rows of one page of links).

use std::collections::BTreeMap;

use anyhow::Context as _;
use chrono::NaiveDate;
use futures::TryStreamExt as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::checks::{AccountTotals, TransferTotals};
use super::history::StoredLink;
use crate::chain::{ChainEntry, ChainResolution, ChainTransfer, LinkContent};

/// How many chain links are read (with their rows) at once.
pub const LINKS_PER_PAGE: i64 = 500;

pub async fn counts(connection: &mut PgConnection) -> anyhow::Result<(i64, i64)> {
    sqlx::query_as("SELECT (SELECT count(*) FROM fund), (SELECT count(*) FROM transfer)")
        .fetch_one(&mut *connection)
        .await
        .context("count funds and transfers")
}

/// Calls `each` with every transfer's entry totals.
pub async fn each_transfer(
    connection: &mut PgConnection,
    mut each: impl FnMut(&TransferTotals),
) -> anyhow::Result<()> {
    let mut rows = sqlx::query_as::<_, TransferTotals>(
        "SELECT t.id, t.amount_pence AS amount, t.pending, \
             coalesce(r.outcome = 'posted', false) AS posted_later, \
             count(e.account_id) AS entries, \
             coalesce(sum(e.amount_pence), 0)::bigint AS entries_sum, \
             coalesce(sum(e.amount_pence) FILTER (WHERE e.account_id = t.debit_account_id), 0)::bigint \
                 AS debit_sum, \
             coalesce(sum(e.amount_pence) FILTER (WHERE e.account_id = t.credit_account_id), 0)::bigint \
                 AS credit_sum \
         FROM transfer t \
         LEFT JOIN pending_resolution r ON r.transfer_id = t.id \
         LEFT JOIN entry e ON e.transfer_id = t.id \
         GROUP BY t.id, r.outcome",
    )
    .fetch(&mut *connection);
    while let Some(row) = rows.try_next().await.context("read transfer totals")? {
        each(&row);
    }
    Ok(())
}

/// Calls `each` with every account's stored sums beside its entries' and pending
/// transfers' totals.
pub async fn each_account(
    connection: &mut PgConnection,
    mut each: impl FnMut(&AccountTotals),
) -> anyhow::Result<()> {
    let mut rows = sqlx::query_as::<_, AccountTotals>(
        "WITH posted AS ( \
             SELECT account_id, \
                 coalesce(sum(-amount_pence) FILTER (WHERE amount_pence < 0), 0)::bigint AS debits, \
                 coalesce(sum(amount_pence) FILTER (WHERE amount_pence > 0), 0)::bigint AS credits \
             FROM entry GROUP BY account_id), \
         unresolved AS ( \
             SELECT t.debit_account_id, t.credit_account_id, t.amount_pence FROM transfer t \
             WHERE t.pending \
               AND NOT EXISTS (SELECT 1 FROM pending_resolution r WHERE r.transfer_id = t.id)), \
         held_out AS ( \
             SELECT debit_account_id AS account_id, sum(amount_pence)::bigint AS amount \
             FROM unresolved GROUP BY debit_account_id), \
         held_in AS ( \
             SELECT credit_account_id AS account_id, sum(amount_pence)::bigint AS amount \
             FROM unresolved GROUP BY credit_account_id) \
         SELECT a.id, a.fund_id, \
             CASE WHEN a.kind = 'fund_balance' THEN f.overdraft_limit_pence END AS overdraft_limit, \
             a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending, \
             coalesce(p.debits, 0) AS entry_debits, coalesce(p.credits, 0) AS entry_credits, \
             coalesce(o.amount, 0) AS pending_debits, coalesce(i.amount, 0) AS pending_credits \
         FROM account a \
         JOIN fund f ON f.id = a.fund_id \
         LEFT JOIN posted p ON p.account_id = a.id \
         LEFT JOIN held_out o ON o.account_id = a.id \
         LEFT JOIN held_in i ON i.account_id = a.id",
    )
    .fetch(&mut *connection);
    while let Some(row) = rows.try_next().await.context("read account totals")? {
        each(&row);
    }
    Ok(())
}

/// How many rows of transfer, pending_resolution and entry name no chain link.
pub async fn unchained(connection: &mut PgConnection) -> anyhow::Result<[(&'static str, i64); 3]> {
    let (transfers, resolutions, entries): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM transfer WHERE chain_link_id IS NULL), \
                (SELECT count(*) FROM pending_resolution WHERE chain_link_id IS NULL), \
                (SELECT count(*) FROM entry WHERE chain_link_id IS NULL)",
    )
    .fetch_one(&mut *connection)
    .await
    .context("count rows outside the chain")?;
    Ok([
        ("transfer", transfers),
        ("pending_resolution", resolutions),
        ("entry", entries),
    ])
}

pub async fn head(connection: &mut PgConnection) -> anyhow::Result<Option<StoredLink>> {
    // The head names no rows of its own: it repeats the last link's place and hash.
    sqlx::query_as("SELECT seq, 0::bigint AS link_id, hash FROM chain_head")
        .fetch_optional(&mut *connection)
        .await
        .context("read the chain head")
}

/// The links after `after`, at most [`LINKS_PER_PAGE`], in order.
pub async fn links_after(
    connection: &mut PgConnection,
    after: i64,
) -> anyhow::Result<Vec<StoredLink>> {
    sqlx::query_as("SELECT seq, link_id, hash FROM chain_link WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(after)
        .bind(LINKS_PER_PAGE)
        .fetch_all(&mut *connection)
        .await
        .context("read chain links")
}

/// A link staged by a posting and not chained yet: the id its rows name and the digest
/// staged with them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StagedLink {
    pub link_id: i64,
    pub digest: Vec<u8>,
}

/// The staged links after link id `after`, at most [`LINKS_PER_PAGE`], in link id order.
pub async fn staged_after(
    connection: &mut PgConnection,
    after: i64,
) -> anyhow::Result<Vec<StagedLink>> {
    sqlx::query_as(
        "SELECT link_id, digest FROM chain_pending WHERE link_id > $1 ORDER BY link_id LIMIT $2",
    )
    .bind(after)
    .bind(LINKS_PER_PAGE)
    .fetch_all(&mut *connection)
    .await
    .context("read staged chain links")
}

#[derive(sqlx::FromRow)]
struct TransferRow {
    chain_link_id: i64,
    id: Uuid,
    batch_id: Uuid,
    fund_id: Uuid,
    credit_fund_id: Uuid,
    debit_account_id: Uuid,
    credit_account_id: Uuid,
    amount_pence: i64,
    category: String,
    reference: String,
    note: String,
    pending: bool,
    reverses_id: Option<Uuid>,
    created_on: NaiveDate,
    created_by: String,
}

#[derive(sqlx::FromRow)]
struct ResolutionRow {
    chain_link_id: i64,
    transfer_id: Uuid,
    outcome: String,
    resolved_on: NaiveDate,
    resolved_by: String,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    chain_link_id: i64,
    transfer_id: Uuid,
    account_id: Uuid,
    amount_pence: i64,
    posted_on: NaiveDate,
}

/// The rows naming the links `link_ids`, by link id.
pub async fn contents(
    connection: &mut PgConnection,
    link_ids: &[i64],
) -> anyhow::Result<BTreeMap<i64, LinkContent>> {
    let mut by_link: BTreeMap<i64, LinkContent> = BTreeMap::new();
    let transfers: Vec<TransferRow> = sqlx::query_as(
        "SELECT chain_link_id, id, batch_id, fund_id, credit_fund_id, debit_account_id, \
             credit_account_id, amount_pence, category, reference, note, pending, reverses_id, \
             created_on, created_by \
         FROM transfer WHERE chain_link_id = ANY($1)",
    )
    .bind(link_ids)
    .fetch_all(&mut *connection)
    .await
    .context("read chained transfers")?;
    for row in transfers {
        by_link
            .entry(row.chain_link_id)
            .or_default()
            .transfers
            .push(ChainTransfer {
                id: row.id,
                batch_id: row.batch_id,
                fund_id: row.fund_id,
                credit_fund_id: row.credit_fund_id,
                debit_account_id: row.debit_account_id,
                credit_account_id: row.credit_account_id,
                amount: row.amount_pence,
                category: row.category,
                reference: row.reference,
                note: row.note,
                pending: row.pending,
                reverses_id: row.reverses_id,
                created_on: row.created_on,
                created_by: row.created_by,
            });
    }
    let resolutions: Vec<ResolutionRow> = sqlx::query_as(
        "SELECT chain_link_id, transfer_id, outcome, resolved_on, resolved_by \
         FROM pending_resolution WHERE chain_link_id = ANY($1)",
    )
    .bind(link_ids)
    .fetch_all(&mut *connection)
    .await
    .context("read chained resolutions")?;
    for row in resolutions {
        by_link
            .entry(row.chain_link_id)
            .or_default()
            .resolutions
            .push(ChainResolution {
                transfer_id: row.transfer_id,
                outcome: row.outcome,
                resolved_on: row.resolved_on,
                resolved_by: row.resolved_by,
            });
    }
    let entries: Vec<EntryRow> = sqlx::query_as(
        "SELECT chain_link_id, transfer_id, account_id, amount_pence, posted_on \
         FROM entry WHERE chain_link_id = ANY($1)",
    )
    .bind(link_ids)
    .fetch_all(&mut *connection)
    .await
    .context("read chained entries")?;
    for row in entries {
        by_link
            .entry(row.chain_link_id)
            .or_default()
            .entries
            .push(ChainEntry {
                transfer_id: row.transfer_id,
                account_id: row.account_id,
                amount: row.amount_pence,
                posted_on: row.posted_on,
            });
    }
    Ok(by_link)
}

/// Rows naming a link id that is not recorded, counted by that id: (transfers,
/// resolutions, entries).
pub async fn orphans(
    connection: &mut PgConnection,
) -> anyhow::Result<BTreeMap<i64, (i64, i64, i64)>> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT 'transfer', chain_link_id, count(*) FROM transfer r \
         WHERE chain_link_id IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM chain_link l WHERE l.link_id = r.chain_link_id) \
           AND NOT EXISTS (SELECT 1 FROM chain_pending p WHERE p.link_id = r.chain_link_id) \
         GROUP BY chain_link_id \
         UNION ALL \
         SELECT 'resolution', chain_link_id, count(*) FROM pending_resolution r \
         WHERE chain_link_id IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM chain_link l WHERE l.link_id = r.chain_link_id) \
           AND NOT EXISTS (SELECT 1 FROM chain_pending p WHERE p.link_id = r.chain_link_id) \
         GROUP BY chain_link_id \
         UNION ALL \
         SELECT 'entry', chain_link_id, count(*) FROM entry r \
         WHERE chain_link_id IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM chain_link l WHERE l.link_id = r.chain_link_id) \
           AND NOT EXISTS (SELECT 1 FROM chain_pending p WHERE p.link_id = r.chain_link_id) \
         GROUP BY chain_link_id",
    )
    .fetch_all(&mut *connection)
    .await
    .context("find rows naming no recorded link")?;
    let mut by_link: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
    for (table, link_id, count) in rows {
        let counts = by_link.entry(link_id).or_default();
        match table.as_str() {
            "transfer" => counts.0 = count,
            "resolution" => counts.1 = count,
            _ => counts.2 = count,
        }
    }
    Ok(by_link)
}
