//! What a run posts, in SQL: the funds and payable accounts it pays into (linked the first
//! time a run meets them), and its instalments with the accounts their transfers move money
//! between, page by page until each is marked posted.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgPool;
use uuid::Uuid;

use super::InstalmentKey;
use crate::domain::terms::HoldingModel;
use crate::error::PaymentsError;
use crate::runs::ScheduleRange;

/// A fund the run pays into for the first time: a schedule's person and holder with no
/// link yet, or an authority-held fund without a payable account for the payee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundNeeded {
    /// The fund already linked for the person and holder, when only the payee's payable
    /// account is missing (an authority-held fund paying a second provider).
    pub linked_fund: Option<Uuid>,
    pub agreement_id: Uuid,
    pub person_id: Uuid,
    pub holding_model: HoldingModel,
    pub holder_key: String,
    pub payee_id: Uuid,
}

/// The funds `run_id`'s unposted instalments of the schedules in `range` need and payments
/// has not linked yet.
pub async fn funds_needed(
    pool: &PgPool,
    run_id: Uuid,
    authority: &AuthorityId,
    range: ScheduleRange,
) -> Result<Vec<FundNeeded>, PaymentsError> {
    let rows: Vec<(Option<Uuid>, Uuid, Uuid, String, String, Uuid)> = sqlx::query_as(
        "SELECT DISTINCT ON (s.person_id, k.holder_key, s.payee_id) f.fund_id, s.agreement_id, \
             s.person_id, s.holding_model, k.holder_key, s.payee_id \
         FROM instalment_payment i \
         JOIN schedule s ON s.agreement_id = i.agreement_id \
         CROSS JOIN LATERAL (SELECT CASE s.holding_model \
             WHEN 'third_party' THEN s.holder_id::text \
             WHEN 'provider' THEN s.provider_id::text ELSE '' END AS holder_key) k \
         LEFT JOIN fund_link f ON f.authority = s.authority AND f.person_id = s.person_id \
             AND f.holder_key = k.holder_key \
         LEFT JOIN fund_payee p ON p.fund_id = f.fund_id AND p.payee_id = s.payee_id \
         WHERE i.run_id = $1 AND NOT i.posted AND s.authority = $2 \
           AND i.agreement_id BETWEEN $3 AND $4 \
           AND (f.fund_id IS NULL OR (s.holding_model = 'authority' AND p.fund_id IS NULL)) \
         ORDER BY s.person_id, k.holder_key, s.payee_id, s.agreement_id",
    )
    .bind(run_id)
    .bind(authority.as_str())
    .bind(range.first)
    .bind(range.last)
    .fetch_all(pool)
    .await
    .operation("select funds needed")?;
    rows.into_iter()
        .map(
            |(linked_fund, agreement_id, person_id, holding_model, holder_key, payee_id)| {
                Ok(FundNeeded {
                    linked_fund,
                    agreement_id,
                    person_id,
                    holding_model: HoldingModel::from_name(&holding_model).ok_or_else(|| {
                        PaymentsError::Internal(anyhow::anyhow!(
                            "stored holding model {holding_model:?}"
                        ))
                    })?,
                    holder_key,
                    payee_id,
                })
            },
        )
        .collect()
}

/// A ledger fund and the accounts a run posts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundLink {
    pub person_id: Uuid,
    pub holder_key: String,
    pub fund_id: Uuid,
    pub funding_account_id: Uuid,
    pub balance_account_id: Uuid,
    /// For an authority-held fund: the payee and its payable account.
    pub payable: Option<(Uuid, Uuid)>,
}

/// Links a fund and its accounts (the same link again changes nothing).
pub async fn link_fund(
    pool: &PgPool,
    authority: &AuthorityId,
    link: &FundLink,
) -> Result<(), PaymentsError> {
    let mut transaction = pool.begin().await.operation("database connection")?;
    sqlx::query(
        "INSERT INTO fund_link (authority, person_id, holder_key, fund_id, funding_account_id, \
             balance_account_id) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (authority, person_id, holder_key) DO NOTHING",
    )
    .bind(authority.as_str())
    .bind(link.person_id)
    .bind(&link.holder_key)
    .bind(link.fund_id)
    .bind(link.funding_account_id)
    .bind(link.balance_account_id)
    .execute(&mut *transaction)
    .await
    .operation("link fund")?;
    if let Some((payee_id, payable_account_id)) = link.payable {
        sqlx::query(
            "INSERT INTO fund_payee (fund_id, payee_id, payable_account_id) VALUES ($1, $2, $3) \
             ON CONFLICT (fund_id, payee_id) DO NOTHING",
        )
        .bind(link.fund_id)
        .bind(payee_id)
        .bind(payable_account_id)
        .execute(&mut *transaction)
        .await
        .operation("link payee")?;
    }
    transaction
        .commit()
        .await
        .operation("database connection")?;
    Ok(())
}

/// An instalment to post, with the accounts its transfers move money between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToPost {
    pub agreement_id: Uuid,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub amount: Money,
    pub funding_account_id: Uuid,
    pub balance_account_id: Uuid,
    /// For an authority-held fund: the payee's payable account.
    pub payable_account_id: Option<Uuid>,
}

type ToPostRow = (
    Uuid,
    NaiveDate,
    NaiveDate,
    Decimal,
    Uuid,
    Uuid,
    Option<Uuid>,
    String,
);

