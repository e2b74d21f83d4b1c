//! Remittances in SQL: one per payee a run paid, made in one statement from the run's
//! instalments, with the payee's bank details as they were when it was made; and the
//! instalments a run held back for payees without bank details.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_vocabulary::AuthorityId;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::bank_account::BankDetails;
use crate::error::PaymentsError;
use crate::store::bank::checked_details;

/// What a run paid one payee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemittanceRecord {
    pub number: String,
    pub run_id: Uuid,
    pub authority: AuthorityId,
    pub run_date: NaiveDate,
    pub payee_id: Uuid,
    /// `provider` or `holder`.
    pub payee_kind: String,
    pub bank_version: i32,
    pub items: u64,
    pub total: Money,
}

/// One instalment on a remittance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemittanceLine {
    pub person_id: Uuid,
    pub agreement_id: Uuid,
    /// Whether the payee is the provider the person chose for this agreement (so the
    /// person's name may be shown to it).
    pub chosen_provider: bool,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub base: Money,
    pub adjustment: Money,
    pub amount: Money,
}

fn money(what: &str, amount: Decimal) -> Result<Money, PaymentsError> {
    Money::try_from(amount).map_err(|error| {
        PaymentsError::Internal(anyhow::anyhow!("stored {what} {amount}: {error}"))
    })
}

type RemittanceRow = (
    String,
    Uuid,
    String,
    NaiveDate,
    Uuid,
    String,
    i32,
    i32,
    Decimal,
);

fn record(row: RemittanceRow) -> Result<RemittanceRecord, PaymentsError> {
    let (number, run_id, authority, run_date, payee_id, payee_kind, bank_version, items, total) =
        row;
    if !matches!(payee_kind.as_str(), "provider" | "holder") {
        return Err(PaymentsError::Internal(anyhow::anyhow!(
            "stored payee kind {payee_kind:?}"
        )));
    }
    Ok(RemittanceRecord {
        number,
        run_id,
        authority: AuthorityId::parse("authority", &authority)
            .map_err(|invalid| PaymentsError::Internal(anyhow::anyhow!("stored {invalid}")))?,
        run_date,
        payee_id,
        payee_kind,
        bank_version,
        items: u64::try_from(items).unwrap_or_default(),
        total: money("remittance total", total)?,
    })
}

const COLUMNS: &str = "r.number, r.run_id, p.authority, p.run_date, r.payee_id, r.payee_kind, \
     r.bank_version, r.items, r.total";

/// Makes the run's remittances, once, paying each payee to the bank details the run chose
/// it with (`run_payee`): a run finished again keeps the numbers and the details of the
/// first time. Every payee the run paid has an account on record (planning holds back the
/// others).
pub async fn make_for_run(pool: &PgPool, run_id: Uuid) -> Result<(), PaymentsError> {
    sqlx::query(
        "INSERT INTO remittance (run_id, payee_id, number, payee_kind, bank_version, items, total) \
         SELECT run_id, payee_id, 'R' || to_char(nextval('remittance_number'), 'FM000000000'), \
             payee_kind, bank_version, items, total \
         FROM ( \
             SELECT i.run_id, s.payee_id, s.payee_kind, \
                 coalesce((SELECT r.bank_version FROM run_payee r \
                           WHERE r.run_id = i.run_id AND r.payee_id = s.payee_id), \
                     (SELECT max(b.version) FROM payee_bank_account b \
                      WHERE b.authority = s.authority AND b.payee_id = s.payee_id)) AS bank_version, \
                 count(*) AS items, sum(i.amount) AS total \
             FROM instalment_payment i JOIN schedule s ON s.agreement_id = i.agreement_id \
             WHERE i.run_id = $1 AND i.amount > 0 \
               AND NOT EXISTS (SELECT 1 FROM remittance WHERE run_id = $1) \
             GROUP BY i.run_id, s.payee_id, s.payee_kind, s.authority \
             ORDER BY s.payee_id \
         ) AS paid \
         ON CONFLICT (run_id, payee_id) DO NOTHING",
    )
    .bind(run_id)
    .execute(pool)
    .await
    .operation("make remittances")?;
    Ok(())
}

