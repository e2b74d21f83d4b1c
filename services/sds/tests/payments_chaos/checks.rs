//! What must hold after every fault: each instalment paid once, the ledger's transfers
//! exactly those derived from the instalments, the exports equal to the ledger, the audit
//! clean and the run's events published once.

use super::driving::*;
use super::support::*;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use futures::TryStreamExt as _;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use sds::payment_run_seed::{self as seed, AUTHORITY};
use sds_payments::exports::run_files::{BACS, JOURNAL, PAIN001};
use sds_payments::runs::transfer_id;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

fn pence(amount: Decimal) -> i64 {
    let pence = amount * Decimal::ONE_HUNDRED;
    assert!(pence.fract().is_zero(), "{amount} is not whole pence");
    pence.to_i64().expect("an amount in range")
}

pub fn pence_of_text(text: &str) -> i64 {
    pence(
        text.parse()
            .unwrap_or_else(|error| panic!("{text:?} is not an amount: {error}")),
    )
}

/// Compares two maps of many entries, naming the first few differences (not printing
/// thousands of entries).
pub fn assert_same<K, V>(what: &str, expected: &HashMap<K, V>, actual: &HashMap<K, V>)
where
    K: std::hash::Hash + Eq + std::fmt::Debug,
    V: PartialEq + std::fmt::Debug,
{
    let mut differences: Vec<String> = expected
        .iter()
        .filter(|(key, value)| actual.get(*key) != Some(*value))
        .map(|(key, value)| format!("{key:?}: expected {value:?}, found {:?}", actual.get(key)))
        .collect();
    differences.extend(
        actual
            .iter()
            .filter(|(key, _)| !expected.contains_key(*key))
            .map(|(key, value)| format!("{key:?}: unexpected {value:?}")),
    );
    let count = differences.len();
    differences.truncate(5);
    assert!(
        differences.is_empty(),
        "{what}: {count} differences ({} expected, {} found), first: {differences:#?}",
        expected.len(),
        actual.len()
    );
}

/// A run as recorded: id, status, instalments, total and files.
type RunRow = (Uuid, String, Option<i32>, Option<Decimal>, Vec<String>);

