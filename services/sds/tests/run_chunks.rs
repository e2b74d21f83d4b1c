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
    let generated = seed::generate(2_000);
    let payments = sds_platform::db::connect(server.database_url(), sds_payments::SCHEMA, 2)
        .await
        .expect("connect as payments");
    seed::seed_schedules(&payments, &generated)
        .await
        .expect("seed schedules");
    seed::seed_banking(&payments, &generated)
        .await
        .expect("seed bank accounts");
    let token = server.token(&[
        "--org",
        AUTHORITY,
        "--kind",
        "authority",
        "--roles",
        "finance",
        "--authority",
        AUTHORITY,
    ]);
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
    let refused_log = server.log_text();
    let retries = refused_log.matches("run chunk cannot be worked on").count();

    // The chunk is not tried again behind the caller's back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        server
            .log_text()
            .matches("run chunk cannot be worked on")
            .count(),
        retries,
        "a refused chunk was tried again unasked"
    );

    // The missing funds recorded, the same date asked for again finishes the run.
    let ledger = sds_platform::db::connect(server.database_url(), sds_ledger::SCHEMA, 2)
        .await
        .expect("connect as the ledger");
    seed::seed_funds(&ledger, &generated)
        .await
        .expect("seed funds");
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
