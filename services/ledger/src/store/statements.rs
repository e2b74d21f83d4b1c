//! What a statement reads: a fund balance account's entries before a period (its opening
//! balance) and in it, netted by the account on the other side and the transfer's category.

use chrono::NaiveDate;
use sds_platform::StoreContext as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::named;
use crate::domain::statement::{Contribution, Movements};
use crate::domain::{AccountKind, Category};
use crate::error::LedgerError;

/// The balance of account `account_id` at the end of the day before `from`.
pub async fn balance_before(
    connection: &mut PgConnection,
    account_id: Uuid,
    from: NaiveDate,
) -> Result<i64, LedgerError> {
    let sum: Option<i64> = sqlx::query_scalar(
        "SELECT sum(amount_pence)::bigint FROM entry WHERE account_id = $1 AND posted_on < $2",
    )
    .bind(account_id)
    .bind(from)
    .fetch_one(&mut *connection)
    .await
    .operation("select the balance before a period")?;
    Ok(sum.unwrap_or_default())
}

/// The entries of account `account_id` from `from` to `to`, netted by counterpart account
/// and category.
pub async fn movements(
    connection: &mut PgConnection,
    account_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Movements>, LedgerError> {
    let rows: Vec<(String, Option<Uuid>, String, i64)> = sqlx::query_as(
        "SELECT c.kind, c.payee_id, t.category, sum(e.amount_pence)::bigint \
         FROM entry e \
         JOIN transfer t ON t.id = e.transfer_id \
         JOIN account c ON c.id = CASE WHEN t.credit_account_id = e.account_id \
                                       THEN t.debit_account_id ELSE t.credit_account_id END \
         WHERE e.account_id = $1 AND e.posted_on BETWEEN $2 AND $3 \
         GROUP BY c.kind, c.payee_id, t.category \
         ORDER BY c.kind, c.payee_id, t.category",
    )
    .bind(account_id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *connection)
    .await
    .operation("select a period's movements")?;
    rows.into_iter()
        .map(|(kind, payee, category, net)| {
            Ok(Movements {
                counterpart: named::<AccountKind>("account kind", &kind)?,
                payee,
                category: named::<Category>("transfer category", &category)?,
                net,
            })
        })
        .collect()
}

/// The person's contribution on the contribution-due account `account_id` over `from` to
/// `to`: what fell due, what was paid, and the balance (what is owed) at the end of `to`;
/// `None` when nothing was ever due or paid on it by then.
pub async fn contribution(
    connection: &mut PgConnection,
    account_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<Contribution>, LedgerError> {
    let (entries, due, paid, outstanding): (i64, Option<i64>, Option<i64>, Option<i64>) =
        sqlx::query_as(
            "SELECT count(*), \
                 sum(e.amount_pence) FILTER (WHERE e.posted_on >= $2 \
                     AND t.category = 'contribution_due')::bigint, \
                 sum(-e.amount_pence) FILTER (WHERE e.posted_on >= $2 \
                     AND t.category = 'contribution')::bigint, \
                 sum(e.amount_pence)::bigint \
             FROM entry e JOIN transfer t ON t.id = e.transfer_id \
             WHERE e.account_id = $1 AND e.posted_on <= $3",
        )
        .bind(account_id)
        .bind(from)
        .bind(to)
        .fetch_one(&mut *connection)
        .await
        .operation("select the contribution of a period")?;
    Ok((entries > 0).then(|| Contribution {
        due: due.unwrap_or_default(),
        paid: paid.unwrap_or_default(),
        outstanding: outstanding.unwrap_or_default(),
    }))
}
