//! Funds and their accounts: opened with every account at once, read with their sums,
//! locked for a transaction in account id order, closed once.

use chrono::NaiveDate;
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use super::named;
use crate::domain::{AccountState, Fund, NewFund};
use crate::error::LedgerError;

/// The fund's columns, prefixed `f.` (static SQL, as sqlx requires).
macro_rules! fund_columns {
    () => {
        "f.id AS fund_id, f.authority, f.person_id, f.holding_model, f.holder_id, \
         f.weekly_budget_pence, f.overdraft_limit_pence, f.opened_on, f.closed_on"
    };
}

/// The account's columns, prefixed `a.`.
macro_rules! account_columns {
    () => {
        "a.id, a.kind, a.payee_id, a.debits_posted, a.credits_posted, a.debits_pending, \
         a.credits_pending"
    };
}

#[derive(sqlx::FromRow)]
struct FundRow {
    fund_id: Uuid,
    authority: String,
    person_id: Uuid,
    holding_model: String,
    holder_id: String,
    weekly_budget_pence: i64,
    overdraft_limit_pence: i64,
    opened_on: NaiveDate,
    closed_on: Option<NaiveDate>,
}

impl FundRow {
    fn fund(self) -> Result<Fund, LedgerError> {
        Ok(Fund {
            id: self.fund_id,
            authority: AuthorityId::parse("authority", &self.authority)
                .map_err(|invalid| anyhow::anyhow!("stored fund authority: {invalid}"))?,
            person_id: self.person_id,
            holding_model: named("holding model", &self.holding_model)?,
            holder_id: self.holder_id,
            weekly_budget: self.weekly_budget_pence,
            overdraft_limit: self.overdraft_limit_pence,
            opened_on: self.opened_on,
            closed_on: self.closed_on,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: Uuid,
    kind: String,
    payee_id: Option<Uuid>,
    debits_posted: i64,
    credits_posted: i64,
    debits_pending: i64,
    credits_pending: i64,
}

impl AccountRow {
    fn state(&self, fund_id: Uuid) -> Result<AccountState, LedgerError> {
        Ok(AccountState {
            id: self.id,
            fund_id,
            kind: named("account kind", &self.kind)?,
            debits_posted: self.debits_posted,
            credits_posted: self.credits_posted,
            debits_pending: self.debits_pending,
            credits_pending: self.credits_pending,
        })
    }
}

/// An account locked by the open transaction, with its fund.
#[derive(Debug, Clone)]
pub struct LockedAccount {
    pub state: AccountState,
    pub payee: Option<Uuid>,
    pub fund: Fund,
}

/// Records `fund` opened on `today` with every account it opens with. Returns nothing: a
/// duplicate fund id or a second open fund of the person with the holder is PostgreSQL's
/// unique violation, which the caller reads.
pub async fn insert_fund(
    connection: &mut PgConnection,
    fund: &NewFund,
    today: NaiveDate,
    by: &str,
) -> Result<(), LedgerError> {
    sqlx::query(
        "INSERT INTO fund (id, authority, person_id, holding_model, holder_id, \
             weekly_budget_pence, overdraft_limit_pence, opened_on, opened_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(fund.id)
    .bind(fund.authority.as_str())
    .bind(fund.person_id)
    .bind(fund.holding_model.name())
    .bind(&fund.holder_id)
    .bind(fund.weekly_budget)
    .bind(fund.overdraft_limit)
    .bind(today)
    .bind(by)
    .execute(&mut *connection)
    .await
    .operation("insert fund")?;
    let accounts = fund.accounts();
    let ids: Vec<Uuid> = accounts.iter().map(|_| Uuid::now_v7()).collect();
    let kinds: Vec<&str> = accounts.iter().map(|(kind, _)| kind.name()).collect();
    // No payee is the nil id, as arrays of nullable values do not bind.
    let payees: Vec<Uuid> = accounts
        .iter()
        .map(|(_, payee)| payee.unwrap_or_default())
        .collect();
    sqlx::query(
        "INSERT INTO account (id, fund_id, kind, payee_id) \
         SELECT id, $1, kind, NULLIF(payee, '00000000-0000-0000-0000-000000000000'::uuid) \
         FROM UNNEST($2::uuid[], $3::text[], $4::uuid[]) AS a(id, kind, payee)",
    )
    .bind(fund.id)
    .bind(ids)
    .bind(kinds)
    .bind(payees)
    .execute(&mut *connection)
    .await
    .operation("insert accounts")?;
    Ok(())
}

/// A payable account for `payee` in `fund`; a second for the same payee is a unique
/// violation.
pub async fn insert_payable(
    connection: &mut PgConnection,
    fund: Uuid,
    payee: Uuid,
) -> Result<(), LedgerError> {
    sqlx::query("INSERT INTO account (id, fund_id, kind, payee_id) VALUES ($1, $2, 'payable', $3)")
        .bind(Uuid::now_v7())
        .bind(fund)
        .bind(payee)
        .execute(&mut *connection)
        .await
        .operation("insert payable account")?;
    Ok(())
}

async fn fund_with_accounts(
    connection: &mut PgConnection,
    row: Option<FundRow>,
) -> Result<Option<(Fund, Vec<(AccountState, Option<Uuid>)>)>, LedgerError> {
    let Some(row) = row else {
        return Ok(None);
    };
    let fund = row.fund()?;
    let rows: Vec<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM account a WHERE a.fund_id = $1 ORDER BY a.kind, a.payee_id, a.id"
    ))
    .bind(fund.id)
    .fetch_all(&mut *connection)
    .await
    .operation("select fund accounts")?;
    let accounts = rows
        .iter()
        .map(|row| Ok((row.state(fund.id)?, row.payee_id)))
        .collect::<Result<Vec<_>, LedgerError>>()?;
    Ok(Some((fund, accounts)))
}

/// The fund with each account, its sums and its payee.
pub async fn load_fund(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(Fund, Vec<(AccountState, Option<Uuid>)>)>, LedgerError> {
    let row: Option<FundRow> = sqlx::query_as(concat!(
        "SELECT ",
        fund_columns!(),
        " FROM fund f WHERE f.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *connection)
    .await
    .operation("select fund")?;
    fund_with_accounts(connection, row).await
}

/// As [`load_fund`], holding the fund row until the transaction ends, so that closing is
/// decided once. `NO KEY UPDATE`, not `UPDATE`: a transfer inserted meanwhile takes a key
/// share lock on its fund (its foreign key) while holding its accounts, and a full update
/// lock here, taken before the accounts, would wait on it in a circle.
pub async fn load_fund_for_update(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(Fund, Vec<(AccountState, Option<Uuid>)>)>, LedgerError> {
    let row: Option<FundRow> = sqlx::query_as(concat!(
        "SELECT ",
        fund_columns!(),
        " FROM fund f WHERE f.id = $1 FOR NO KEY UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *connection)
    .await
    .operation("lock fund")?;
    fund_with_accounts(connection, row).await
}

/// Locks the accounts `ids` in id order (so two transactions never wait on each other in a
/// circle) and reads them, after the lock, with their funds. Ids not recorded are absent.
///
/// The funds are read by a second statement: a statement that waited for a lock sees the
/// locked rows as they are now but joined rows as they were when it started, so a fund
/// closed while this one waited would still look open.
pub async fn lock_accounts(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<LockedAccount>, LedgerError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        fund_id: Uuid,
        #[sqlx(flatten)]
        account: AccountRow,
    }
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT a.fund_id, ",
        account_columns!(),
        " FROM account a WHERE a.id = ANY($1) ORDER BY a.id FOR UPDATE"
    ))
    .bind(ids)
    .fetch_all(&mut *connection)
    .await
    .operation("lock accounts")?;
    let mut fund_ids: Vec<Uuid> = rows.iter().map(|row| row.fund_id).collect();
    fund_ids.sort();
    fund_ids.dedup();
    let funds: Vec<FundRow> = sqlx::query_as(concat!(
        "SELECT ",
        fund_columns!(),
        " FROM fund f WHERE f.id = ANY($1)"
    ))
    .bind(&fund_ids)
    .fetch_all(&mut *connection)
    .await
    .operation("select funds of locked accounts")?;
    let funds = funds
        .into_iter()
        .map(|row| Ok((row.fund_id, row.fund()?)))
        .collect::<Result<std::collections::HashMap<Uuid, Fund>, LedgerError>>()?;
    rows.into_iter()
        .map(|row| {
            let fund = funds
                .get(&row.fund_id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("account {} has no fund", row.account.id))?;
            Ok(LockedAccount {
                state: row.account.state(fund.id)?,
                payee: row.account.payee_id,
                fund,
            })
        })
        .collect()
}

/// As [`lock_accounts`], in one statement that reads the funds joined: cheaper, but a fund
/// reads as it was when the statement started, so one closed while the statement waited for
/// an account's lock still reads open. Funds change only by closing, once, so everything
/// else read is exact, and the caller checks again, when it writes, that the funds are open
/// ([`super::write_posting`], [`count_closed`]).
pub async fn lock_accounts_reading_funds_before(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<LockedAccount>, LedgerError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        fund: FundRow,
        #[sqlx(flatten)]
        account: AccountRow,
    }
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        fund_columns!(),
        ", ",
        account_columns!(),
        " FROM account a JOIN fund f ON f.id = a.fund_id WHERE a.id = ANY($1) \
          ORDER BY a.id FOR UPDATE OF a"
    ))
    .bind(ids)
    .fetch_all(&mut *connection)
    .await
    .operation("lock accounts")?;
    rows.into_iter()
        .map(|row| {
            let fund = row.fund.fund()?;
            Ok(LockedAccount {
                state: row.account.state(fund.id)?,
                payee: row.account.payee_id,
                fund,
            })
        })
        .collect()
}

/// How many of the funds `ids` are closed, as recorded now.
pub async fn count_closed(connection: &mut PgConnection, ids: &[Uuid]) -> Result<i64, LedgerError> {
    Ok(
        sqlx::query_scalar(
            "SELECT count(*) FROM fund WHERE id = ANY($1) AND closed_on IS NOT NULL",
        )
        .bind(ids)
        .fetch_one(&mut *connection)
        .await
        .operation("check the funds are still open")?,
    )
}

/// Writes the sums of `accounts` (which the transaction has locked), one statement for all.
pub async fn update_accounts(
    connection: &mut PgConnection,
    accounts: &[AccountState],
) -> Result<(), LedgerError> {
    if accounts.is_empty() {
        return Ok(());
    }
    let column = |pick: fn(&AccountState) -> i64| accounts.iter().map(pick).collect::<Vec<_>>();
    sqlx::query(
        "UPDATE account a SET debits_posted = u.dp, credits_posted = u.cp, \
             debits_pending = u.dq, credits_pending = u.cq, version = a.version + 1 \
         FROM UNNEST($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) \
             AS u(id, dp, cp, dq, cq) \
         WHERE a.id = u.id",
    )
    .bind(
        accounts
            .iter()
            .map(|account| account.id)
            .collect::<Vec<_>>(),
    )
    .bind(column(|account| account.debits_posted))
    .bind(column(|account| account.credits_posted))
    .bind(column(|account| account.debits_pending))
    .bind(column(|account| account.credits_pending))
    .execute(&mut *connection)
    .await
    .operation("update account sums")?;
    Ok(())
}

pub async fn close_fund(
    connection: &mut PgConnection,
    id: Uuid,
    today: NaiveDate,
    by: &str,
) -> Result<(), LedgerError> {
    sqlx::query("UPDATE fund SET closed_on = $2, closed_by = $3 WHERE id = $1")
        .bind(id)
        .bind(today)
        .bind(by)
        .execute(&mut *connection)
        .await
        .operation("close fund")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::domain::{AccountKind, Category};
    use sds_vocabulary::NamedEnum as _;

    /// The latest CHECK of kinds and categories is the one the contributions migration set.
    const SCHEMA: &str = include_str!("../../migrations/20261128400007_contributions.sql");

    #[test]
    fn every_account_kind_is_allowed_by_the_schema() {
        for kind in AccountKind::ALL {
            assert!(SCHEMA.contains(&format!("'{}'", kind.name())), "{kind}");
        }
    }

    #[test]
    fn every_transfer_category_is_allowed_by_the_schema() {
        for category in Category::ALL {
            assert!(
                SCHEMA.contains(&format!("'{}'", category.name())),
                "{category}"
            );
        }
    }
}
