//! Chaos for payment runs, the bar: `sds serve` killed with SIGKILL mid-run, NATS
//! restarted mid-run and PostgreSQL restarted mid-run; afterwards each instalment is paid
//! exactly once, the run's exports match the ledger, and `sds ledger audit` is clean.
//!
//! Each test seeds `LINES` schedule lines straight into payments' and the ledger's tables
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
//! `LINES` as small as still gives a posting phase long enough to break into.

#[path = "../support/mod.rs"]
mod support;

mod checks;
mod driving;

use checks::*;
use driving::*;

use std::time::Duration;

use sds_testkit::{PrivatePostgres, wait_until};
use support::*;
use uuid::Uuid;

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
    server.nats.as_mut().expect("the server's own NATS").stop();
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
    server
        .nats
        .as_mut()
        .expect("the server's own NATS")
        .resume()
        .await;

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
