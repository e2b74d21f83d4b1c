//! Payment runs in SQL: the run's own row, the instalments it chose, and the funds and
//! payable accounts it posts to. Set-based: a page of schedules or instalments is one
//! statement, whatever its size.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sds_money::{Instalment, Money};
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::live::Paid;
use crate::error::PaymentsError;
use crate::exports::journal::PaidItem;
use crate::store::bank::{PayingAccount, checked_details};

sds_vocabulary::named_enum! {
    /// Where a run has got to.
    pub enum RunStatus("run status") {
        Planning = "planning",
        Posting = "posting",
        Completed = "completed",
    }
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub run_id: Uuid,
    pub authority: AuthorityId,
    pub run_date: NaiveDate,
    pub status: RunStatus,
    /// When the run started: its files' creation time, the same when it is finished again.
    pub started_at: DateTime<Utc>,
    /// What the run pays from and when, fixed at its start (absent only for a run started
    /// before they were kept).
    pub bank: Option<RunBank>,
}

/// The paying account and the days a run's bank files name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunBank {
    pub paying: PayingAccount,
    pub processing_date: NaiveDate,
    pub credit_date: NaiveDate,
}

/// What starting a run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A new run.
    New(RunRecord),
    /// The authority's unfinished run for the same date, to finish.
    Resumed(RunRecord),
    /// The authority's unfinished run for another date, which must be finished first.
    OtherUnfinished(RunRecord),
}

type RunRow = (
    Uuid,
    String,
    NaiveDate,
    String,
    DateTime<Utc>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

const RUN_COLUMNS: &str =
    "run_id, authority, run_date, status, started_at, processing_date, credit_date";

fn run_of(row: RunRow, paying: Option<PayingAccount>) -> Result<RunRecord, PaymentsError> {
    let (run_id, authority, run_date, status, started_at, processing_date, credit_date) = row;
    let bank = match (paying, processing_date, credit_date) {
        (Some(paying), Some(processing_date), Some(credit_date)) => Some(RunBank {
            paying,
            processing_date,
            credit_date,
        }),
        _ => None,
    };
    Ok(RunRecord {
        run_id,
        authority: AuthorityId::parse("authority", &authority)
            .map_err(|invalid| PaymentsError::Internal(anyhow::anyhow!("stored {invalid}")))?,
        run_date,
        status: RunStatus::from_name(&status).ok_or_else(|| {
            PaymentsError::Internal(anyhow::anyhow!("stored run status {status:?}"))
        })?,
        started_at,
        bank,
    })
}

/// Starts a run of `authority` for `run_date`, paying from `bank`, or finds the unfinished
/// one to finish (which keeps what it started with).
pub async fn start_run(
    pool: &PgPool,
    authority: &AuthorityId,
    run_date: NaiveDate,
    requested_by: &str,
    bank: &RunBank,
) -> Result<Started, PaymentsError> {
    // Two starts at once: the unique index lets one insert; the other finds its run.
    for _ in 0..3 {
        let mut transaction = pool.begin().await.operation("database connection")?;
        let unfinished: Option<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM payment_run WHERE authority = $1 AND status <> 'completed'"
        )))
        .bind(authority.as_str())
        .fetch_optional(&mut *transaction)
        .await
        .operation("select unfinished run")?;
        if let Some(row) = unfinished {
            let paying = run_paying(&mut transaction, row.0).await?;
            let run = run_of(row, paying)?;
            return Ok(if run.run_date == run_date {
                Started::Resumed(run)
            } else {
                Started::OtherUnfinished(run)
            });
        }
        let run_id = Uuid::now_v7();
        let inserted: Option<DateTime<Utc>> = sqlx::query_scalar(
            "INSERT INTO payment_run (run_id, authority, run_date, status, requested_by, \
                 paying_name, paying_sort_code, paying_account_number, paying_account_name, \
                 service_user_number, processing_date, credit_date) \
             VALUES ($1, $2, $3, 'planning', $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT DO NOTHING RETURNING started_at",
        )
        .bind(run_id)
        .bind(authority.as_str())
        .bind(run_date)
        .bind(requested_by)
        .bind(&bank.paying.name)
        .bind(&bank.paying.account.sort_code)
        .bind(&bank.paying.account.account_number)
        .bind(&bank.paying.account.account_name)
        .bind(&bank.paying.service_user_number)
        .bind(bank.processing_date)
        .bind(bank.credit_date)
        .fetch_optional(&mut *transaction)
        .await
        .operation("insert run")?;
        if let Some(started_at) = inserted {
            transaction
                .commit()
                .await
                .operation("database connection")?;
            return Ok(Started::New(RunRecord {
                run_id,
                authority: authority.clone(),
                run_date,
                status: RunStatus::Planning,
                started_at,
                bank: Some(bank.clone()),
            }));
        }
    }
    Err(PaymentsError::Internal(anyhow::anyhow!(
        "a run of {authority} could neither be started nor found"
    )))
}

