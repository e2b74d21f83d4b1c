//! Chaos for payment runs, the bar: `sds serve` killed with SIGKILL mid-run, NATS
//! restarted mid-run and PostgreSQL restarted mid-run; afterwards each instalment is paid
//! exactly once, the run's exports match the ledger, and `sds ledger audit` is clean.
//!
//! Each test seeds [`LINES`] schedule lines straight into payments' and the ledger's tables
//! (the benchmark's generator, `sds::payment_run_seed`: schedules as agreements would have
//! made them, funds as a first run would have opened them, a bank account for every payee),
//! so that one run of the real `sds` binary lasts seconds. It starts `sds payments run` as
//! the authority's finance staff, polls the database until the run is in the middle of
//! posting (the ledger holds some of the run's transfers while payments has not yet marked
//! every instalment posted: the moment a crash costs most), and breaks something there.
//! Then it runs the same date again until the run completes, as finance staff are told to,
//! and checks:
//! - the run was finished, not replaced: one run, completed, after the fault;
//! - every instalment is posted, by that run, and the ledger holds exactly the transfers
//!   derived from them (`sds_payments::runs::transfer_id`: a funding transfer for each
//!   instalment above 0.00, and a payment on for an authority-held fund), no id twice, each
//!   of its instalment's amount, so the ledger's funding total is the instalments' total;
//! - the journal's debits (one per instalment, each its amount) and credits, the Bacs
//!   file's UTL1 credit and debit totals and each pain.001 CtrlSum are that total, and the
//!   run's answer says the same;
//! - `sds ledger audit` exits 0 with no violations over exactly those transfers;
//! - running the same date once more pays nothing (no instalment was left out);
//! - every call that failed on the way said to try again (`Unavailable`, or another call
//!   in progress), never `Internal`: finance staff must be able to tell what to do.
//!
//! What must stay true: only real components (the `sds` binary, PostgreSQL, NATS), and
//! each fault lands mid-run, which each test shows from the database rather than assumes;
//! waits poll with a deadline. The whole file takes a few minutes at most on 2 cores: keep
//! [`LINES`] as small as still gives a posting phase long enough to break into.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt as _;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use sds::payment_run_seed::{self as seed, AUTHORITY};
use sds_payments::exports::run_files::{BACS, JOURNAL, PAIN001};
use sds_payments::runs::transfer_id;
use sds_testkit::{PrivatePostgres, wait_until};
use serde_json::Value;
use sqlx::PgPool;
use support::*;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Schedule lines seeded (about half as many schedules). Enough that the run posts more
/// than one ledger chunk (10,000 transfers), so posting takes long enough to break into.
const LINES: usize = 30_000;

/// How long a run (or finishing it) may take before the test gives up.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_with_sigkill_mid_posting_is_finished_by_running_it_again_and_pays_each_instalment_once()
 {
    let mut server = ServerProcess::start().await;
    seed_schedules(&server).await;
    let observer = observe(&server).await;
    let token = finance_token(&server);

    let mut call = start_run(&server, &token);
    wait_until_mid_posting(&observer, &mut call).await;
    // `Child::kill` is SIGKILL: no drain, nothing in the process gets to finish.
    server.child.kill().expect("SIGKILL sds serve");
    server.child.wait().expect("reap sds serve");
    let interrupted = call.await.expect("the interrupted call");
    assert!(
        !interrupted.status.success(),
        "the killed run answered as if complete: {}",
        stdout_of(&interrupted)
    );

    // The process is gone, so this is what it left: a run half posted.
    let (status, unposted, transfers) = left_behind(&observer).await;
    assert!(
        status != "completed" && unposted > 0 && transfers > 0,
        "the kill did not land mid-posting: run {status}, {unposted} instalments unposted, {transfers} transfers in the ledger"
    );

    eprintln!(
        "killed mid-posting: {unposted} instalments unposted, {transfers} transfers recorded"
    );
    server.restart().await;
    let finished = run_until_complete(&server, &token).await;
    // The killed run is finished, not started afresh.
    assert!(
        stderr_of(&finished.output).contains("that an earlier call had started"),
        "the run after the restart did not say it finished the killed run: {}",
        stderr_of(&finished.output)
    );
    let mut answers = failed_answer(&interrupted);
    answers.extend(finished.failures.iter().cloned());

    let summary = last_line_json(&finished.output);
    assert_paid_exactly_once(&server, &observer, &summary).await;
    assert_nothing_left_due(&server, &token).await;
    assert_audit_clean(&server, &observer).await;
    assert_only_retryable(&answers);
    observer.close().await;
    let _ = std::fs::remove_dir_all(server.exports_dir());
}

