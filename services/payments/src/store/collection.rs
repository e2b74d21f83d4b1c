//! Collecting contributions: the periods fallen due, the receipts, and the arrears raised.
//! Rows are written once; only their `posted` marks (and an arrears' clearing) change.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_vocabulary::AuthorityId;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::contributions::Due;
use crate::error::PaymentsError;

/// A period's contribution as it fell due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueRow {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub due_date: NaiveDate,
    pub amount: Money,
    pub posted: bool,
}

/// What the person paid, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub id: Uuid,
    pub agreement_id: Uuid,
    pub amount: Money,
    pub received_on: NaiveDate,
    pub reference: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    pub posted: bool,
}

fn money(column: &str, value: Decimal) -> Result<Money, PaymentsError> {
    Money::try_from(value).map_err(|error| {
        PaymentsError::Internal(anyhow::anyhow!("stored {column} {value}: {error}"))
    })
}

/// The schedules of `authority` with a contribution recorded, in a stable order.
pub async fn schedules_with_contributions(
    pool: &PgPool,
    authority: &AuthorityId,
) -> Result<Vec<Uuid>, PaymentsError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT c.agreement_id FROM contribution_version c \
         JOIN schedule s ON s.agreement_id = c.agreement_id \
         WHERE s.authority = $1 ORDER BY c.agreement_id",
    )
    .bind(authority.as_str())
    .fetch_all(pool)
    .await
    .operation("select schedules with contributions")?)
}