/// The run `run_id`, if there is one.
pub async fn get_run(pool: &PgPool, run_id: Uuid) -> Result<Option<RunRecord>, PaymentsError> {
    let mut connection = pool.acquire().await.operation("database connection")?;
    let row: Option<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLUMNS} FROM payment_run WHERE run_id = $1"
    )))
    .bind(run_id)
    .fetch_optional(&mut *connection)
    .await
    .operation("select run")?;
    match row {
        Some(row) => {
            let paying = run_paying(&mut connection, row.0).await?;
            Ok(Some(run_of(row, paying)?))
        }
        None => Ok(None),
    }
}

/// The paying account a run started with.
async fn run_paying(
    connection: &mut PgConnection,
    run_id: Uuid,
) -> Result<Option<PayingAccount>, PaymentsError> {
    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Row = sqlx::query_as(
        "SELECT paying_name, paying_sort_code, paying_account_number, paying_account_name, \
             service_user_number FROM payment_run WHERE run_id = $1",
    )
    .bind(run_id)
    .fetch_one(&mut *connection)
    .await
    .operation("select run's paying account")?;
    let (Some(name), Some(sort_code), Some(account_number), Some(account_name), Some(sun)) = row
    else {
        return Ok(None);
    };
    Ok(Some(PayingAccount {
        name,
        account: checked_details(
            "run's paying account",
            &sort_code,
            &account_number,
            &account_name,
        )?,
        service_user_number: sun,
    }))
}

pub async fn set_status(
    pool: &PgPool,
    run_id: Uuid,
    status: RunStatus,
) -> Result<(), PaymentsError> {
    sqlx::query("UPDATE payment_run SET status = $2 WHERE run_id = $1 AND status <> 'completed'")
        .bind(run_id)
        .bind(status.name())
        .execute(pool)
        .await
        .operation("set run status")?;
    Ok(())
}

/// How many schedules the authority has.
pub async fn count_schedules(pool: &PgPool, authority: &AuthorityId) -> Result<u64, PaymentsError> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM schedule WHERE authority = $1")
        .bind(authority.as_str())
        .fetch_one(pool)
        .await
        .operation("count schedules")?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// The next page of the authority's schedule ids after `after`, in id order.