#[tokio::test(flavor = "multi_thread")]
async fn nats_restarted_mid_posting_neither_stops_the_run_nor_loses_its_events_and_each_instalment_is_paid_once()
 {
    let mut server = ServerProcess::start().await;
    seed_schedules(&server).await;
    let observer = observe(&server).await;
    let token = finance_token(&server);

    let mut call = start_run(&server, &token);
    wait_until_mid_posting(&observer, &mut call).await;
    server.nats.stop();
    let stopped_at = database_now(&observer).await;
    // NATS stays away until the outage has held back at least one of the run's events (the
    // ledger's `ledger.posted` or the run's own), so the relays see it, not just the run.
    let observing = &observer;
    wait_until(
        RUN_DEADLINE,
        "an event waits in an outbox while NATS is away",
        || async move { (unpublished(observing).await > 0).then_some(()) },
    )
    .await;
    server.nats.resume().await;

    let output = tokio::time::timeout(RUN_DEADLINE, call)
        .await
        .expect("the run ends")
        .expect("the run call");
    // The run does not need NATS: what it publishes waits in the outbox.
    assert!(
        output.status.success(),
        "the run failed while NATS was away: {}\n{}",
        stderr_of(&output),
        server.log_text()
    );
    let summary = last_line_json(&output);
    let completed_at = completed_at(&observer, &summary).await;
    assert!(
        completed_at > stopped_at,
        "NATS went away only after the run had completed ({completed_at} <= {stopped_at})"
    );

    // Once NATS is back every held-back event reaches it, and the run's own (all enqueued
    // after NATS went away) exactly once each. The ledger's earlier `ledger.posted` events
    // are not counted: some were accepted by the NATS server that was killed, and what a
    // killed NATS keeps of what it accepted is NATS's affair, not the platform's.
    wait_until(
        Duration::from_secs(60),
        "every outbox is published after NATS is back",
        || async move { (unpublished(observing).await == 0).then_some(()) },
    )
    .await;
    assert_run_events_published_once(&server, &observer).await;

    assert_paid_exactly_once(&server, &observer, &summary).await;
    assert_nothing_left_due(&server, &token).await;
    assert_audit_clean(&server, &observer).await;
    observer.close().await;
    let _ = std::fs::remove_dir_all(server.exports_dir());
}

#[tokio::test(flavor = "multi_thread")]
async fn postgresql_restarted_mid_posting_leaves_a_run_that_running_it_again_finishes_paying_each_instalment_once()
 {
    // A cluster of the test's own: stopping the shared one would break every other test.
    let mut postgres = tokio::task::spawn_blocking(PrivatePostgres::start)
        .await
        .expect("start a private PostgreSQL");
    let label = format!("private-{}", Uuid::new_v4().simple());
    let server = ServerProcess::start_on(postgres.url(), &label).await;
    seed_schedules(&server).await;
    let observer = observe(&server).await;
    let token = finance_token(&server);

    let mut call = start_run(&server, &token);
    wait_until_mid_posting(&observer, &mut call).await;
    observer.close().await;
    // A fast shutdown cuts every session off, as a crash or a failover would; then the
    // same cluster comes back on the same port.
    let postgres = tokio::task::spawn_blocking(move || {
        postgres.stop();
        postgres.resume();
        postgres
    })
    .await
    .expect("restart the private PostgreSQL");
    let observer = observe(&server).await;
    let restarted_at = database_now(&observer).await;

    let interrupted = tokio::time::timeout(RUN_DEADLINE, call)
        .await
        .expect("the run call ends after PostgreSQL restarts")
        .expect("the interrupted call");
    let (output, answers) = if interrupted.status.success() {
        (interrupted, Vec::new())
    } else {
        let finished = run_until_complete(&server, &token).await;
        let mut answers = failed_answer(&interrupted);
        answers.extend(finished.failures);
        (finished.output, answers)
    };
    eprintln!("after the restart: {answers:?}");
    let summary = last_line_json(&output);
    let completed_at = completed_at(&observer, &summary).await;
    assert!(
        completed_at > restarted_at,
        "the run completed before PostgreSQL restarted ({completed_at} <= {restarted_at})"
    );

    assert_paid_exactly_once(&server, &observer, &summary).await;
    assert_nothing_left_due(&server, &token).await;
    assert_audit_clean(&server, &observer).await;
    assert_only_retryable(&answers);
    observer.close().await;
    let _ = std::fs::remove_dir_all(server.exports_dir());
    // The server goes before its database.
    drop(server);
    drop(postgres);
}

