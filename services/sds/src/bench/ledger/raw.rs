//! The raw baselines: the same debit/credit/balance SQL with no service in between, in a
//! scratch database of its own migrated exactly as the service's (same tables, indexes,
//! constraints, foreign keys and triggers), so the raw rows never reach the books the
//! audit reads. Raw rows carry no hash-chain link (`chain_link_id` NULL) and no outbox event:
//! the chain and `ledger.posted` are work the service does and the baseline does not.
//!
//! - one posting a transaction: lock both accounts in id order (reading their sums),
//!   check the fund's balance, insert the transfer and its two entries, update both sums;
//! - batched: the same for many transfers a transaction, set-based (`UNNEST` inserts, one
//!   `UPDATE ... FROM UNNEST` of the summed movements);
//! - bulk: `COPY` of the transfers and of the entries, then one set-based update of every
//!   balance touched, in one transaction.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use anyhow::{Context as _, ensure};
use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::clients::{self, Measured};
use super::workload::{AUTHORITY, Category, Planned};

/// Connections to the raw scratch database, one per client.
pub struct Raw {
    pool: PgPool,
    clients: usize,
}

/// Each account's movement over a set of transfers: (debits, credits) in pence.
fn movements(planned: &[Planned]) -> BTreeMap<Uuid, (i64, i64)> {
    let mut moved: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
    for transfer in planned {
        moved.entry(transfer.debit).or_default().0 += transfer.amount;
        moved.entry(transfer.credit).or_default().1 += transfer.amount;
    }
    moved
}

impl Raw {
    /// `pool` works in the ledger's schema with at least `clients` connections.
    pub fn new(pool: PgPool, clients: usize) -> Raw {
        Raw {
            pool,
            clients: clients.max(1),
        }
    }

    /// Posts `planned`, `per_transaction` transfers a transaction (one posting at a time
    /// when 1), from every connection at once.
    pub async fn post(
        &self,
        planned: Arc<Vec<Planned>>,
        per_transaction: usize,
    ) -> anyhow::Result<Measured> {
        let per_transaction = per_transaction.max(1);
        let calls = planned.len().div_ceil(per_transaction);
        let pool = self.pool.clone();
        clients::run(self.clients, calls, per_transaction, move |_, index| {
            let pool = pool.clone();
            let planned = Arc::clone(&planned);
            async move {
                let end = planned.len().min((index + 1) * per_transaction);
                let transfers = &planned[index * per_transaction..end];
                let mut transaction = pool.begin().await?;
                if let [one] = transfers {
                    post_one(&mut transaction, one).await?;
                } else {
                    post_batch(&mut transaction, transfers).await?;
                }
                transaction.commit().await?;
                Ok(())
            }
        })
        .await
    }