pub async fn schedule_page(
    pool: &PgPool,
    authority: &AuthorityId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Uuid>, PaymentsError> {
    // A range the index starts at, never `$2 IS NULL OR ...`, which the index cannot start
    // from: each page would scan every id before it.
    Ok(sqlx::query_scalar(
        "SELECT agreement_id FROM schedule \
         WHERE authority = $1 AND agreement_id >= $2 AND (agreement_id <> $2 OR NOT $4) \
         ORDER BY agreement_id LIMIT $3",
    )
    .bind(authority.as_str())
    .bind(after.unwrap_or_else(Uuid::nil))
    .bind(limit)
    .bind(after.is_some())
    .fetch_all(pool)
    .await
    .operation("page schedules")?)
}

/// What runs have paid (or chosen to pay) for each period of the schedules `ids`.
pub async fn paid_amounts(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Paid>, PaymentsError> {
    // The connection keeps one plan per statement, made when it is first run (see
    // `sds_platform::db`). Made while `instalment_payment` was still empty (the first run
    // of a new deployment), that plan was a sequential scan, kept as the run filled the
    // table, so that each page of schedules cost the whole table. Planned with sequential
    // scans ruled out, it is the primary key's, whatever the table held then. `LOCAL`, so
    // that the rest of the caller's transaction plans as it would have.
    set_seqscan(connection, "off").await?;
    let rows: Vec<(Uuid, NaiveDate, Decimal)> = sqlx::query_as(
        "SELECT agreement_id, period_start, amount FROM instalment_payment \
         WHERE agreement_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *connection)
    .await
    .operation("select paid amounts")?;
    set_seqscan(connection, "on").await?;
    let mut paid: std::collections::HashMap<Uuid, Paid> = std::collections::HashMap::new();
    for (agreement_id, period_start, amount) in rows {
        let amount = Money::try_from(amount).map_err(|error| {
            PaymentsError::Internal(anyhow::anyhow!(
                "stored instalment amount {amount}: {error}"
            ))
        })?;
        paid.entry(agreement_id)
            .or_default()
            .insert(period_start, amount);
    }
    Ok(paid)
}

/// What runs have paid (or chosen to pay) for each period of one schedule. An equality on
/// the primary key's first column, which a generic plan serves by the index however small
/// the table was when it was planned, so none of [`paid_amounts`]' precautions.
pub async fn paid_amounts_of(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<Paid, PaymentsError> {
    let rows: Vec<(NaiveDate, Decimal)> = sqlx::query_as(
        "SELECT period_start, amount FROM instalment_payment WHERE agreement_id = $1",
    )
    .bind(agreement_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select paid amounts")?;
    let mut paid = Paid::default();
    for (period_start, amount) in rows {
        let amount = Money::try_from(amount).map_err(|error| {
            PaymentsError::Internal(anyhow::anyhow!(
                "stored instalment amount {amount}: {error}"
            ))
        })?;
        paid.insert(period_start, amount);
    }
    Ok(paid)
}

/// Rules sequential scans out of (or back into) the plans the open transaction makes.
async fn set_seqscan(connection: &mut PgConnection, value: &str) -> Result<(), PaymentsError> {
    sqlx::query("SELECT set_config('enable_seqscan', $1, true)")
        .bind(value)
        .execute(&mut *connection)
        .await
        .operation("set the planner's scans")?;
    Ok(())
}

/// Records the instalments `run_id` pays; one another run already chose stays with it.
pub async fn choose_instalments(
    connection: &mut PgConnection,
    run_id: Uuid,
    chosen: &[(Uuid, Instalment)],
) -> Result<u64, PaymentsError> {
    let mut agreements = Vec::with_capacity(chosen.len());
    let mut starts = Vec::with_capacity(chosen.len());
    let mut ends = Vec::with_capacity(chosen.len());
    let mut dues = Vec::with_capacity(chosen.len());
    let mut bases: Vec<Decimal> = Vec::with_capacity(chosen.len());
    let mut adjustments: Vec<Decimal> = Vec::with_capacity(chosen.len());
    let mut amounts: Vec<Decimal> = Vec::with_capacity(chosen.len());
    for (agreement_id, instalment) in chosen {
        agreements.push(*agreement_id);
        starts.push(instalment.period.start);
        ends.push(instalment.period.end);
        dues.push(instalment.due_date);
        bases.push(instalment.base.as_decimal());
        adjustments.push(instalment.adjustment.as_decimal());
        amounts.push(instalment.amount.as_decimal());
    }
    let inserted = sqlx::query(
        "INSERT INTO instalment_payment (agreement_id, period_start, period_end, due_date, base, \
             adjustment, amount, run_id, posted) \
         SELECT a, s, e, d, b, j, m, $8, m = 0 \
         FROM UNNEST($1::uuid[], $2::date[], $3::date[], $4::date[], $5::numeric[], \
             $6::numeric[], $7::numeric[]) AS chosen (a, s, e, d, b, j, m) \
         ON CONFLICT (agreement_id, period_start) DO NOTHING",
    )
    .bind(agreements)
    .bind(starts)
    .bind(ends)
    .bind(dues)
    .bind(bases)
    .bind(adjustments)
    .bind(amounts)
    .bind(run_id)
    .execute(&mut *connection)
    .await
    .operation("choose instalments")?;
    Ok(inserted.rows_affected())
}

/// The completed run's figures: instalments above 0.00, their payees and total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTotals {
    pub instalments: u64,
    pub payees: u64,
    pub total: Money,
}

/// The next page of what `run_id` paid (above 0.00), in key order after `after`.
pub async fn paid_items(
    pool: &PgPool,
    run_id: Uuid,
    after: super::InstalmentKey,
    limit: i64,
) -> Result<Vec<PaidItem>, PaymentsError> {
    let rows: Vec<(Uuid, Uuid, Uuid, NaiveDate, NaiveDate, Decimal)> = sqlx::query_as(
        "SELECT i.agreement_id, s.person_id, s.payee_id, i.period_start, i.period_end, i.amount \
         FROM instalment_payment i JOIN schedule s ON s.agreement_id = i.agreement_id \
         WHERE i.run_id = $1 AND i.amount > 0 \
           AND (i.agreement_id, i.period_start) > ($2, $3) \
         ORDER BY i.run_id, i.agreement_id, i.period_start LIMIT $4",
    )
    .bind(run_id)
    .bind(after.0)
    .bind(after.1)
    .bind(limit)
    .fetch_all(pool)
    .await
    .operation("select paid items")?;
    rows.into_iter()
        .map(
            |(agreement_id, person_id, payee_id, period_start, period_end, amount)| {
                Ok(PaidItem {
                    agreement_id,
                    person_id,
                    payee_id,
                    period_start,
                    period_end,
                    amount: Money::try_from(amount).map_err(|error| {
                        PaymentsError::Internal(anyhow::anyhow!(
                            "stored instalment amount {amount}: {error}"
                        ))
                    })?,
                })
            },
        )
        .collect()
}

/// Completes the run with its figures and files; returns the figures, the files (a run
/// completed by a concurrent call keeps the files it recorded), and whether this call
/// completed it.
pub async fn complete_run(
    connection: &mut PgConnection,
    run_id: Uuid,
    files: &[String],
) -> Result<(RunTotals, Vec<String>, bool), PaymentsError> {
    let (instalments, payees, total): (i64, i64, Decimal) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE i.amount > 0), count(DISTINCT s.payee_id) FILTER (WHERE i.amount > 0), \
             coalesce(sum(i.amount), 0) \
         FROM instalment_payment i JOIN schedule s ON s.agreement_id = i.agreement_id \
         WHERE i.run_id = $1",
    )
    .bind(run_id)
    .fetch_one(&mut *connection)
    .await
    .operation("total run")?;
    let completed = sqlx::query(
        "UPDATE payment_run SET status = 'completed', completed_at = now(), instalments = $2, \
             payees = $3, total = $4, files = $5 \
         WHERE run_id = $1 AND status <> 'completed'",
    )
    .bind(run_id)
    .bind(i32::try_from(instalments).map_err(anyhow::Error::new)?)
    .bind(i32::try_from(payees).map_err(anyhow::Error::new)?)
    .bind(total)
    .bind(files)
    .execute(&mut *connection)
    .await
    .operation("complete run")?;
    let recorded: Vec<String> =
        sqlx::query_scalar("SELECT files FROM payment_run WHERE run_id = $1")
            .bind(run_id)
            .fetch_one(&mut *connection)
            .await
            .operation("select run files")?;
    let totals = RunTotals {
        instalments: u64::try_from(instalments).unwrap_or_default(),
        payees: u64::try_from(payees).unwrap_or_default(),
        total: Money::try_from(total).map_err(|error| {
            PaymentsError::Internal(anyhow::anyhow!("run total {total}: {error}"))
        })?,
    };
    Ok((totals, recorded, completed.rows_affected() == 1))
}

/// What runs have paid (or chosen to pay) for each period of one schedule, and the run
/// that paid each period already posted, by period start: one read of its instalments.
pub async fn paid_instalments(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<(Paid, std::collections::HashMap<NaiveDate, Uuid>), PaymentsError> {
    let rows: Vec<(NaiveDate, Decimal, Uuid, bool)> = sqlx::query_as(
        "SELECT period_start, amount, run_id, posted FROM instalment_payment \
         WHERE agreement_id = $1",
    )
    .bind(agreement_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select paid instalments")?;
    let mut paid = Paid::new();
    let mut paid_by = std::collections::HashMap::new();
    for (period_start, amount, run_id, posted) in rows {
        let amount = Money::try_from(amount).map_err(|error| {
            PaymentsError::Internal(anyhow::anyhow!(
                "stored instalment amount {amount}: {error}"
            ))
        })?;
        paid.insert(period_start, amount);
        if posted {
            paid_by.insert(period_start, run_id);
        }
    }
    Ok((paid, paid_by))
}