/// Every period fallen due on the agreement, in period order.
pub async fn dues(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<Vec<DueRow>, PaymentsError> {
    let rows: Vec<(NaiveDate, NaiveDate, NaiveDate, Decimal, bool)> = sqlx::query_as(
        "SELECT period_start, period_end, due_date, amount, posted FROM contribution_due \
         WHERE agreement_id = $1 ORDER BY period_start",
    )
    .bind(agreement_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select contribution dues")?;
    rows.into_iter()
        .map(|(period_start, period_end, due_date, amount, posted)| {
            if period_end < period_start {
                return Err(PaymentsError::Internal(anyhow::anyhow!(
                    "contribution due of {agreement_id} from {period_start}: stored end {period_end} is before it"
                )));
            }
            Ok(DueRow {
                period_start,
                period_end,
                due_date,
                amount: money("contribution due", amount)?,
                posted,
            })
        })
        .collect()
}

/// The dues as the rule reads them: pence by period start.
pub fn due_pence(dues: &[DueRow]) -> BTreeMap<NaiveDate, i64> {
    dues.iter()
        .map(|due| (due.period_start, due.amount.pence()))
        .collect()
}

/// Records periods newly due (a period already recorded is left as it is).
pub async fn record_dues(
    connection: &mut PgConnection,
    agreement_id: Uuid,
    run_id: Uuid,
    dues: &[Due],
) -> Result<(), PaymentsError> {
    if dues.is_empty() {
        return Ok(());
    }
    let starts: Vec<NaiveDate> = dues.iter().map(|due| due.period.start).collect();
    let ends: Vec<NaiveDate> = dues.iter().map(|due| due.period.end).collect();
    let due_dates: Vec<NaiveDate> = dues.iter().map(|due| due.due_date).collect();
    let amounts: Vec<Decimal> = dues.iter().map(|due| Decimal::new(due.amount, 2)).collect();
    sqlx::query(
        "INSERT INTO contribution_due (agreement_id, period_start, period_end, due_date, amount, \
             run_id, posted) \
         SELECT $1, s, e, d, a, $2, a = 0 \
         FROM UNNEST($3::date[], $4::date[], $5::date[], $6::numeric[]) AS t (s, e, d, a) \
         ON CONFLICT (agreement_id, period_start) DO NOTHING",
    )
    .bind(agreement_id)
    .bind(run_id)
    .bind(starts)
    .bind(ends)
    .bind(due_dates)
    .bind(amounts)
    .execute(&mut *connection)
    .await
    .operation("insert contribution dues")?;
    Ok(())
}

pub async fn mark_dues_posted(
    pool: &PgPool,
    agreement_id: Uuid,
    starts: &[NaiveDate],
) -> Result<(), PaymentsError> {
    sqlx::query(
        "UPDATE contribution_due SET posted = true \
         WHERE agreement_id = $1 AND period_start = ANY($2) AND NOT posted",
    )
    .bind(agreement_id)
    .bind(starts)
    .execute(pool)
    .await
    .operation("mark contribution dues posted")?;
    Ok(())
}

type ReceiptRow = (
    Uuid,
    Uuid,
    Decimal,
    NaiveDate,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn receipt_of(row: ReceiptRow) -> Result<Receipt, PaymentsError> {
    let (id, agreement_id, amount, received_on, reference, recorded_by, recorded_at, posted_at) =
        row;
    let amount = money("receipt amount", amount)?;
    if amount.is_negative() || amount.is_zero() {
        return Err(PaymentsError::Internal(anyhow::anyhow!(
            "receipt {id}: stored amount {amount} breaks its checks"
        )));
    }
    Ok(Receipt {
        id,
        agreement_id,
        amount,
        received_on,
        reference,
        recorded_by,
        recorded_at,
        posted: posted_at.is_some(),
    })
}

/// The receipt recorded under `id`, if any.
pub async fn receipt(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Receipt>, PaymentsError> {
    let row: Option<ReceiptRow> = sqlx::query_as(
        "SELECT id, agreement_id, amount, received_on, reference, recorded_by, recorded_at, \
             posted_at FROM contribution_receipt WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *connection)
    .await
    .operation("select a contribution receipt")?;
    row.map(receipt_of).transpose()
}

/// Every receipt of the agreement, as received.
pub async fn receipts(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<Vec<Receipt>, PaymentsError> {
    let rows: Vec<ReceiptRow> = sqlx::query_as(
        "SELECT id, agreement_id, amount, received_on, reference, recorded_by, recorded_at, \
             posted_at FROM contribution_receipt WHERE agreement_id = $1 \
         ORDER BY received_on, recorded_at, id",
    )
    .bind(agreement_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select contribution receipts")?;
    rows.into_iter().map(receipt_of).collect()
}

/// Records a receipt unless its id is taken; returns whether it was new.
pub async fn insert_receipt(
    connection: &mut PgConnection,
    receipt: &Receipt,
) -> Result<bool, PaymentsError> {
    let inserted = sqlx::query(
        "INSERT INTO contribution_receipt (id, agreement_id, amount, received_on, reference, \
             recorded_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(receipt.id)
    .bind(receipt.agreement_id)
    .bind(receipt.amount.as_decimal())
    .bind(receipt.received_on)
    .bind(&receipt.reference)
    .bind(&receipt.recorded_by)
    .execute(&mut *connection)
    .await
    .operation("insert contribution receipt")?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn mark_receipts_posted(pool: &PgPool, ids: &[Uuid]) -> Result<(), PaymentsError> {
    sqlx::query(
        "UPDATE contribution_receipt SET posted_at = now() WHERE id = ANY($1) AND posted_at IS NULL",
    )
    .bind(ids)
    .execute(pool)
    .await
    .operation("mark contribution receipts posted")?;
    Ok(())
}

/// How many periods of unpaid contribution the authority allows before it is told.
pub async fn arrears_allowance(
    connection: &mut PgConnection,
    authority: &AuthorityId,
) -> Result<u32, PaymentsError> {
    let allowed: Option<i32> = sqlx::query_scalar(
        "SELECT contribution_arrears_periods FROM authority_settings WHERE authority = $1",
    )
    .bind(authority.as_str())
    .fetch_optional(&mut *connection)
    .await
    .operation("select the arrears allowance")?;
    Ok(allowed
        .and_then(|allowed| u32::try_from(allowed).ok())
        .unwrap_or(DEFAULT_ARREARS_PERIODS))
}

/// Periods of arrears allowed while an authority has set none.
pub const DEFAULT_ARREARS_PERIODS: u32 = 2;

/// Whether arrears are open (raised and not yet cleared) on the agreement.
pub async fn arrears_open(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<bool, PaymentsError> {
    let open: Option<NaiveDate> = sqlx::query_scalar(
        "SELECT raised_on FROM contribution_arrears WHERE agreement_id = $1 AND cleared_on IS NULL",
    )
    .bind(agreement_id)
    .fetch_optional(&mut *connection)
    .await
    .operation("select open arrears")?;
    Ok(open.is_some())
}

pub async fn raise_arrears(
    connection: &mut PgConnection,
    agreement_id: Uuid,
    today: NaiveDate,
    periods: u32,
    outstanding: Money,
) -> Result<bool, PaymentsError> {
    let inserted = sqlx::query(
        "INSERT INTO contribution_arrears (agreement_id, raised_on, periods, outstanding) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(agreement_id)
    .bind(today)
    .bind(i32::try_from(periods).unwrap_or(i32::MAX))
    .bind(outstanding.as_decimal())
    .execute(&mut *connection)
    .await
    .operation("insert arrears")?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn clear_arrears(
    connection: &mut PgConnection,
    agreement_id: Uuid,
    today: NaiveDate,
) -> Result<(), PaymentsError> {
    sqlx::query(
        "UPDATE contribution_arrears SET cleared_on = $2 \
         WHERE agreement_id = $1 AND cleared_on IS NULL",
    )
    .bind(agreement_id)
    .bind(today)
    .execute(&mut *connection)
    .await
    .operation("clear arrears")?;
    Ok(())
}
