//! A payment run's chunk that a replica cannot work on: refused, not away (here the ledger
//! holds none of the funds payments links the schedules to). The run stops at once with the
//! reason recorded on the chunk, instead of the chunk going round the replicas for ever;
//! once the cause is put right, asking again pays every instalment once.

mod support;

use std::time::{Duration, Instant};

use sds::payment_run_seed::{self as seed, AUTHORITY};
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_chunk_the_ledger_refuses_stops_the_run_at_once_and_asking_again_after_the_fix_pays_it() {
    let server = ServerProcess::start_with(&[("SDS_PAYMENT_CHUNK_SCHEDULES", "300")]).await;
    let generated = seed_payments(&server, 2_000).await;
    let token = finance_token(&server);
    let date = seed::run_date().to_string();
    let run = || {
        server.run(
            &["payments", "run", "--authority", AUTHORITY, "--date", &date],
            Some(&token),
        )
    };

    let asked = Instant::now();
    let refused = run();
    assert!(!refused.status.success(), "{}", stdout_of(&refused));
    assert!(
        asked.elapsed() < Duration::from_secs(30),
        "the refused run took {:?} to answer",
        asked.elapsed()
    );
    let observer = sqlx::PgPool::connect(server.database_url()).await.unwrap();
    let failed: Vec<(i32, String)> = sqlx::query_as(
        "SELECT chunk, failed FROM payments.run_chunk WHERE failed IS NOT NULL ORDER BY chunk",
    )
    .fetch_all(&observer)
    .await
    .unwrap();
    assert!(
        !failed.is_empty() && failed.iter().all(|(_, why)| why.contains("not recorded")),
        "{failed:?}\n{}",
        server.log_text()
    );
    // The chunk is not tried again behind the caller's back: after a while, no chunk has
    // been refused more than once. (Under load the other chunk in flight may only be
    // refused after the caller has its answer; that is its first try, not a retry.)
    tokio::time::sleep(Duration::from_secs(3)).await;
    let refusals: Vec<String> = server
        .log_text()
        .lines()
        .filter(|line| line.contains("run chunk cannot be worked on"))
        .map(|line| {
            line.split_whitespace()
                .find(|field| field.starts_with("chunk="))
                .unwrap_or_else(|| panic!("the refusal names its chunk: {line}"))
                .to_owned()
        })
        .collect();
    assert!(!refusals.is_empty(), "{}", server.log_text());
    let mut distinct = refusals.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        refusals.len(),
        "a refused chunk was tried again unasked: {refusals:?}"
    );

    // The missing funds recorded, the same date asked for again finishes the run.
    seed_ledger(&server, &generated).await;
    let finished = run();
    assert!(
        finished.status.success(),
        "{}\n{}",
        stderr_of(&finished),
        server.log_text()
    );
    let summary = last_line_json(&finished);
    assert!(
        summary["instalments"].as_u64().unwrap_or_default() > 500,
        "{summary}"
    );
    let (left, still_failed): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM payments.instalment_payment WHERE NOT posted), \
                (SELECT count(*) FROM payments.run_chunk WHERE failed IS NOT NULL)",
    )
    .fetch_one(&observer)
    .await
    .unwrap();
    assert_eq!((left, still_failed), (0, 0));
    let audit = server.run(&["ledger", "audit"], None);
    assert!(audit.status.success(), "{}", stdout_of(&audit));
}

/// Seeds `lines` schedule lines and their payees' bank accounts into payments.
async fn seed_payments(server: &ServerProcess, lines: usize) -> Vec<seed::Generated> {
    let generated = seed::generate(lines);
    let payments = sds_platform::db::connect(server.database_url(), sds_payments::SCHEMA, 2)
        .await
        .expect("connect as payments");
    seed::seed_schedules(&payments, &generated)
        .await
        .expect("seed schedules");
    seed::seed_banking(&payments, &generated)
        .await
        .expect("seed bank accounts");
    generated
}

/// Records the funds payments links the seeded schedules to in the ledger.
async fn seed_ledger(server: &ServerProcess, generated: &[seed::Generated]) {
    let ledger = sds_platform::db::connect(server.database_url(), sds_ledger::SCHEMA, 2)
        .await
        .expect("connect as the ledger");
    seed::seed_funds(&ledger, generated)
        .await
        .expect("seed funds");
}

/// The seeded authority's finance staff, who run payments.
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

#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_lock_session_ends_stops_at_once_and_asking_again_pays_each_instalment_once() {
    let server = ServerProcess::start_with(&[("SDS_PAYMENT_CHUNK_SCHEDULES", "500")]).await;
    let generated = seed_payments(&server, 30_000).await;
    seed_ledger(&server, &generated).await;
    let token = finance_token(&server);
    let date = seed::run_date().to_string();
    let mut env = server.env.clone();
    env.push(("SDS_TOKEN".to_owned(), token.clone()));
    let call = {
        let date = date.clone();
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            sds(
                &["payments", "run", "--authority", AUTHORITY, "--date", &date],
                &env,
            )
        })
    };
    let observer = sqlx::PgPool::connect(server.database_url()).await.unwrap();
    // Mid-run: some chunks done, others not; then the session holding the run's lock ends,
    // as an idle-session timeout or a pooler would end it.
    let observing = &observer;
    sds_testkit::wait_until(
        Duration::from_secs(60),
        "the run is half done",
        || async move {
            let (done, all): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE done_at IS NOT NULL), count(*) FROM payments.run_chunk",
        )
        .fetch_one(observing)
        .await
        .ok()?;
            (done > 0 && done < all).then_some(())
        },
    )
    .await;
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_locks \
         WHERE locktype = 'advisory' AND granted \
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) ended",
    )
    .fetch_one(&observer)
    .await
    .unwrap();
    assert_eq!(ended, 1, "one session held the run's lock");
    let stopped_at = Instant::now();
    let interrupted = tokio::time::timeout(Duration::from_secs(60), call)
        .await
        .expect("the call ends")
        .expect("the call");
    assert!(
        !interrupted.status.success() && stopped_at.elapsed() < Duration::from_secs(15),
        "the run went on without its lock ({:?}): {}",
        stopped_at.elapsed(),
        stdout_of(&interrupted)
    );
    assert!(
        stderr_of(&interrupted).contains("Unavailable"),
        "{}",
        stderr_of(&interrupted)
    );

    let finished = server.run(
        &["payments", "run", "--authority", AUTHORITY, "--date", &date],
        Some(&token),
    );
    assert!(
        finished.status.success(),
        "{}\n{}",
        stderr_of(&finished),
        server.log_text()
    );
    // Each instalment above 0.00 funded once, and passed on once from an authority-held
    // fund: the ledger holds exactly that many transfers, none twice (ids are derived).
    let (unposted, expected, transfers, runs): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM payments.instalment_payment WHERE NOT posted), \
                (SELECT count(*) FILTER (WHERE i.amount > 0) \
                      + count(*) FILTER (WHERE i.amount > 0 AND s.holding_model = 'authority') \
                 FROM payments.instalment_payment i \
                 JOIN payments.schedule s ON s.agreement_id = i.agreement_id), \
                (SELECT count(*) FROM ledger.transfer), \
                (SELECT count(*) FROM payments.payment_run)",
    )
    .fetch_one(&observer)
    .await
    .unwrap();
    assert_eq!((unposted, transfers, runs), (0, expected, 1));
    let audit = server.run(&["ledger", "audit"], None);
    assert!(audit.status.success(), "{}", stdout_of(&audit));
}
