//! Bank details in SQL: the authority's paying account (in its settings) and every version
//! of each payee's account. Rows read back are checked again, as the CHECK constraints
//! promise, so a bank file is never written from a malformed row.

use chrono::{DateTime, Utc};
use sds_platform::StoreContext as _;
use sds_vocabulary::AuthorityId;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::bank_account::{self, BankDetails, Modulus};
use crate::error::PaymentsError;

/// The authority's account a run pays from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayingAccount {
    pub name: String,
    pub account: BankDetails,
    pub service_user_number: String,
}

/// One version of a payee's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayeeAccount {
    pub payee_id: Uuid,
    pub version: i32,
    pub account: BankDetails,
    pub modulus: Modulus,
    pub entered_by: String,
    pub entered_at: DateTime<Utc>,
}

fn corrupt(what: &str, problem: String) -> PaymentsError {
    PaymentsError::Internal(anyhow::anyhow!("stored {what} is malformed: {problem}"))
}

pub(crate) fn checked_details(
    what: &str,
    sort_code: &str,
    account_number: &str,
    account_name: &str,
) -> Result<BankDetails, PaymentsError> {
    let details = BankDetails {
        sort_code: bank_account::sort_code("sort_code", sort_code)
            .map_err(|problem| corrupt(what, problem))?,
        account_number: bank_account::account_number("account_number", account_number)
            .map_err(|problem| corrupt(what, problem))?,
        account_name: bank_account::account_name("account_name", account_name)
            .map_err(|problem| corrupt(what, problem))?,
    };
    // Stored values are already normal: anything the readers would change is corruption.
    if details.sort_code != sort_code
        || details.account_number != account_number
        || details.account_name != account_name
    {
        return Err(corrupt(what, "not in its normal form".to_owned()));
    }
    Ok(details)
}

/// Sets the authority's paying account, keeping the change with who made it (when it is
/// a change); the settings row must exist.
pub async fn set_paying_account(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    paying: &PayingAccount,
    changed_by: &str,
) -> Result<(), PaymentsError> {
    if paying_account(&mut *connection, authority).await?.as_ref() != Some(paying) {
        sqlx::query(
            "INSERT INTO paying_account_change (authority, changed_by, paying_name, \
                 paying_sort_code, paying_account_number, paying_account_name, service_user_number) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(authority.as_str())
        .bind(changed_by)
        .bind(&paying.name)
        .bind(&paying.account.sort_code)
        .bind(&paying.account.account_number)
        .bind(&paying.account.account_name)
        .bind(&paying.service_user_number)
        .execute(&mut *connection)
        .await
        .operation("record paying account change")?;
    }
    sqlx::query(
        "UPDATE authority_settings SET paying_name = $2, paying_sort_code = $3, \
             paying_account_number = $4, paying_account_name = $5, service_user_number = $6, \
             updated_at = now() \
         WHERE authority = $1",
    )
    .bind(authority.as_str())
    .bind(&paying.name)
    .bind(&paying.account.sort_code)
    .bind(&paying.account.account_number)
    .bind(&paying.account.account_name)
    .bind(&paying.service_user_number)
    .execute(&mut *connection)
    .await
    .operation("set paying account")?;
    Ok(())
}

type PayingRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The authority's paying account, if its finance staff set one.
pub async fn paying_account(
    connection: &mut PgConnection,
    authority: &AuthorityId,
) -> Result<Option<PayingAccount>, PaymentsError> {
    let row: Option<PayingRow> = sqlx::query_as(
        "SELECT paying_name, paying_sort_code, paying_account_number, paying_account_name, \
             service_user_number \
         FROM authority_settings WHERE authority = $1",
    )
    .bind(authority.as_str())
    .fetch_optional(&mut *connection)
    .await
    .operation("select paying account")?;
    let Some((Some(name), Some(sort_code), Some(account_number), Some(account_name), Some(sun))) =
        row
    else {
        return Ok(None);
    };
    let what = "paying account";
    let account = checked_details(what, &sort_code, &account_number, &account_name)?;
    let name =
        bank_account::account_name("name", &name).map_err(|problem| corrupt(what, problem))?;
    if sun.len() != 6 || !sun.bytes().all(|b| b.is_ascii_digit()) {
        return Err(corrupt(
            what,
            "service user number is not six digits".to_owned(),
        ));
    }
    Ok(Some(PayingAccount {
        name,
        account,
        service_user_number: sun,
    }))
}

type PayeeRow = (
    Uuid,
    i32,
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
);

fn payee_account(row: PayeeRow) -> Result<PayeeAccount, PaymentsError> {
    let (
        payee_id,
        version,
        sort_code,
        account_number,
        account_name,
        modulus,
        entered_by,
        entered_at,
    ) = row;
    let what = "payee bank account";
    Ok(PayeeAccount {
        payee_id,
        version,
        account: checked_details(what, &sort_code, &account_number, &account_name)?,
        modulus: Modulus::parse(&modulus)
            .ok_or_else(|| corrupt(what, format!("modulus {modulus:?}")))?,
        entered_by,
        entered_at,
    })
}

const PAYEE_COLUMNS: &str = "payee_id, version, sort_code, account_number, account_name, modulus, \
     entered_by, entered_at";

/// The payee's current account with the authority.
pub async fn current_payee_account(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    payee_id: Uuid,
) -> Result<Option<PayeeAccount>, PaymentsError> {
    let row: Option<PayeeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYEE_COLUMNS} FROM payee_bank_account \
         WHERE authority = $1 AND payee_id = $2 ORDER BY version DESC LIMIT 1"
    )))
    .bind(authority.as_str())
    .bind(payee_id)
    .fetch_optional(&mut *connection)
    .await
    .operation("select payee bank account")?;
    row.map(payee_account).transpose()
}

