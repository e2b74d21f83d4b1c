//! Transfers, the ends of pending ones, and entries: inserted, never changed.

use chrono::{DateTime, NaiveDate, Utc};
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use super::named;
use crate::domain::{TransferContent, TransferRecord, TransferStatus};
use crate::error::LedgerError;

/// A transfer with its fund's authority and where it stands (static SQL, as sqlx requires):
/// `transfer_sql!("WHERE ...")`. The fund and the resolution are looked up per transfer
/// found, never joined: asked for 10,000 ids, the planner would otherwise hash the whole fund
/// table to join the few (or none) that exist, at a cost that grows with the ledger.
macro_rules! transfer_sql {
    ($rest:literal) => {
        concat!(
            "SELECT t.id, t.debit_account_id, t.credit_account_id, t.amount_pence, t.category, \
                 t.reference, t.note, t.pending, t.reverses_id, t.fund_id, \
                 (SELECT f.authority FROM fund f WHERE f.id = t.fund_id) AS authority, \
                 (SELECT r.outcome FROM pending_resolution r WHERE r.transfer_id = t.id) \
                     AS outcome, \
                 t.created_on, t.seq \
             FROM transfer t ",
            $rest
        )
    };
}

#[derive(sqlx::FromRow)]
struct TransferRow {
    id: Uuid,
    debit_account_id: Uuid,
    credit_account_id: Uuid,
    amount_pence: i64,
    category: String,
    reference: String,
    note: String,
    pending: bool,
    reverses_id: Option<Uuid>,
    fund_id: Uuid,
    authority: String,
    outcome: Option<String>,
    created_on: NaiveDate,
    /// Insertion order: what a listing's page token points after.
    seq: i64,
}

impl TransferRow {
    fn record(self) -> Result<TransferRecord, LedgerError> {
        let status = match (self.pending, self.outcome.as_deref()) {
            (false, None) => TransferStatus::Posted,
            (true, None) => TransferStatus::Pending,
            (true, Some(outcome)) => named("transfer outcome", outcome)?,
            (false, Some(_)) => {
                return Err(anyhow::anyhow!(
                    "transfer {} was not pending but has an outcome",
                    self.id
                )
                .into());
            }
        };
        Ok(TransferRecord {
            content: TransferContent {
                id: self.id,
                debit: self.debit_account_id,
                credit: self.credit_account_id,
                amount: self.amount_pence,
                category: named("category", &self.category)?,
                reference: self.reference,
                note: self.note,
                pending: self.pending,
                reverses: self.reverses_id,
            },
            fund_id: self.fund_id,
            authority: AuthorityId::parse("authority", &self.authority)
                .map_err(|invalid| anyhow::anyhow!("stored transfer authority: {invalid}"))?,
            status,
            created_on: self.created_on,
        })
    }
}

/// The transfers of `ids` that are recorded, in no particular order.
pub async fn load_transfers(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<TransferRecord>, LedgerError> {
    let rows: Vec<TransferRow> = sqlx::query_as(transfer_sql!("WHERE t.id = ANY($1)"))
        .bind(ids)
        .fetch_all(&mut *connection)
        .await
        .operation("select transfers")?;
    rows.into_iter().map(TransferRow::record).collect()
}

/// The transfer that reversed `id`, if any.
pub async fn reversal_of(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Uuid>, LedgerError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM transfer WHERE reverses_id = $1")
            .bind(id)
            .fetch_optional(&mut *connection)
            .await
            .operation("select reversal")?,
    )
}

/// One account's side of a posted movement: credits positive, debits negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEntry {
    pub transfer_id: Uuid,
    pub account_id: Uuid,
    pub amount: i64,
}

pub async fn insert_entries(
    connection: &mut PgConnection,
    entries: &[NewEntry],
    now: DateTime<Utc>,
    today: NaiveDate,
    chain_link_id: i64,
) -> Result<(), LedgerError> {
    if entries.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO entry (transfer_id, account_id, amount_pence, posted_at, posted_on, \
             chain_link_id) \
         SELECT transfer_id, account_id, amount, $4, $5, $6 \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[]) AS e(transfer_id, account_id, amount)",
    )
    .bind(entries.iter().map(|e| e.transfer_id).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.account_id).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.amount).collect::<Vec<_>>())
    .bind(now)
    .bind(today)
    .bind(chain_link_id)
    .execute(&mut *connection)
    .await
    .operation("insert entries")?;
    Ok(())
}

/// Records the one end of pending transfer `id`; a second is a unique violation.
pub async fn insert_resolution(
    connection: &mut PgConnection,
    id: Uuid,
    outcome: TransferStatus,
    now: DateTime<Utc>,
    today: NaiveDate,
    by: &str,
    chain_link_id: i64,
) -> Result<(), LedgerError> {
    sqlx::query(
        "INSERT INTO pending_resolution (transfer_id, outcome, resolved_at, resolved_on, \
             resolved_by, chain_link_id) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(outcome.name())
    .bind(now)
    .bind(today)
    .bind(by)
    .bind(chain_link_id)
    .execute(&mut *connection)
    .await
    .operation("insert pending resolution")?;
    Ok(())
}

/// The transfers in or out of `fund`, newest first.
/// Up to `limit` of the fund's transfers, newest first, each with its `seq`; only those
/// before `before_seq` when given (the last one a previous page showed). Paging by the
/// last row shown, not by an offset, keeps pages from shifting while postings go on: a
/// transfer recorded meanwhile is above the cursor, not pushed into the next page.
pub async fn list_transfers(
    connection: &mut PgConnection,
    fund: Uuid,
    limit: i64,
    before_seq: Option<i64>,
) -> Result<Vec<(i64, TransferRecord)>, LedgerError> {
    let rows: Vec<TransferRow> = sqlx::query_as(transfer_sql!(
        "WHERE (t.fund_id = $1 OR t.credit_fund_id = $1) AND ($3::bigint IS NULL OR t.seq < $3) \
         ORDER BY t.seq DESC LIMIT $2"
    ))
    .bind(fund)
    .bind(limit)
    .bind(before_seq)
    .fetch_all(&mut *connection)
    .await
    .operation("list transfers")?;
    rows.into_iter()
        .map(|row| {
            let seq = row.seq;
            row.record().map(|record| (seq, record))
        })
        .collect()
}

pub async fn count_transfers(
    connection: &mut PgConnection,
    fund: Uuid,
) -> Result<u64, LedgerError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM transfer WHERE fund_id = $1 OR credit_fund_id = $1",
    )
    .bind(fund)
    .fetch_one(&mut *connection)
    .await
    .operation("count transfers")?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// The account's balance at the end of `day`: the sum of its entries up to then.
pub async fn balance_as_at(
    connection: &mut PgConnection,
    account: Uuid,
    day: NaiveDate,
) -> Result<i64, LedgerError> {
    let sum: Option<i64> = sqlx::query_scalar(
        "SELECT sum(amount_pence)::bigint FROM entry WHERE account_id = $1 AND posted_on <= $2",
    )
    .bind(account)
    .bind(day)
    .fetch_one(&mut *connection)
    .await
    .operation("sum entries")?;
    Ok(sum.unwrap_or(0))
}