/// Seeds the schedules, the authority's paying account, every payee's bank account and
/// the funds, through the schemas' own connections as the services open them.
async fn seed_schedules(server: &ServerProcess) {
    let generated = seed::generate(LINES);
    let payments = sds_platform::db::connect(server.database_url(), sds_payments::SCHEMA, 2)
        .await
        .expect("connect as payments");
    seed::seed_schedules(&payments, &generated)
        .await
        .expect("seed schedules");
    seed::seed_banking(&payments, &generated)
        .await
        .expect("seed bank accounts");
    payments.close().await;
    let ledger = sds_platform::db::connect(server.database_url(), sds_ledger::SCHEMA, 2)
        .await
        .expect("connect as the ledger");
    seed::seed_funds(&ledger, &generated)
        .await
        .expect("seed funds");
    ledger.close().await;
}

/// A pool on the server's database that reads every schema by its name.
async fn observe(server: &ServerProcess) -> PgPool {
    PgPool::connect(server.database_url())
        .await
        .expect("connect to the server's database")
}

/// The authority's finance staff, who run payments.
fn finance_token(server: &ServerProcess) -> String {
    server.token(&[
        "--org",
        AUTHORITY,
        "--kind",
        "authority",
        "--roles",
        "finance",
        "--authority",
        AUTHORITY,
    ])
}

/// `sds payments run` for the seeded date, in the background.
fn start_run(server: &ServerProcess, token: &str) -> JoinHandle<Output> {
    let mut env = server.env.clone();
    env.push(("SDS_TOKEN".to_owned(), token.to_owned()));
    let date = seed::run_date().to_string();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        sds(
            &["payments", "run", "--authority", AUTHORITY, "--date", &date],
            &env,
        )
    })
}

/// Polls until the run is in the middle of posting: the ledger holds some of its
/// transfers while payments has not yet marked every instalment posted (one statement, so
/// one moment of both). Panics if the call ends first: the run was too short to break.
async fn wait_until_mid_posting(observer: &PgPool, call: &mut JoinHandle<Output>) {
    let deadline = Instant::now() + RUN_DEADLINE;
    loop {
        let mid_posting: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM ledger.transfer) \
                AND EXISTS (SELECT 1 FROM payments.instalment_payment WHERE NOT posted)",
        )
        .fetch_one(observer)
        .await
        .expect("look at the run");
        if mid_posting {
            return;
        }
        if call.is_finished() {
            let output = call.await.expect("the run call");
            panic!(
                "the run ended before it was seen posting (raise LINES?): {}{}",
                stdout_of(&output),
                stderr_of(&output)
            );
        }
        assert!(
            Instant::now() < deadline,
            "the run was not seen posting within {RUN_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The unfinished run's status, its instalments not yet posted, and the ledger's transfers.
async fn left_behind(observer: &PgPool) -> (String, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT status FROM payments.payment_run), \
                (SELECT count(*) FROM payments.instalment_payment WHERE NOT posted), \
                (SELECT count(*) FROM ledger.transfer)",
    )
    .fetch_one(observer)
    .await
    .expect("read what the killed run left")
}

async fn database_now(observer: &PgPool) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT now()")
        .fetch_one(observer)
        .await
        .expect("read the database's clock")
}

async fn completed_at(observer: &PgPool, summary: &Value) -> DateTime<Utc> {
    let completed_at: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT completed_at FROM payments.payment_run WHERE run_id = $1")
            .bind(run_id_of(summary))
            .fetch_one(observer)
            .await
            .expect("read the run");
    completed_at.expect("the run is completed")
}

