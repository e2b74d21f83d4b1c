//! Driving the chaos: seeding a run's worth of schedules, starting `sds payments run`, and
//! finding the moment mid-posting to break something.

use super::support::*;

use std::process::Output;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sds::payment_run_seed::{self as seed, AUTHORITY};
use serde_json::Value;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Schedule lines seeded (about half as many schedules). Enough that the run posts more
/// than one ledger chunk (10,000 transfers), so posting takes long enough to break into, and
/// that planning commits enough pages (2,000 schedules each) for posting to start while it
/// goes on: the first moment the ledger holds transfers and instalments are unposted is then
/// in the middle of planning (seen with SIGKILL: the run was still `planning` when killed),
/// so the faults land while posting and planning overlap.
pub const LINES: usize = 40_000;

/// How long a run (or finishing it) may take before the test gives up.
pub const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// Seeds the schedules, the authority's paying account, every payee's bank account and
/// the funds, through the schemas' own connections as the services open them.
pub async fn seed_schedules(server: &ServerProcess) {
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
pub async fn observe(server: &ServerProcess) -> PgPool {
    PgPool::connect(server.database_url())
        .await
        .expect("connect to the server's database")
}

/// The authority's finance staff, who run payments.
pub fn finance_token(server: &ServerProcess) -> String {
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
pub fn start_run(server: &ServerProcess, token: &str) -> JoinHandle<Output> {
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
pub async fn wait_until_mid_posting(observer: &PgPool, call: &mut JoinHandle<Output>) {
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
pub async fn left_behind(observer: &PgPool) -> (String, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT status FROM payments.payment_run), \
                (SELECT count(*) FROM payments.instalment_payment WHERE NOT posted), \
                (SELECT count(*) FROM ledger.transfer)",
    )
    .fetch_one(observer)
    .await
    .expect("read what the killed run left")
}

pub async fn database_now(observer: &PgPool) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT now()")
        .fetch_one(observer)
        .await
        .expect("read the database's clock")
}

pub async fn completed_at(observer: &PgPool, summary: &Value) -> DateTime<Utc> {
    let completed_at: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT completed_at FROM payments.payment_run WHERE run_id = $1")
            .bind(run_id_of(summary))
            .fetch_one(observer)
            .await
            .expect("read the run");
    completed_at.expect("the run is completed")
}

/// Events not yet published, in payments' and the ledger's outboxes together.
pub async fn unpublished(observer: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM payments.outbox WHERE published_at IS NULL) \
              + (SELECT count(*) FROM ledger.outbox WHERE published_at IS NULL)",
    )
    .fetch_one(observer)
    .await
    .expect("count unpublished events")
}

pub fn run_id_of(summary: &Value) -> Uuid {
    summary["run_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a run id in {summary}"))
}

/// A completed call, and what the calls before it answered.
pub struct Finished {
    pub output: Output,
    pub failures: Vec<String>,
}

/// Runs the seeded date until a call completes, as finance staff are told to after a
/// failure; the pause between calls lets a run still going elsewhere (refused as in
/// progress) or a database coming back get on.
pub async fn run_until_complete(server: &ServerProcess, token: &str) -> Finished {
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

pub fn failed_answer(output: &Output) -> Vec<String> {
    if output.status.success() {
        Vec::new()
    } else {
        vec![stderr_of(output).trim().to_owned()]
    }
}

/// Each failed call told finance staff to run again: `Unavailable`, or the run still in
/// progress elsewhere; an `Internal` would leave them not knowing whether to.
pub fn assert_only_retryable(answers: &[String]) {
    let not_retryable: Vec<&String> = answers
        .iter()
        .filter(|answer| !answer.contains("Unavailable") && !answer.contains("is in progress"))
        .collect();
    assert!(
        not_retryable.is_empty(),
        "calls failed without saying to run again: {not_retryable:#?}"
    );
}