/// The run's remittances, in number order.
pub async fn of_run(pool: &PgPool, run_id: Uuid) -> Result<Vec<RemittanceRecord>, PaymentsError> {
    let rows: Vec<RemittanceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM remittance r JOIN payment_run p ON p.run_id = r.run_id \
         WHERE r.run_id = $1 ORDER BY r.number"
    )))
    .bind(run_id)
    .fetch_all(pool)
    .await
    .operation("select remittances of run")?;
    rows.into_iter().map(record).collect()
}

/// A remittance by its number.
pub async fn by_number(
    connection: &mut PgConnection,
    number: &str,
) -> Result<Option<RemittanceRecord>, PaymentsError> {
    let row: Option<RemittanceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM remittance r JOIN payment_run p ON p.run_id = r.run_id \
         WHERE r.number = $1"
    )))
    .bind(number)
    .fetch_optional(&mut *connection)
    .await
    .operation("select remittance")?;
    row.map(record).transpose()
}

type LineRow = (
    Uuid,
    Uuid,
    bool,
    NaiveDate,
    NaiveDate,
    Decimal,
    Decimal,
    Decimal,
);

/// The instalments on a remittance: by person, agreement and period.
pub async fn lines(
    connection: &mut PgConnection,
    remittance: &RemittanceRecord,
) -> Result<Vec<RemittanceLine>, PaymentsError> {
    let rows: Vec<LineRow> = sqlx::query_as(
        "SELECT s.person_id, i.agreement_id, s.payee_kind = 'provider', i.period_start, \
             i.period_end, i.base, i.adjustment, i.amount \
         FROM instalment_payment i JOIN schedule s ON s.agreement_id = i.agreement_id \
         WHERE i.run_id = $1 AND s.payee_id = $2 AND i.amount > 0 \
         ORDER BY s.person_id, i.agreement_id, i.period_start",
    )
    .bind(remittance.run_id)
    .bind(remittance.payee_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select remittance lines")?;
    rows.into_iter()
        .map(
            |(person_id, agreement_id, chosen_provider, start, end, base, adjustment, amount)| {
                Ok(RemittanceLine {
                    person_id,
                    agreement_id,
                    chosen_provider,
                    period_start: start,
                    period_end: end,
                    base: money("instalment base", base)?,
                    adjustment: money("instalment adjustment", adjustment)?,
                    amount: money("instalment amount", amount)?,
                })
            },
        )
        .collect()
}

/// One schedule's instalments a run held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub agreement_id: Uuid,
    pub payee_id: Uuid,
    pub instalments: u64,
    pub total: Money,
}

/// Records what planning held back on a page of schedules (`page`), replacing what an
/// earlier pass of planning recorded for the same schedules (a payee held then may have
/// been paid since its details were entered).
pub async fn record_held(
    connection: &mut PgConnection,
    run_id: Uuid,
    page: &[Uuid],
    held: &[Held],
) -> Result<(), PaymentsError> {
    sqlx::query("DELETE FROM run_held WHERE run_id = $1 AND agreement_id = ANY($2)")
        .bind(run_id)
        .bind(page)
        .execute(&mut *connection)
        .await
        .operation("clear held instalments")?;
    if held.is_empty() {
        return Ok(());
    }
    let agreements: Vec<Uuid> = held.iter().map(|held| held.agreement_id).collect();
    let payees: Vec<Uuid> = held.iter().map(|held| held.payee_id).collect();
    let counts: Vec<i32> = held
        .iter()
        .map(|held| i32::try_from(held.instalments).unwrap_or(i32::MAX))
        .collect();
    let totals: Vec<Decimal> = held.iter().map(|held| held.total.as_decimal()).collect();
    sqlx::query(
        "INSERT INTO run_held (run_id, agreement_id, payee_id, instalments, total) \
         SELECT $1, a, p, c, t FROM UNNEST($2::uuid[], $3::uuid[], $4::int[], $5::numeric[]) \
             AS held (a, p, c, t) \
         ON CONFLICT (run_id, agreement_id) DO NOTHING",
    )
    .bind(run_id)
    .bind(agreements)
    .bind(payees)
    .bind(counts)
    .bind(totals)
    .execute(&mut *connection)
    .await
    .operation("record held instalments")?;
    Ok(())
}

