//! What `sds chaos payment-run` checks once the run has completed: every instalment paid
//! exactly once (the ledger holds exactly the transfers derived from the run's instalments),
//! the exports saying what the ledger says, the ledger's audit, and every remittance told to
//! its payee's portal inbox once, numbered without a gap.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use sds_payments::exports::run_files::{BACS, JOURNAL, PAIN001};
use sds_payments::runs::transfer_id;
use sqlx::PgPool;
use uuid::Uuid;

/// What the books say after the run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Books {
    pub instalments: u64,
    /// Ledger transfers beyond one of each derived from an instalment (or of another amount).
    pub paid_more_than_once: u64,
    /// Instalments above 0.00 the ledger holds no (or not all) derived transfers of, or left
    /// unposted.
    pub unpaid: u64,
    /// The run's total in pence, as the instalments say.
    pub total_pence: i64,
}

fn pence(amount: Decimal) -> anyhow::Result<i64> {
    let pence = amount * Decimal::ONE_HUNDRED;
    ensure!(pence.fract().is_zero(), "{amount} is not whole pence");
    pence.to_i64().context("an amount in range")
}

/// Compares the run's instalments with the ledger's transfers of the run's funds.
pub async fn paid_once(observer: &PgPool, run_id: Uuid) -> anyhow::Result<Books> {
    let instalments: Vec<(Uuid, NaiveDate, Decimal, bool, String)> = sqlx::query_as(
        "SELECT i.agreement_id, i.period_start, i.amount, i.posted, s.holding_model \
         FROM payments.instalment_payment i \
         JOIN payments.schedule s ON s.agreement_id = i.agreement_id WHERE i.run_id = $1",
    )
    .bind(run_id)
    .fetch_all(observer)
    .await
    .context("read the run's instalments")?;
    let mut expected: HashMap<Uuid, i64> = HashMap::new();
    let mut unpaid = 0;
    let mut total_pence = 0;
    for (agreement, start, amount, posted, holding_model) in &instalments {
        let amount = pence(*amount)?;
        if !posted {
            unpaid += 1;
        }
        if amount == 0 {
            continue;
        }
        total_pence += amount;
        expected.insert(transfer_id(*agreement, *start, "funding"), amount);
        if holding_model == "authority" {
            expected.insert(transfer_id(*agreement, *start, "payment"), amount);
        }
    }
    // Every transfer into or out of the funds the run paid.
    let recorded: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT t.id, t.amount_pence FROM ledger.transfer t \
         WHERE t.fund_id IN (SELECT f.fund_id FROM payments.fund_link f \
             JOIN payments.schedule s ON s.authority = f.authority AND s.person_id = f.person_id \
             JOIN payments.instalment_payment i ON i.agreement_id = s.agreement_id \
             WHERE i.run_id = $1)",
    )
    .bind(run_id)
    .fetch_all(observer)
    .await
    .context("read the ledger's transfers of the run's funds")?;
    let recorded: HashMap<Uuid, i64> = recorded.into_iter().collect();
    let mut paid_more_than_once = 0;
    for (id, amount) in &recorded {
        if expected.get(id) != Some(amount) {
            paid_more_than_once += 1;
        }
    }
    let missing: HashSet<(Uuid, NaiveDate)> = instalments
        .iter()
        .filter(|(agreement, start, amount, ..)| {
            !amount.is_zero() && !recorded.contains_key(&transfer_id(*agreement, *start, "funding"))
        })
        .map(|(agreement, start, ..)| (*agreement, *start))
        .collect();
    unpaid += u64::try_from(missing.len()).unwrap_or(u64::MAX);
    Ok(Books {
        instalments: u64::try_from(instalments.len()).unwrap_or(u64::MAX),
        paid_more_than_once,
        unpaid,
        total_pence,
    })
}

