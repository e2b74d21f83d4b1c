//! The schedules and funds a large payment run pays: generated from the line count and
//! written straight into payments' and the ledger's tables with `INSERT ... UNNEST`.
//! Schedules are what `agreement.signed` and `agreement.varied` would have made; funds what
//! a first run would have opened. Shared by `sds bench payment-run` (the same rows in both
//! of its scratch databases; P1 times the run, not this) and the payment-run chaos tests
//! (`tests/payments_chaos.rs`), which need a run long enough to break in the middle.
//!
//! The mix: one, two or three lines a schedule in turn; four-weekly, monthly and quarterly
//! in turn; in advance, or in arrears 14 days after the period, alternately; held by the
//! provider (seven in ten), a third party (two in ten) or the authority (one in ten); every
//! fifth schedule varied, backdated, with higher amounts from a week after its start. Starts
//! fall in the 28 days before the run, so most schedules have one or two instalments due.

use anyhow::Context as _;
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

/// The authority the generated schedules belong to.
pub const AUTHORITY: &str = "bench-payments";

/// The day a run of the generated schedules pays up to.
pub fn run_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()
}

/// Rows per statement.
const ROWS_PER_STATEMENT: usize = 20_000;

/// One generated schedule with its fund.
#[derive(Debug, Clone)]
pub struct Generated {
    pub agreement: Uuid,
    pub person: Uuid,
    pub provider: Uuid,
    pub holding_model: &'static str,
    pub holder: Option<Uuid>,
    pub payee: Uuid,
    pub frequency: &'static str,
    pub arrears: bool,
    pub start: NaiveDate,
    /// (version, effective from, recorded on, weekly pence of each line)
    pub versions: Vec<(i32, NaiveDate, NaiveDate, Vec<i64>)>,
    pub fund: Uuid,
    pub funding: Uuid,
    pub balance: Uuid,
    pub payable: Uuid,
}

impl Generated {
    /// The holder key payments links the fund under.
    pub fn holder_key(&self) -> String {
        match self.holding_model {
            "third_party" => self.holder.map(|id| id.to_string()).unwrap_or_default(),
            "provider" => self.provider.to_string(),
            _ => String::new(),
        }
    }

    /// The ledger's holder id for the fund.
    fn ledger_holder(&self) -> String {
        match self.holding_model {
            "authority" => AUTHORITY.to_owned(),
            _ => self.holder_key(),
        }
    }
}

/// Schedules with `lines` lines in all.
pub fn generate(lines: usize) -> Vec<Generated> {
    let providers: Vec<Uuid> = (0..200u128)
        .map(|n| Uuid::from_u128(0xB0_0000 + n))
        .collect();
    let holders: Vec<Uuid> = (0..20u128)
        .map(|n| Uuid::from_u128(0xC0_0000 + n))
        .collect();
    let recorded = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default();
    let varied_on = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default();
    let mut generated = Vec::new();
    let mut written = 0;
    let mut index: usize = 0;
    while written < lines {
        let count = (index % 3 + 1).min(lines - written);
        let n = u64::try_from(index).unwrap_or_default();
        let provider = providers[index % providers.len()];
        let (holding_model, holder, payee) = match index % 10 {
            0 | 1 => {
                let holder = holders[index % holders.len()];
                ("third_party", Some(holder), holder)
            }
            2 => ("authority", None, provider),
            _ => ("provider", None, provider),
        };
        let start = run_date() - Days::new(n % 28);
        let weekly: Vec<i64> = (0..count)
            .map(|line| {
                let line = u64::try_from(line).unwrap_or_default();
                15_000 + i64::try_from((n * 37 + line * 11) % 40_000).unwrap_or(0)
            })
            .collect();
        let mut versions = vec![(1, start, recorded, weekly.clone())];
        if index % 5 == 4 {
            let raised = weekly.iter().map(|pence| pence + 2_100).collect();
            versions.push((2, start + Days::new(7), varied_on, raised));
        }
        generated.push(Generated {
            agreement: Uuid::now_v7(),
            person: Uuid::now_v7(),
            provider,
            holding_model,
            holder,
            payee,
            frequency: ["four_weekly", "monthly", "quarterly"][index % 3],
            arrears: (index / 3) % 2 == 1,
            start,
            versions,
            fund: Uuid::now_v7(),
            funding: Uuid::now_v7(),
            balance: Uuid::now_v7(),
            payable: Uuid::now_v7(),
        });
        written += count;
        index += 1;
    }
    generated
}