/// The bar: the run completed, each instalment is posted once by it, the ledger holds
/// exactly the transfers derived from them, and the exports say what the ledger says.
pub async fn assert_paid_exactly_once(server: &ServerProcess, observer: &PgPool, summary: &Value) {
    let run_id = run_id_of(summary);
    let runs: Vec<RunRow> = sqlx::query_as(
        "SELECT run_id, status, instalments, total, files FROM payments.payment_run",
    )
    .fetch_all(observer)
    .await
    .expect("read the runs");
    assert_eq!(
        runs.iter()
            .map(|(id, status, ..)| (*id, status.as_str()))
            .collect::<Vec<_>>(),
        vec![(run_id, "completed")],
        "the run stopped by the fault is the one that completed, and the only one"
    );
    let (_, _, run_instalments, run_total, run_files) = &runs[0];

    let instalments: Vec<(Uuid, NaiveDate, Decimal, bool, Uuid, String)> = sqlx::query_as(
        "SELECT i.agreement_id, i.period_start, i.amount, i.posted, i.run_id, s.holding_model \
         FROM payments.instalment_payment i \
         JOIN payments.schedule s ON s.agreement_id = i.agreement_id",
    )
    .fetch_all(observer)
    .await
    .expect("read the instalments");
    assert!(!instalments.is_empty(), "the run chose no instalments");
    let unposted = instalments.iter().filter(|row| !row.3).count();
    let others = instalments.iter().filter(|row| row.4 != run_id).count();
    assert_eq!(
        (unposted, others),
        (0, 0),
        "instalments left unposted, or chosen by another run"
    );

    // What the ledger must hold: each instalment above 0.00 funded once, and paid on once
    // from an authority-held fund.
    let mut expected: HashMap<Uuid, (i64, String)> = HashMap::new();
    let mut paid: HashMap<(Uuid, NaiveDate), i64> = HashMap::new();
    for (agreement, start, amount, ..) in &instalments {
        let amount = pence(*amount);
        if amount > 0 {
            paid.insert((*agreement, *start), amount);
        }
    }
    for (agreement, start, _, _, _, holding_model) in &instalments {
        let Some(amount) = paid.get(&(*agreement, *start)).copied() else {
            continue;
        };
        expected.insert(
            transfer_id(*agreement, *start, "funding"),
            (amount, "funding".to_owned()),
        );
        if holding_model == "authority" {
            expected.insert(
                transfer_id(*agreement, *start, "payment"),
                (amount, "support_payment".to_owned()),
            );
        }
    }
    let total: i64 = paid.values().sum();
    eprintln!(
        "{} instalments chosen, {} paid, {} transfers, {total} pence",
        instalments.len(),
        paid.len(),
        expected.len()
    );

    let transfers: Vec<(Uuid, i64, String)> =
        sqlx::query_as("SELECT id, amount_pence, category FROM ledger.transfer")
            .fetch_all(observer)
            .await
            .expect("read the ledger's transfers");
    let ids: HashSet<Uuid> = transfers.iter().map(|(id, ..)| *id).collect();
    assert_eq!(
        ids.len(),
        transfers.len(),
        "a transfer id twice in the ledger"
    );
    let recorded: HashMap<Uuid, (i64, String)> = transfers
        .into_iter()
        .map(|(id, amount, category)| (id, (amount, category)))
        .collect();
    assert_same("the ledger's transfers", &expected, &recorded);
    let funded: i64 = recorded
        .values()
        .filter(|(_, category)| category == "funding")
        .map(|(amount, _)| amount)
        .sum();
    assert_eq!(
        funded, total,
        "the ledger's funding against the instalments"
    );

    // The run's own figures, as recorded and as answered.
    assert_eq!(
        (
            run_instalments.and_then(|n| usize::try_from(n).ok()),
            run_total.map(pence)
        ),
        (Some(paid.len()), Some(total)),
        "the run's recorded figures"
    );
    assert_eq!(
        (
            summary["instalments"]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok()),
            summary["total"].as_str().map(pence_of_text)
        ),
        (Some(paid.len()), Some(total)),
        "the run's answer: {summary}"
    );

    // The exports: in the run's folder, from what was posted.
    let folder = server
        .exports_dir()
        .join(AUTHORITY)
        .join(format!("{}_{run_id}", seed::run_date()));
    let files: Vec<String> = [JOURNAL, BACS, PAIN001]
        .iter()
        .map(|name| folder.join(name).display().to_string())
        .collect();
    assert_eq!(run_files, &files, "the run's recorded files");
    assert_eq!(
        summary["files"],
        serde_json::json!(files),
        "the answer's files"
    );
    let mut in_folder: Vec<String> = std::fs::read_dir(&folder)
        .expect("the run's folder")
        .map(|entry| {
            entry
                .expect("a folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    in_folder.sort();
    let mut names = vec![BACS, JOURNAL, PAIN001];
    names.sort_unstable();
    assert_eq!(
        in_folder, names,
        "the run's folder holds its files and nothing half-written"
    );
    assert_journal(&folder.join(JOURNAL), &paid, total);
    assert_bacs(&folder.join(BACS), total);
    assert_pain001(&folder.join(PAIN001), total);
}

/// One debit line per instalment paid, of its amount, and credits of the same total.
pub fn assert_journal(path: &Path, paid: &HashMap<(Uuid, NaiveDate), i64>, total: i64) {
    let text = std::fs::read_to_string(path).expect("read the journal");
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("the journal's header")
        .split(',')
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|column| *column == name)
            .unwrap_or_else(|| panic!("no {name} column in the journal"))
    };
    let (debit, credit, agreement, start) = (
        column("debit"),
        column("credit"),
        column("agreement_id"),
        column("period_start"),
    );
    let mut debits: HashMap<(Uuid, NaiveDate), i64> = HashMap::new();
    let mut twice = Vec::new();
    let mut credits = 0;
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), header.len(), "journal line {line}");
        if !fields[debit].is_empty() {
            let key = (
                fields[agreement].parse().expect("an agreement id"),
                fields[start].parse().expect("a period start"),
            );
            if debits.insert(key, pence_of_text(fields[debit])).is_some() {
                twice.push(key);
            }
        }
        if !fields[credit].is_empty() {
            credits += pence_of_text(fields[credit]);
        }
    }
    assert!(
        twice.is_empty(),
        "instalments debited twice in the journal: {twice:?}"
    );
    assert_same("the journal's debits", paid, &debits);
    assert_eq!(
        (debits.values().sum::<i64>(), credits),
        (total, total),
        "the journal's debit and credit totals"
    );
}

