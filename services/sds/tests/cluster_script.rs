//! `deploy/cluster/chaos`, smaller: the script itself, end to end, on the cluster shape it
//! starts (three clustered nats-server processes, PostgreSQL, two replicas of every service
//! as `sds serve --only` processes): a payment run broken mid-way by SIGKILL of one NATS node
//! and one payments replica, both started again, then its last line checked.

#[path = "support/mod.rs"]
mod support;

use std::process::Command;

use support::*;

#[test]
fn the_cluster_chaos_run_pays_each_instalment_once_and_loses_no_notification() {
    let output = Command::new(repo_root().join("deploy/cluster/chaos"))
        .args(["--lines", "20000"])
        // The binary cargo built for this test run, on a cluster of this test's own.
        .env("SDS_PROFILE", "debug")
        .env("SDS_CLUSTER_SKIP_BUILD", "1")
        .env("SDS_CLUSTER_STATE", ".local/cluster-chaos-test")
        .env("SDS_CLUSTER_PORT_OFFSET", "400")
        .output()
        .expect("run deploy/cluster/chaos");
    let stderr = stderr_of(&output);
    assert!(
        output.status.success(),
        "deploy/cluster/chaos failed:\n{}\n{stderr}",
        stdout_of(&output)
    );
    let report = last_line_json(&output);
    assert_eq!(report["lines"], 20000, "{report}");
    assert!(
        report["instalments"].as_u64().unwrap_or_default() > 1000,
        "{report}"
    );
    for zero in [
        "paid_more_than_once",
        "unpaid",
        "audit_violations",
        "notifications_lost",
        "notifications_duplicated",
    ] {
        assert_eq!(report[zero], 0, "{zero}: {report}");
    }
    assert_eq!(
        report["faults"],
        serde_json::json!(["SIGKILL nats-2", "SIGKILL payments-2"]),
        "{report}"
    );
    // The faults landed while the run went on, not before or after it.
    assert!(stderr.contains("mid-way; fault SIGKILL nats-2"), "{stderr}");
    // The cluster's folder stays for a look at its logs; the next run starts it afresh.
}
