//! Chaos for the cluster shape: a payment run shared by two payments replicas (separate
//! `sds serve --only payments` processes) on a three-node NATS cluster whose streams keep
//! three copies, with assessment and the ledger in a third process. In the middle of the
//! run one NATS node and the payments replica that did not take the run are killed with
//! SIGKILL, then both are started again. The run completes; each instalment is paid exactly
//! once; the exports match the ledger; `sds ledger audit` is clean; the run's events are in
//! the stream once each; and the chunks were worked on by both replicas.
//!
//! The same seeding, driving and checks as `payments_chaos` (shared by path), on real
//! clustered nats-server processes and real PostgreSQL.

#[path = "../support/mod.rs"]
mod support;

// Shared with payments_chaos, which uses every helper; this test uses some.
#[allow(dead_code)]
#[path = "../payments_chaos/checks.rs"]
mod checks;
#[allow(dead_code)]
#[path = "../payments_chaos/driving.rs"]
mod driving;

use checks::*;
use driving::*;

use std::collections::HashSet;

use sds_testkit::NatsCluster;
use support::*;

/// Schedules per chunk: small enough that each replica takes several chunks of the run.
const SCHEDULES_PER_CHUNK: &str = "1000";

#[tokio::test(flavor = "multi_thread")]
async fn a_run_shared_by_two_replicas_survives_a_nats_node_and_a_replica_killed_mid_run_and_pays_each_instalment_once()
 {
    let mut nats = NatsCluster::start(3).await;
    let database = sds_testkit::fresh_database().await;
    let label = database.name.clone();
    let exports = std::env::temp_dir().join(format!("sds-exports-{label}"));
    let exports = exports.display().to_string();
    let shared = [
        ("SDS_EVENTS_REPLICAS", "3"),
        ("SDS_EXPORTS_DIR", exports.as_str()),
        ("SDS_PAYMENT_CHUNK_SCHEDULES", SCHEDULES_PER_CHUNK),
    ];
    let core = ServerProcess::start_replica(
        &database.url,
        &format!("{label}-core"),
        &nats.url(),
        None,
        &[&shared[..], &[("SDS_ONLY", "assessment,ledger")]].concat(),
    )
    .await;
    let core_url = format!("http://{}", core.addr());
    let payments_only = [
        ("SDS_ONLY", "payments"),
        ("SDS_LEDGER_URL", core_url.as_str()),
        ("SDS_ASSESSMENT_URL", core_url.as_str()),
    ];
    let settings = [&shared[..], &payments_only[..]].concat();
    let coordinator = ServerProcess::start_replica(
        &database.url,
        &format!("{label}-payments-1"),
        &nats.url(),
        None,
        &settings,
    )
    .await;
    let mut other = ServerProcess::start_replica(
        &database.url,
        &format!("{label}-payments-2"),
        &nats.url(),
        None,
        &settings,
    )
    .await;

    seed_schedules(&coordinator).await;
    let observer = observe(&coordinator).await;
    let token = finance_token(&coordinator);
    let mut call = start_run(&coordinator, &token);
    wait_until_mid_posting(&observer, &mut call).await;

    nats.kill(0);
    other
        .child
        .kill()
        .expect("SIGKILL the other payments replica");
    other.child.wait().expect("reap the other payments replica");
    let (status, unposted, transfers) = left_behind(&observer).await;
    eprintln!(
        "killed NATS node 0 and payments-2: run {status}, {unposted} unposted, {transfers} transfers"
    );
    assert!(
        status != "completed" && unposted > 0,
        "the faults did not land mid-run: run {status}, {unposted} instalments unposted"
    );
    nats.resume(0).await;
    other.restart().await;

    let output = tokio::time::timeout(RUN_DEADLINE * 2, call)
        .await
        .expect("the run ends")
        .expect("the run call");
    assert!(
        output.status.success(),
        "the run failed: {}\n{}\n{}",
        stderr_of(&output),
        coordinator.log_text(),
        other.log_text()
    );
    let summary = last_line_json(&output);

    let replicas: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT done_by FROM payments.run_chunk WHERE run_id = $1")
            .bind(run_id_of(&summary))
            .fetch_all(&observer)
            .await
            .expect("read who did the chunks");
    let hosts: HashSet<String> = replicas.into_iter().map(|(by,)| by).collect();
    assert!(
        hosts.len() >= 2,
        "the run's chunks were not shared between the replicas: {hosts:?}"
    );

    assert_paid_exactly_once(&coordinator, &observer, &summary).await;
    assert_nothing_left_due(&coordinator, &token).await;
    assert_audit_clean(&core, &observer).await;
    assert_run_events_published_once(&coordinator, &observer).await;
    observer.close().await;
    let _ = std::fs::remove_dir_all(&exports);
}
