//! Seeding a scratch ledger with funds and their accounts, written straight into the
//! `fund` and `account` tables with `INSERT ... UNNEST`: those rows are not history (no
//! hash chain covers them), and opening 250,000 funds one RPC at a time would measure
//! nothing this benchmark is about. Accounts start at zero; their money comes from the
//! opening funding, which goes through the service (see `mod.rs`).

use anyhow::Context as _;
use sqlx::PgPool;
use uuid::Uuid;

use super::workload::{AUTHORITY, FundAccounts};

/// Rows per statement, so one bind stays well within PostgreSQL's message limits.
const ROWS_PER_STATEMENT: usize = 50_000;

/// Writes `fleet` (funds and four accounts each) through `pool`, whose connections work in
/// the ledger's schema, then refreshes the planner's statistics so that both scratch
/// databases start from the same plans.
pub async fn seed(pool: &PgPool, fleet: &[FundAccounts]) -> anyhow::Result<()> {
    for funds in fleet.chunks(ROWS_PER_STATEMENT) {
        let column = |pick: fn(&FundAccounts) -> Uuid| funds.iter().map(pick).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO fund (id, authority, person_id, holding_model, holder_id, \
                 weekly_budget_pence, overdraft_limit_pence, opened_on, opened_by) \
             SELECT id, $3, person, 'authority', $3, 30000, 0, CURRENT_DATE, 'bench' \
             FROM UNNEST($1::uuid[], $2::uuid[]) AS f(id, person)",
        )
        .bind(column(|f| f.fund))
        .bind(column(|f| f.person))
        .bind(AUTHORITY)
        .execute(pool)
        .await
        .context("seed funds")?;
        let mut ids = Vec::with_capacity(funds.len() * 4);
        let mut fund_ids = Vec::with_capacity(funds.len() * 4);
        let mut kinds = Vec::with_capacity(funds.len() * 4);
        let mut payees = Vec::with_capacity(funds.len() * 4);
        for fund in funds {
            for (id, kind, payee) in [
                (fund.balance, "fund_balance", Uuid::nil()),
                (fund.funding, "authority_funding", Uuid::nil()),
                (fund.payable, "payable", fund.payee),
                (fund.fee, "management_fee", Uuid::nil()),
            ] {
                ids.push(id);
                fund_ids.push(fund.fund);
                kinds.push(kind);
                payees.push(payee);
            }
        }
        sqlx::query(
            "INSERT INTO account (id, fund_id, kind, payee_id) \
             SELECT id, fund, kind, NULLIF(payee, '00000000-0000-0000-0000-000000000000'::uuid) \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::uuid[]) AS a(id, fund, kind, payee)",
        )
        .bind(ids)
        .bind(fund_ids)
        .bind(kinds)
        .bind(payees)
        .execute(pool)
        .await
        .context("seed accounts")?;
    }
    sqlx::query("ANALYZE fund, account")
        .execute(pool)
        .await
        .context("analyze the seeded tables")?;
    Ok(())
}