/// The next page of `run_id`'s unposted instalments after `after` and of schedules up to
/// `last_agreement`, in key order. The page is
/// found alone first (an index scan of the page, whatever the size of the run), then joined
/// to its schedules and funds.
pub async fn to_post(
    pool: &PgPool,
    run_id: Uuid,
    after: InstalmentKey,
    last_agreement: Uuid,
    limit: i64,
) -> Result<Vec<ToPost>, PaymentsError> {
    let rows: Vec<ToPostRow> = sqlx::query_as(
        "WITH page AS MATERIALIZED ( \
             SELECT agreement_id, period_start, period_end, amount FROM instalment_payment \
             WHERE run_id = $1 AND NOT posted AND (agreement_id, period_start) > ($3, $4) \
                 AND agreement_id <= $5 \
             ORDER BY run_id, agreement_id, period_start LIMIT $2) \
         SELECT i.agreement_id, i.period_start, i.period_end, i.amount, f.funding_account_id, \
             f.balance_account_id, p.payable_account_id, s.holding_model \
         FROM page i \
         JOIN schedule s ON s.agreement_id = i.agreement_id \
         JOIN fund_link f ON f.authority = s.authority AND f.person_id = s.person_id \
             AND f.holder_key = CASE s.holding_model WHEN 'third_party' THEN s.holder_id::text \
                 WHEN 'provider' THEN s.provider_id::text ELSE '' END \
         LEFT JOIN fund_payee p ON p.fund_id = f.fund_id AND p.payee_id = s.payee_id \
         ORDER BY i.agreement_id, i.period_start",
    )
    .bind(run_id)
    .bind(limit)
    .bind(after.0)
    .bind(after.1)
    .bind(last_agreement)
    .fetch_all(pool)
    .await
    .operation("select instalments to post")?;
    rows.into_iter()
        .map(|(agreement_id, period_start, period_end, amount, funding, balance, payable, holding_model)| {
            let amount = Money::try_from(amount).map_err(|error| {
                PaymentsError::Internal(anyhow::anyhow!("stored instalment amount {amount}: {error}"))
            })?;
            if holding_model == HoldingModel::Authority.name() && payable.is_none() {
                return Err(PaymentsError::Internal(anyhow::anyhow!(
                    "instalment of {agreement_id} from {period_start}: the authority-held fund has no payable account for its payee"
                )));
            }
            Ok(ToPost {
                agreement_id,
                period_start,
                period_end,
                amount,
                funding_account_id: funding,
                balance_account_id: balance,
                payable_account_id: (holding_model == HoldingModel::Authority.name()).then_some(payable).flatten(),
            })
        })
        .collect()
}

/// How many of `run_id`'s instalments of the schedules in `range` are still to post.
pub async fn count_unposted(
    pool: &PgPool,
    run_id: Uuid,
    range: ScheduleRange,
) -> Result<u64, PaymentsError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM instalment_payment \
         WHERE run_id = $1 AND NOT posted AND agreement_id BETWEEN $2 AND $3",
    )
    .bind(run_id)
    .bind(range.first)
    .bind(range.last)
    .fetch_one(pool)
    .await
    .operation("count unposted")?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// How many of `run_id`'s instalments are posted, and how many it has.
pub async fn count_posted(pool: &PgPool, run_id: Uuid) -> Result<(u64, u64), PaymentsError> {
    let (posted, all): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE posted), count(*) FROM instalment_payment WHERE run_id = $1",
    )
    .bind(run_id)
    .fetch_one(pool)
    .await
    .operation("count posted")?;
    Ok((
        u64::try_from(posted).unwrap_or_default(),
        u64::try_from(all).unwrap_or_default(),
    ))
}

/// Marks instalments posted once the ledger holds their transfers.
pub async fn mark_posted(pool: &PgPool, keys: &[(Uuid, NaiveDate)]) -> Result<(), PaymentsError> {
    if keys.is_empty() {
        return Ok(());
    }
    let (agreements, starts): (Vec<Uuid>, Vec<NaiveDate>) = keys.iter().copied().unzip();
    sqlx::query(
        "UPDATE instalment_payment i SET posted = true \
         FROM UNNEST($1::uuid[], $2::date[]) AS done (a, s) \
         WHERE i.agreement_id = done.a AND i.period_start = done.s",
    )
    .bind(agreements)
    .bind(starts)
    .execute(pool)
    .await
    .operation("mark posted")?;
    Ok(())
}

/// The ledger fund a schedule is paid into, once a run has linked it.
pub async fn fund_of_schedule(
    connection: &mut sqlx::PgConnection,
    agreement_id: Uuid,
) -> Result<Option<Uuid>, PaymentsError> {
    Ok(sqlx::query_scalar(
        "SELECT f.fund_id FROM schedule s \
         JOIN fund_link f ON f.authority = s.authority AND f.person_id = s.person_id \
             AND f.holder_key = CASE s.holding_model \
                 WHEN 'third_party' THEN s.holder_id::text \
                 WHEN 'provider' THEN s.provider_id::text ELSE '' END \
         WHERE s.agreement_id = $1",
    )
    .bind(agreement_id)
    .fetch_optional(&mut *connection)
    .await
    .operation("select the schedule's fund")?)
}