/// The UTL1 trailer's debit (the contra) and credit totals.
pub fn assert_bacs(path: &Path, total: i64) {
    let text = std::fs::read_to_string(path).expect("read the Bacs file");
    let utl1 = text
        .lines()
        .find(|line| line.starts_with("UTL1"))
        .expect("a UTL1 trailer");
    // UTL1, then the debit value and the credit value, 13 digits each, in pence.
    let value = |range: std::ops::Range<usize>| -> i64 {
        utl1.get(range)
            .and_then(|digits| digits.parse().ok())
            .unwrap_or_else(|| panic!("UTL1 values in {utl1:?}"))
    };
    assert_eq!(
        (value(4..17), value(17..30)),
        (total, total),
        "the Bacs file's UTL1 debit and credit totals"
    );
}

/// Every CtrlSum (the group header's and the payment information's).
pub fn assert_pain001(path: &Path, total: i64) {
    let text = std::fs::read_to_string(path).expect("read the pain.001 file");
    let sums: Vec<i64> = text
        .split("<CtrlSum>")
        .skip(1)
        .map(|rest| pence_of_text(rest.split("</CtrlSum>").next().expect("a closed CtrlSum")))
        .collect();
    assert_eq!(sums, vec![total, total], "the pain.001 CtrlSums");
}

/// Running the date once more finds nothing due: no instalment was left out.
pub async fn assert_nothing_left_due(server: &ServerProcess, token: &str) {
    let again = run_until_complete(server, token).await;
    let summary = last_line_json(&again.output);
    assert_eq!(
        (&summary["instalments"], &summary["total"]),
        (&serde_json::json!(0), &serde_json::json!("0.00")),
        "the same date run again paid something: {summary}"
    );
}

/// `sds ledger audit` exits 0 with no violations, over every transfer in the ledger.
pub async fn assert_audit_clean(server: &ServerProcess, observer: &PgPool) {
    let transfers: i64 = sqlx::query_scalar("SELECT count(*) FROM ledger.transfer")
        .fetch_one(observer)
        .await
        .expect("count the ledger's transfers");
    let audit = server.run(&["ledger", "audit"], None);
    let report = last_line_json(&audit);
    assert!(
        audit.status.success() && report["violations"] == serde_json::json!([]),
        "the audit: {report}\n{}",
        stderr_of(&audit)
    );
    assert_eq!(report["transfers"], transfers, "the audit's transfers");
}

/// Each of the run's events (`payment.run.completed`, `remittance.issued`) is in the stream
/// exactly once: as many as payments enqueued, each subject counted by JetStream, which
/// drops a second publish of the same event id.
pub async fn assert_run_events_published_once(server: &ServerProcess, observer: &PgPool) {
    let enqueued: Vec<(String, i64)> =
        sqlx::query_as("SELECT subject, count(*) FROM payments.outbox GROUP BY subject")
            .fetch_all(observer)
            .await
            .expect("read payments' outbox");
    let enqueued: HashMap<String, usize> = enqueued
        .into_iter()
        .map(|(subject, count)| (subject, usize::try_from(count).expect("a count")))
        .collect();
    assert!(
        enqueued.contains_key(&format!("sds.{AUTHORITY}.payment.run.completed")),
        "the run enqueued no payment.run.completed: {enqueued:?}"
    );
    let client = sds_runtime::connect_nats(server.setting("SDS_NATS_URL"))
        .await
        .expect("connect to NATS");
    let stream = async_nats::jetstream::new(client)
        .get_stream("SDS_EVENTS")
        .await
        .expect("the event stream");
    let mut in_stream: HashMap<String, usize> = HashMap::new();
    for subject in enqueued.keys() {
        let counts: Vec<(String, usize)> = stream
            .info_with_subjects(subject)
            .await
            .expect("count the stream's subjects")
            .try_collect()
            .await
            .expect("count the stream's subjects");
        in_stream.insert(
            subject.clone(),
            counts.into_iter().map(|(_, count)| count).sum(),
        );
    }
    assert_same("the run's events in the stream", &enqueued, &in_stream);
}