/// The authority's paying account and a bank account for every payee, as its finance staff
/// would have entered them (a run holds back payees without one).
pub async fn seed_banking(pool: &PgPool, generated: &[Generated]) -> anyhow::Result<()> {
    let anchor = NaiveDate::from_ymd_opt(2026, 4, 6).unwrap_or_default();
    sqlx::query(
        "INSERT INTO authority_settings (authority, anchor_date, paying_name, paying_sort_code, \
             paying_account_number, paying_account_name, service_user_number) \
         VALUES ($1, $2, 'Bench HSCP', '802260', '10203040', 'Bench HSCP SDS', '123456')",
    )
    .bind(AUTHORITY)
    .bind(anchor)
    .execute(pool)
    .await
    .context("seed the paying account")?;
    let mut payees: Vec<Uuid> = generated.iter().map(|g| g.payee).collect();
    payees.sort();
    payees.dedup();
    sqlx::query(
        "INSERT INTO payee_bank_account (authority, payee_id, version, sort_code, account_number, \
             account_name, modulus, entered_by) \
         SELECT $1, p, 1, '401162', lpad((n % 100000000)::text, 8, '0'), 'Payee ' || n, \
             'no_table', 'bench' \
         FROM UNNEST($2::uuid[]) WITH ORDINALITY AS payees (p, n)",
    )
    .bind(AUTHORITY)
    .bind(&payees)
    .execute(pool)
    .await
    .context("seed payee bank accounts")?;
    Ok(())
}

/// Writes the schedules into payments' tables through `pool`, whose connections work in
/// payments' schema.
pub async fn seed_schedules(pool: &PgPool, generated: &[Generated]) -> anyhow::Result<()> {
    let anchor = NaiveDate::from_ymd_opt(2026, 4, 6).unwrap_or_default();
    for chunk in generated.chunks(ROWS_PER_STATEMENT) {
        let ids: Vec<Uuid> = chunk.iter().map(|g| g.agreement).collect();
        sqlx::query(
            "INSERT INTO schedule (agreement_id, authority, person_id, provider_id, holding_model, \
                 holder_id, payee_kind, payee_id, frequency, anchor_date, timing, payment_lag_days, \
                 basis, flex_tolerance_percent) \
             SELECT a, $1, p, v, h, t, CASE h WHEN 'third_party' THEN 'holder' ELSE 'provider' END, \
                 y, f, CASE f WHEN 'four_weekly' THEN $2::date END, \
                 CASE WHEN r THEN 'arrears' ELSE 'advance' END, CASE WHEN r THEN 14 ELSE 0 END, \
                 'scheduled', 10 \
             FROM UNNEST($3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::uuid[], $8::uuid[], \
                 $9::text[], $10::bool[]) AS s(a, p, v, h, t, y, f, r)",
        )
        .bind(AUTHORITY)
        .bind(anchor)
        .bind(&ids)
        .bind(chunk.iter().map(|g| g.person).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.provider).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.holding_model).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.holder).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.payee).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.frequency).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.arrears).collect::<Vec<_>>())
        .execute(pool)
        .await
        .context("seed schedules")?;
        let mut version_rows = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut line_rows = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for g in chunk {
            for (version, effective, recorded, weekly) in &g.versions {
                version_rows.0.push(g.agreement);
                version_rows.1.push(*version);
                version_rows.2.push(*effective);
                version_rows.3.push(*recorded);
                for (number, pence) in weekly.iter().enumerate() {
                    line_rows.0.push(g.agreement);
                    line_rows.1.push(*version);
                    line_rows.2.push(i32::try_from(number).unwrap_or_default());
                    line_rows.3.push(Decimal::new(*pence, 2));
                    line_rows.4.push(g.start);
                }
            }
        }
        sqlx::query(
            "INSERT INTO schedule_version (agreement_id, version, effective_from, recorded_on, event_type) \
             SELECT a, v, e, r, CASE v WHEN 1 THEN 'agreement.signed' ELSE 'agreement.varied' END \
             FROM UNNEST($1::uuid[], $2::int[], $3::date[], $4::date[]) AS s(a, v, e, r)",
        )
        .bind(&version_rows.0)
        .bind(&version_rows.1)
        .bind(&version_rows.2)
        .bind(&version_rows.3)
        .execute(pool)
        .await
        .context("seed schedule versions")?;
        sqlx::query(
            "INSERT INTO schedule_line (agreement_id, version, line_number, kind, plan_line, \
                 support_type, weekly, start_date, end_date) \
             SELECT a, v, n, 'support', n + 1, 'personal_care', w, s, NULL \
             FROM UNNEST($1::uuid[], $2::int[], $3::int[], $4::numeric[], $5::date[]) AS l(a, v, n, w, s)",
        )
        .bind(&line_rows.0)
        .bind(&line_rows.1)
        .bind(&line_rows.2)
        .bind(&line_rows.3)
        .bind(&line_rows.4)
        .execute(pool)
        .await
        .context("seed schedule lines")?;
        sqlx::query(
            "INSERT INTO fund_link (authority, person_id, holder_key, fund_id, funding_account_id, \
                 balance_account_id) \
             SELECT $1, p, k, f, a, b FROM UNNEST($2::uuid[], $3::text[], $4::uuid[], $5::uuid[], \
                 $6::uuid[]) AS l(p, k, f, a, b)",
        )
        .bind(AUTHORITY)
        .bind(chunk.iter().map(|g| g.person).collect::<Vec<_>>())
        .bind(chunk.iter().map(Generated::holder_key).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.fund).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.funding).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.balance).collect::<Vec<_>>())
        .execute(pool)
        .await
        .context("seed fund links")?;
        let held: Vec<&Generated> = chunk
            .iter()
            .filter(|g| g.holding_model == "authority")
            .collect();
        sqlx::query(
            "INSERT INTO fund_payee (fund_id, payee_id, payable_account_id) \
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[])",
        )
        .bind(held.iter().map(|g| g.fund).collect::<Vec<_>>())
        .bind(held.iter().map(|g| g.payee).collect::<Vec<_>>())
        .bind(held.iter().map(|g| g.payable).collect::<Vec<_>>())
        .execute(pool)
        .await
        .context("seed fund payees")?;
    }
    sqlx::query("ANALYZE schedule, schedule_version, schedule_line, fund_link, fund_payee")
        .execute(pool)
        .await
        .context("analyze payments' seeded tables")?;
    Ok(())
}