/// The run's journal, Bacs file and pain.001 file each carry the run's total.
pub fn exports_say(folder: &Path, total_pence: i64) -> anyhow::Result<()> {
    let journal = std::fs::read_to_string(folder.join(JOURNAL))
        .with_context(|| format!("read {}", folder.join(JOURNAL).display()))?;
    let mut lines = journal.lines();
    let header: Vec<&str> = lines
        .next()
        .context("the journal's header")?
        .split(',')
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|column| *column == name)
            .with_context(|| format!("no {name} column in the journal"))
    };
    let (debit, credit) = (column("debit")?, column("credit")?);
    let (mut debits, mut credits) = (0, 0);
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if let Some(amount) = fields.get(debit).filter(|text| !text.is_empty()) {
            debits += pence(amount.parse()?)?;
        }
        if let Some(amount) = fields.get(credit).filter(|text| !text.is_empty()) {
            credits += pence(amount.parse()?)?;
        }
    }
    ensure!(
        (debits, credits) == (total_pence, total_pence),
        "the journal's debits {debits} and credits {credits} are not the ledger's {total_pence} pence"
    );
    let bacs = std::fs::read_to_string(folder.join(BACS)).context("read the Bacs file")?;
    let utl1 = bacs
        .lines()
        .find(|line| line.starts_with("UTL1"))
        .context("the Bacs file has no UTL1 trailer")?;
    let value = |range: std::ops::Range<usize>| -> anyhow::Result<i64> {
        utl1.get(range)
            .and_then(|digits| digits.parse().ok())
            .with_context(|| format!("UTL1 values in {utl1:?}"))
    };
    ensure!(
        (value(4..17)?, value(17..30)?) == (total_pence, total_pence),
        "the Bacs file's totals are not the ledger's {total_pence} pence: {utl1}"
    );
    let pain = std::fs::read_to_string(folder.join(PAIN001)).context("read the pain.001 file")?;
    for sum in pain.split("<CtrlSum>").skip(1) {
        let text = sum.split("</CtrlSum>").next().unwrap_or_default();
        ensure!(
            pence(text.parse()?)? == total_pence,
            "a pain.001 CtrlSum {text} is not the ledger's {total_pence} pence"
        );
    }
    Ok(())
}

/// How the run's remittances reached the payees' portal inboxes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Told {
    pub remittances: u64,
    /// Remittances no inbox holds, and numbers missing from an inbox's sequence.
    pub lost: u64,
    /// Notifications beyond one of each remittance.
    pub duplicated: u64,
}

/// Waits (up to `deadline`) until every remittance of the run is in its payee's inbox, then
/// counts what is missing or doubled.
pub async fn remittances_told(
    observer: &PgPool,
    run_id: Uuid,
    deadline: Duration,
) -> anyhow::Result<Told> {
    let started = std::time::Instant::now();
    loop {
        let told = count_told(observer, run_id).await?;
        if told.lost == 0 || started.elapsed() >= deadline {
            return Ok(told);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn count_told(observer: &PgPool, run_id: Uuid) -> anyhow::Result<Told> {
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT r.number, count(n.seq) FROM payments.remittance r \
         LEFT JOIN portal.notification n ON n.kind = 'remittance_issued' \
             AND n.subscriber_id = r.payee_id AND n.body ->> 'number' = r.number \
         WHERE r.run_id = $1 GROUP BY r.number",
    )
    .bind(run_id)
    .fetch_all(observer)
    .await
    .context("match remittances with notifications")?;
    let mut told = Told {
        remittances: u64::try_from(counts.len()).unwrap_or(u64::MAX),
        ..Told::default()
    };
    for (_, count) in counts {
        match count {
            0 => told.lost += 1,
            n => told.duplicated += u64::try_from(n - 1).unwrap_or_default(),
        }
    }
    // Each payee's inbox is numbered 1, 2, 3, ...: a gap is a notification lost after it
    // was numbered.
    let gaps: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(s.last_seq - s.pruned_through - counted.kept), 0)::bigint \
         FROM portal.subscriber s \
         JOIN (SELECT subscriber_kind, subscriber_id, count(*) AS kept \
               FROM portal.notification GROUP BY 1, 2) counted \
             ON counted.subscriber_kind = s.kind AND counted.subscriber_id = s.org_id \
         WHERE s.org_id IN (SELECT payee_id FROM payments.remittance WHERE run_id = $1)",
    )
    .bind(run_id)
    .fetch_one(observer)
    .await
    .context("look for gaps in the payees' inboxes")?;
    told.lost += u64::try_from(gaps).unwrap_or_default();
    Ok(told)
}