    /// Writes `planned` in one transaction: `COPY` of the transfers and the entries, then
    /// one update of the balances they touch.
    pub async fn bulk(&self, planned: &[Planned]) -> anyhow::Result<Measured> {
        let started = std::time::Instant::now();
        let mut transaction = self.pool.begin().await?;
        // A fixed moment in COPY's text form, as the service records one `now` per write.
        let now = Utc::now().format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
        let today = Utc::now().date_naive().to_string();
        let batch = Uuid::now_v7();
        let mut copy = transaction
            .copy_in_raw(
                "COPY transfer (id, batch_id, fund_id, credit_fund_id, debit_account_id, \
                     credit_account_id, amount_pence, category, reference, note, pending, \
                     created_at, created_on, created_by) FROM STDIN",
            )
            .await?;
        let mut text = String::new();
        for chunk in planned.chunks(10_000) {
            text.clear();
            for t in chunk {
                writeln!(
                    text,
                    "{}\t{batch}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t\tf\t{now}\t{today}\t{AUTHORITY}",
                    t.id,
                    t.fund,
                    t.fund,
                    t.debit,
                    t.credit,
                    t.amount,
                    t.category.name(),
                    t.reference
                )?;
            }
            copy.send(text.as_bytes()).await?;
        }
        copy.finish().await?;
        let mut copy = transaction
            .copy_in_raw(
                "COPY entry (transfer_id, account_id, amount_pence, posted_at, posted_on) \
                 FROM STDIN",
            )
            .await?;
        for chunk in planned.chunks(10_000) {
            text.clear();
            for t in chunk {
                writeln!(text, "{}\t{}\t-{}\t{now}\t{today}", t.id, t.debit, t.amount)?;
                writeln!(text, "{}\t{}\t{}\t{now}\t{today}", t.id, t.credit, t.amount)?;
            }
            copy.send(text.as_bytes()).await?;
        }
        copy.finish().await?;
        update_sums(&mut transaction, &movements(planned)).await?;
        transaction.commit().await?;
        let elapsed = started.elapsed();
        Ok(Measured {
            transfers: u64::try_from(planned.len()).unwrap_or(u64::MAX),
            elapsed,
            latencies: vec![elapsed],
        })
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// Locks `accounts` in id order and reads their balances (credits less debits).
async fn lock(
    connection: &mut PgConnection,
    accounts: &[Uuid],
) -> anyhow::Result<BTreeMap<Uuid, i64>> {
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT id, credits_posted - debits_posted FROM account WHERE id = ANY($1) \
         ORDER BY id FOR UPDATE",
    )
    .bind(accounts)
    .fetch_all(&mut *connection)
    .await
    .context("lock accounts")?;
    ensure!(rows.len() == accounts.len(), "an account is missing");
    Ok(rows.into_iter().collect())
}

/// Applies `transfers` in order to the locked `balances`, refusing one that would take an
/// account other than authority funding below zero, as the service's book refuses a fund
/// overdrawn.
fn check(mut balances: BTreeMap<Uuid, i64>, transfers: &[Planned]) -> anyhow::Result<()> {
    for transfer in transfers {
        let debit = balances.entry(transfer.debit).or_default();
        *debit -= transfer.amount;
        ensure!(
            *debit >= 0 || transfer.category == Category::Funding,
            "transfer {} would overdraw account {}",
            transfer.id,
            transfer.debit
        );
        *balances.entry(transfer.credit).or_default() += transfer.amount;
    }
    Ok(())
}

/// One posting: the accounts locked, the balance checked, the transfer, its two entries and
/// both sums written.
async fn post_one(connection: &mut PgConnection, transfer: &Planned) -> anyhow::Result<()> {
    let balances = lock(connection, &[transfer.debit, transfer.credit]).await?;
    check(balances, std::slice::from_ref(transfer))?;
    sqlx::query(
        "INSERT INTO transfer (id, batch_id, fund_id, credit_fund_id, debit_account_id, \
             credit_account_id, amount_pence, category, reference, note, pending, created_at, \
             created_on, created_by) \
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, '', false, now(), CURRENT_DATE, $9)",
    )
    .bind(transfer.id)
    .bind(Uuid::now_v7())
    .bind(transfer.fund)
    .bind(transfer.debit)
    .bind(transfer.credit)
    .bind(transfer.amount)
    .bind(transfer.category.name())
    .bind(&transfer.reference)
    .bind(AUTHORITY)
    .execute(&mut *connection)
    .await
    .context("insert transfer")?;
    sqlx::query(
        "INSERT INTO entry (transfer_id, account_id, amount_pence, posted_at, posted_on) \
         VALUES ($1, $2, -$4::bigint, now(), CURRENT_DATE), ($1, $3, $4, now(), CURRENT_DATE)",
    )
    .bind(transfer.id)
    .bind(transfer.debit)
    .bind(transfer.credit)
    .bind(transfer.amount)
    .execute(&mut *connection)
    .await
    .context("insert entries")?;
    sqlx::query(
        "UPDATE account SET \
             debits_posted = debits_posted + CASE WHEN id = $1 THEN $3 ELSE 0 END, \
             credits_posted = credits_posted + CASE WHEN id = $2 THEN $3 ELSE 0 END, \
             version = version + 1 \
         WHERE id IN ($1, $2)",
    )
    .bind(transfer.debit)
    .bind(transfer.credit)
    .bind(transfer.amount)
    .execute(&mut *connection)
    .await
    .context("update sums")?;
    Ok(())
}

/// Many postings set-based: the accounts locked in id order, the transfers and entries
/// inserted with `UNNEST`, the summed movements written in one update.
async fn post_batch(connection: &mut PgConnection, transfers: &[Planned]) -> anyhow::Result<()> {
    let moved = movements(transfers);
    let accounts: Vec<Uuid> = moved.keys().copied().collect();
    check(lock(connection, &accounts).await?, transfers)?;
    let column = |pick: fn(&Planned) -> Uuid| transfers.iter().map(pick).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO transfer (id, batch_id, fund_id, credit_fund_id, debit_account_id, \
             credit_account_id, amount_pence, category, reference, note, pending, created_at, \
             created_on, created_by) \
         SELECT id, $1, fund, fund, debit, credit, amount, category, reference, '', false, \
             now(), CURRENT_DATE, $9 \
         FROM UNNEST($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::bigint[], $7::text[], \
             $8::text[]) AS t(id, fund, debit, credit, amount, category, reference)",
    )
    .bind(Uuid::now_v7())
    .bind(column(|t| t.id))
    .bind(column(|t| t.fund))
    .bind(column(|t| t.debit))
    .bind(column(|t| t.credit))
    .bind(transfers.iter().map(|t| t.amount).collect::<Vec<_>>())
    .bind(
        transfers
            .iter()
            .map(|t| t.category.name())
            .collect::<Vec<_>>(),
    )
    .bind(
        transfers
            .iter()
            .map(|t| t.reference.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(AUTHORITY)
    .execute(&mut *connection)
    .await
    .context("insert transfers")?;
    let (ids, accounts, amounts): (Vec<Uuid>, Vec<Uuid>, Vec<i64>) = transfers
        .iter()
        .flat_map(|t| [(t.id, t.debit, -t.amount), (t.id, t.credit, t.amount)])
        .fold(
            (Vec::new(), Vec::new(), Vec::new()),
            |(mut ids, mut accounts, mut amounts), (id, account, amount)| {
                ids.push(id);
                accounts.push(account);
                amounts.push(amount);
                (ids, accounts, amounts)
            },
        );
    sqlx::query(
        "INSERT INTO entry (transfer_id, account_id, amount_pence, posted_at, posted_on) \
         SELECT id, account, amount, now(), CURRENT_DATE \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[]) AS e(id, account, amount)",
    )
    .bind(ids)
    .bind(accounts)
    .bind(amounts)
    .execute(&mut *connection)
    .await
    .context("insert entries")?;
    update_sums(connection, &moved).await
}

/// One update of every account in `moved`, each by its summed movement.
async fn update_sums(
    connection: &mut PgConnection,
    moved: &BTreeMap<Uuid, (i64, i64)>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE account a SET debits_posted = a.debits_posted + m.debits, \
             credits_posted = a.credits_posted + m.credits, version = a.version + 1 \
         FROM UNNEST($1::uuid[], $2::bigint[], $3::bigint[]) AS m(id, debits, credits) \
         WHERE a.id = m.id",
    )
    .bind(moved.keys().copied().collect::<Vec<_>>())
    .bind(moved.values().map(|m| m.0).collect::<Vec<_>>())
    .bind(moved.values().map(|m| m.1).collect::<Vec<_>>())
    .execute(&mut *connection)
    .await
    .context("update sums")?;
    Ok(())
}