/// Writes each schedule's fund and its accounts (balance, authority funding, a payable for
/// the provider, management fee) into the ledger's tables through `pool`.
pub async fn seed_funds(pool: &PgPool, generated: &[Generated]) -> anyhow::Result<()> {
    for chunk in generated.chunks(ROWS_PER_STATEMENT) {
        sqlx::query(
            "INSERT INTO fund (id, authority, person_id, holding_model, holder_id, \
                 weekly_budget_pence, overdraft_limit_pence, opened_on, opened_by) \
             SELECT f, $1, p, h, k, 30000, 0, DATE '2026-04-01', 'bench' \
             FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], $5::text[]) AS s(f, p, h, k)",
        )
        .bind(AUTHORITY)
        .bind(chunk.iter().map(|g| g.fund).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.person).collect::<Vec<_>>())
        .bind(chunk.iter().map(|g| g.holding_model).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(Generated::ledger_holder)
                .collect::<Vec<_>>(),
        )
        .execute(pool)
        .await
        .context("seed funds")?;
        let mut ids = Vec::with_capacity(chunk.len() * 4);
        let mut funds = Vec::with_capacity(chunk.len() * 4);
        let mut kinds = Vec::with_capacity(chunk.len() * 4);
        let mut payees: Vec<Option<Uuid>> = Vec::with_capacity(chunk.len() * 4);
        for g in chunk {
            for (id, kind, payee) in [
                (g.balance, "fund_balance", None),
                (g.funding, "authority_funding", None),
                (g.payable, "payable", Some(g.payee)),
                (Uuid::now_v7(), "management_fee", None),
            ] {
                ids.push(id);
                funds.push(g.fund);
                kinds.push(kind);
                payees.push(payee);
            }
        }
        sqlx::query(
            "INSERT INTO account (id, fund_id, kind, payee_id) \
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::uuid[])",
        )
        .bind(ids)
        .bind(funds)
        .bind(kinds)
        .bind(payees)
        .execute(pool)
        .await
        .context("seed accounts")?;
    }
    sqlx::query("ANALYZE fund, account")
        .execute(pool)
        .await
        .context("analyze the ledger's seeded tables")?;
    Ok(())
}