/// What the run held back, by payee: instalments and total.
pub async fn held_by_payee(
    pool: &PgPool,
    run_id: Uuid,
) -> Result<Vec<(Uuid, u64, Money)>, PaymentsError> {
    let rows: Vec<(Uuid, i64, Decimal)> = sqlx::query_as(
        "SELECT payee_id, sum(instalments)::bigint, sum(total) FROM run_held \
         WHERE run_id = $1 GROUP BY payee_id ORDER BY payee_id",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await
    .operation("select held instalments")?;
    rows.into_iter()
        .map(|(payee, count, total)| {
            Ok((
                payee,
                u64::try_from(count).unwrap_or_default(),
                money("held total", total)?,
            ))
        })
        .collect()
}

/// The run's remittances with the bank details each pays to, in number order.
pub async fn credits_of_run(
    pool: &PgPool,
    run_id: Uuid,
) -> Result<Vec<(RemittanceRecord, BankDetails)>, PaymentsError> {
    let rows: Vec<(RemittanceRow, (String, String, String))> =
        sqlx::query_as::<_, CreditRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, b.sort_code, b.account_number, b.account_name \
             FROM remittance r JOIN payment_run p ON p.run_id = r.run_id \
             JOIN payee_bank_account b ON b.authority = p.authority \
                 AND b.payee_id = r.payee_id AND b.version = r.bank_version \
             WHERE r.run_id = $1 ORDER BY r.number"
        )))
        .bind(run_id)
        .fetch_all(pool)
        .await
        .operation("select remittance credits")?
        .into_iter()
        .map(|row| {
            let (a, b, c, d, e, f, g, h, i, sort_code, account_number, account_name) = row;
            (
                (a, b, c, d, e, f, g, h, i),
                (sort_code, account_number, account_name),
            )
        })
        .collect();
    rows.into_iter()
        .map(|(remittance, (sort_code, account_number, account_name))| {
            Ok((
                record(remittance)?,
                checked_details(
                    "payee bank account",
                    &sort_code,
                    &account_number,
                    &account_name,
                )?,
            ))
        })
        .collect()
}

type CreditRow = (
    String,
    Uuid,
    String,
    NaiveDate,
    Uuid,
    String,
    i32,
    i32,
    Decimal,
    String,
    String,
    String,
);

/// Fixes the bank details the run pays each of `payees` to: their current version, unless
/// an earlier pass of planning fixed one already.
pub async fn pin_payees(
    connection: &mut PgConnection,
    run_id: Uuid,
    authority: &AuthorityId,
    payees: &[Uuid],
) -> Result<(), PaymentsError> {
    sqlx::query(
        "INSERT INTO run_payee (run_id, payee_id, bank_version) \
         SELECT $1, p, (SELECT max(version) FROM payee_bank_account \
                        WHERE authority = $2 AND payee_id = p) \
         FROM UNNEST($3::uuid[]) AS payees (p) \
         WHERE EXISTS (SELECT 1 FROM payee_bank_account WHERE authority = $2 AND payee_id = p) \
         ON CONFLICT DO NOTHING",
    )
    .bind(run_id)
    .bind(authority.as_str())
    .bind(payees)
    .execute(&mut *connection)
    .await
    .operation("fix the run's payee bank details")?;
    Ok(())
}