/// Events not yet published, in payments' and the ledger's outboxes together.
async fn unpublished(observer: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM payments.outbox WHERE published_at IS NULL) \
              + (SELECT count(*) FROM ledger.outbox WHERE published_at IS NULL)",
    )
    .fetch_one(observer)
    .await
    .expect("count unpublished events")
}

fn run_id_of(summary: &Value) -> Uuid {
    summary["run_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a run id in {summary}"))
}

/// A completed call, and what the calls before it answered.
struct Finished {
    output: Output,
    failures: Vec<String>,
}

/// Runs the seeded date until a call completes, as finance staff are told to after a
/// failure; the pause between calls lets a run still going elsewhere (refused as in
/// progress) or a database coming back get on.
async fn run_until_complete(server: &ServerProcess, token: &str) -> Finished {
    let deadline = Instant::now() + RUN_DEADLINE;
    let mut failures = Vec::new();
    loop {
        let output = start_run(server, token).await.expect("the run call");
        if output.status.success() {
            return Finished { output, failures };
        }
        failures.extend(failed_answer(&output));
        assert!(
            Instant::now() < deadline,
            "the run did not complete within {RUN_DEADLINE:?}; the calls answered:\n{}\n{}",
            failures.join("\n"),
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn failed_answer(output: &Output) -> Vec<String> {
    if output.status.success() {
        Vec::new()
    } else {
        vec![stderr_of(output).trim().to_owned()]
    }
}

/// Each failed call told finance staff to run again: `Unavailable`, or the run still in
/// progress elsewhere; an `Internal` would leave them not knowing whether to.
fn assert_only_retryable(answers: &[String]) {
    let not_retryable: Vec<&String> = answers
        .iter()
        .filter(|answer| !answer.contains("Unavailable") && !answer.contains("is in progress"))
        .collect();
    assert!(
        not_retryable.is_empty(),
        "calls failed without saying to run again: {not_retryable:#?}"
    );
}

fn pence(amount: Decimal) -> i64 {
    let pence = amount * Decimal::ONE_HUNDRED;
    assert!(pence.fract().is_zero(), "{amount} is not whole pence");
    pence.to_i64().expect("an amount in range")
}

fn pence_of_text(text: &str) -> i64 {
    pence(
        text.parse()
            .unwrap_or_else(|error| panic!("{text:?} is not an amount: {error}")),
    )
}

/// Compares two maps of many entries, naming the first few differences (not printing
/// thousands of entries).
fn assert_same<K, V>(what: &str, expected: &HashMap<K, V>, actual: &HashMap<K, V>)
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
async fn assert_paid_exactly_once(server: &ServerProcess, observer: &PgPool, summary: &Value) {
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
fn assert_journal(path: &Path, paid: &HashMap<(Uuid, NaiveDate), i64>, total: i64) {
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
fn assert_bacs(path: &Path, total: i64) {
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
fn assert_pain001(path: &Path, total: i64) {
    let text = std::fs::read_to_string(path).expect("read the pain.001 file");
    let sums: Vec<i64> = text
        .split("<CtrlSum>")
        .skip(1)
        .map(|rest| pence_of_text(rest.split("</CtrlSum>").next().expect("a closed CtrlSum")))
        .collect();
    assert_eq!(sums, vec![total, total], "the pain.001 CtrlSums");
}

/// Running the date once more finds nothing due: no instalment was left out.
async fn assert_nothing_left_due(server: &ServerProcess, token: &str) {
    let again = run_until_complete(server, token).await;
    let summary = last_line_json(&again.output);
    assert_eq!(
        (&summary["instalments"], &summary["total"]),
        (&serde_json::json!(0), &serde_json::json!("0.00")),
        "the same date run again paid something: {summary}"
    );
}

/// `sds ledger audit` exits 0 with no violations, over every transfer in the ledger.
async fn assert_audit_clean(server: &ServerProcess, observer: &PgPool) {
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
async fn assert_run_events_published_once(server: &ServerProcess, observer: &PgPool) {
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
    let client = async_nats::connect(server.nats.url())
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