/// What a schedule of the authority pays `payee_id` as (`provider` or `holder`), if any
/// does: what the read audit trail says the payee is.
pub async fn payee_kind(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    payee_id: Uuid,
) -> Result<Option<String>, PaymentsError> {
    Ok(sqlx::query_scalar(
        "SELECT payee_kind FROM schedule WHERE payee_id = $1 AND authority = $2 LIMIT 1",
    )
    .bind(payee_id)
    .bind(authority.as_str())
    .fetch_optional(&mut *connection)
    .await
    .operation("select payee kind")?)
}

/// Records the payee's account as a new version, unless it is the current one already;
/// returns the current version afterwards. Changes of one payee's account are serialised,
/// so versions are numbered without gaps.
pub async fn record_payee_account(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    payee_id: Uuid,
    account: &BankDetails,
    modulus: Modulus,
    entered_by: &str,
) -> Result<PayeeAccount, PaymentsError> {
    let mut transaction = sqlx::Connection::begin(&mut *connection)
        .await
        .operation("begin")?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('payee-bank:' || $1 || '/' || $2::text))")
        .bind(authority.as_str())
        .bind(payee_id)
        .execute(&mut *transaction)
        .await
        .operation("lock payee bank account")?;
    let current = current_payee_account(&mut transaction, authority, payee_id).await?;
    if let Some(current) = current.filter(|current| current.account == *account) {
        transaction.commit().await.operation("commit")?;
        return Ok(current);
    }
    let row: PayeeRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO payee_bank_account (authority, payee_id, version, sort_code, \
             account_number, account_name, modulus, entered_by) \
         SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6, $7 \
         FROM payee_bank_account WHERE authority = $1 AND payee_id = $2 \
         RETURNING {PAYEE_COLUMNS}"
    )))
    .bind(authority.as_str())
    .bind(payee_id)
    .bind(&account.sort_code)
    .bind(&account.account_number)
    .bind(&account.account_name)
    .bind(modulus.as_str())
    .bind(entered_by)
    .fetch_one(&mut *transaction)
    .await
    .operation("insert payee bank account")?;
    let recorded = payee_account(row)?;
    transaction.commit().await.operation("commit")?;
    Ok(recorded)
}

/// The payees of the authority with an account on record.
pub async fn payees_with_accounts(
    connection: &mut PgConnection,
    authority: &AuthorityId,
) -> Result<std::collections::HashSet<Uuid>, PaymentsError> {
    let ids: Vec<Uuid> =
        sqlx::query_scalar("SELECT DISTINCT payee_id FROM payee_bank_account WHERE authority = $1")
            .bind(authority.as_str())
            .fetch_all(&mut *connection)
            .await
            .operation("select payees with accounts")?;
    Ok(ids.into_iter().collect())
}
