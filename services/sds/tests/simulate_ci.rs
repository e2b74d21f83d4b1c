//! The run `.ci/run` makes of `sds simulate` at the size the issue names for CI: 500 funds
//! over 120 days with faults, on a PostgreSQL and a NATS the run starts itself (as a user's
//! run does), so that every kind of fault may come, PostgreSQL restarts among them. It
//! must end with no violation, every check made every day, and leave nothing running.

mod support;

use support::{SDS, last_line_json, repo_root, stderr_of, stdout_of};

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_funds_over_120_days_with_faults_end_without_a_violation() {
    let run = tokio::task::spawn_blocking(|| {
        std::process::Command::new(SDS)
            .args([
                "simulate", "--seed", "1313", "--funds", "500", "--days", "120", "--faults", "some",
            ])
            .env_remove("SDS_SIMULATE_DATABASE_URL")
            .current_dir(repo_root())
            .output()
            .expect("run sds simulate")
    })
    .await
    .expect("the run");
    assert!(
        run.status.success(),
        "the run failed:\n{}\n{}",
        stdout_of(&run),
        stderr_of(&run)
    );
    let figures = last_line_json(&run);
    assert_eq!(figures["violations"], 0, "{figures}");
    assert_eq!(figures["funds"], 500, "{figures}");
    // Eight checks a day, every day.
    assert_eq!(figures["checks"], 120 * 8, "{figures}");
    assert!(
        figures["faults"].as_u64().is_some_and(|faults| faults > 0),
        "{figures}"
    );
    assert!(
        figures["events"]
            .as_u64()
            .is_some_and(|events| events > 4_000),
        "{figures}"
    );
    let left: Vec<String> = std::fs::read_dir(repo_root().join(".local"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("simulate-1313-"))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(left, Vec::<String>::new(), "the run's folder is removed");
}
