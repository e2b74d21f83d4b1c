//! `sds bench assessment-import`, `sds bench ledger` and `sds bench notify` run end to end on the test
//! PostgreSQL and NATS (tiny sizes, so they stay quick), leave no scratch database behind,
//! and print their figures as one JSON object on the last line, as scripts and dashboards
//! read it.

mod support;

use support::{last_line_json, sds, stderr_of, stdout_of};

/// Scratch databases whose names start with one of `prefixes` (the tests of this file run
/// at once, so each counts only its own).
async fn scratch_databases_left(database_url: &str, prefixes: &[&str]) -> i64 {
    let admin = sqlx::PgPool::connect(database_url).await.unwrap();
    let patterns: Vec<String> = prefixes
        .iter()
        .map(|prefix| format!("{}%", prefix.replace('_', "\\_")))
        .collect();
    sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname LIKE ANY($1)")
        .bind(patterns)
        .fetch_one(&admin)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_import_benchmark_prints_its_figures_as_the_last_json_line_and_cleans_up() {
    let database_url = std::env::var("SDS_TEST_DATABASE_URL")
        .expect("deploy/local/test sets SDS_TEST_DATABASE_URL");
    let nats_url =
        std::env::var("SDS_TEST_NATS_URL").expect("deploy/local/test sets SDS_TEST_NATS_URL");
    let output =
        std::env::temp_dir().join(format!("assessment-import-{}.json", uuid::Uuid::new_v4()));

    let run = sds(
        &[
            "bench",
            "assessment-import",
            "--people",
            "30",
            "--database-url",
            &database_url,
            "--nats-url",
            &nats_url,
            "--output",
            output.to_str().unwrap(),
        ],
        &[],
    );

    assert!(run.status.success(), "{}", stderr_of(&run));
    let figures = last_line_json(&run);
    assert_eq!(figures["people"], 30);
    for key in ["seconds", "raw_seconds", "ratio"] {
        assert!(
            figures[key].as_f64().is_some_and(|value| value > 0.0),
            "{key}: {figures}"
        );
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(written, figures);
    assert_eq!(
        scratch_databases_left(&database_url, &["bench_import_", "bench_raw_"]).await,
        0,
        "scratch databases are dropped"
    );
}

#[tokio::test]
async fn the_ledger_benchmark_audits_clean_and_prints_its_figures_as_the_last_json_line() {
    let database_url = std::env::var("SDS_TEST_DATABASE_URL")
        .expect("deploy/local/test sets SDS_TEST_DATABASE_URL");
    let nats_url =
        std::env::var("SDS_TEST_NATS_URL").expect("deploy/local/test sets SDS_TEST_NATS_URL");
    let output = std::env::temp_dir().join(format!("ledger-{}.json", uuid::Uuid::new_v4()));

    let run = sds(
        &[
            "bench",
            "ledger",
            "--accounts",
            "40,80",
            "--single",
            "40",
            "--batches",
            "6",
            "--batch-size",
            "10",
            "--bulk",
            "300",
            "--bulk-chunk",
            "100",
            "--clients",
            "4",
            "--database-url",
            &database_url,
            "--nats-url",
            &nats_url,
            "--output",
            output.to_str().unwrap(),
        ],
        &[],
    );

    assert!(run.status.success(), "{}", stderr_of(&run));
    let figures = last_line_json(&run);
    for phase in ["single", "batch", "bulk"] {
        for key in ["raw_per_s", "per_s", "ratio"] {
            assert!(
                figures[phase][key]
                    .as_f64()
                    .is_some_and(|value| value > 0.0),
                "{phase}.{key}: {figures}"
            );
        }
    }
    for phase in ["single", "batch"] {
        assert!(figures[phase]["p99_ms"].as_f64().is_some(), "{figures}");
    }
    assert_eq!(figures["deadlocks"], 0);
    let mut keys: Vec<&String> = figures.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["batch", "bulk", "deadlocks", "single"]);
    // The audit's own summary line for each size, clean, before the figures.
    let stdout = stdout_of(&run);
    let audits: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|line| line.starts_with("{\"funds\""))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(audits.len(), 2, "{stdout}");
    for audit in &audits {
        assert_eq!(audit["violations"], serde_json::json!([]), "{audit}");
        // Each fund's opening funding, then single, batch and bulk.
        assert_eq!(
            audit["transfers"].as_i64().unwrap(),
            audit["funds"].as_i64().unwrap() + 40 + 60 + 300
        );
    }
    assert_eq!(audits[0]["funds"], 10);
    assert_eq!(audits[1]["funds"], 20);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(written, figures);
    assert_eq!(
        scratch_databases_left(&database_url, &["bench_ledger_"]).await,
        0,
        "scratch databases are dropped"
    );
}

/// `sds bench notify` on the test PostgreSQL and NATS with `arguments` added.
fn notify_bench(
    database_url: &str,
    nats_url: &str,
    output: &std::path::Path,
    arguments: &[&str],
) -> std::process::Output {
    let mut all = vec![
        "bench",
        "notify",
        "--database-url",
        database_url,
        "--nats-url",
        nats_url,
        "--output",
        output.to_str().unwrap(),
    ];
    all.extend_from_slice(arguments);
    sds(&all, &[])
}

#[tokio::test]
async fn the_notify_benchmark_loses_and_repeats_nothing_and_prints_its_figures_as_the_last_json_line()
 {
    let database_url = std::env::var("SDS_TEST_DATABASE_URL")
        .expect("deploy/local/test sets SDS_TEST_DATABASE_URL");
    let nats_url =
        std::env::var("SDS_TEST_NATS_URL").expect("deploy/local/test sets SDS_TEST_NATS_URL");
    let output = std::env::temp_dir().join(format!("notify-{}.json", uuid::Uuid::new_v4()));

    // The default load: variations made ready, then each agreed by its last signature.
    let run = notify_bench(
        &database_url,
        &nats_url,
        &output,
        &["--rate", "5", "--seconds", "2"],
    );
    assert!(run.status.success(), "{}", stderr_of(&run));
    let figures = last_line_json(&run);
    assert_eq!(figures["lost"], 0, "{figures}");
    assert_eq!(figures["duplicated"], 0, "{figures}");
    assert_eq!(figures["load"], "last-signature", "{figures}");
    assert_eq!(
        figures["variations"], 10,
        "one variation for each of the rate times the seconds agreements: {figures}"
    );
    for key in ["rate_per_s", "p50_ms", "p99_ms", "raw_p50_ms"] {
        assert!(figures[key].as_f64().is_some(), "{key}: {figures}");
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(written, figures);
    assert!(stdout_of(&run).contains("portal subscriber told"));

    // The whole workflow of each variation at the rate, the agreements varied in turn.
    let run = notify_bench(
        &database_url,
        &nats_url,
        &output,
        &[
            "--load",
            "whole-workflow",
            "--agreements",
            "3",
            "--rate",
            "10",
            "--seconds",
            "2",
        ],
    );
    assert!(run.status.success(), "{}", stderr_of(&run));
    let figures = last_line_json(&run);
    assert_eq!(figures["lost"], 0, "{figures}");
    assert_eq!(figures["duplicated"], 0, "{figures}");
    assert_eq!(figures["load"], "whole-workflow", "{figures}");
    assert!(
        figures["variations"]
            .as_u64()
            .is_some_and(|count| count >= 3),
        "{figures}"
    );

    // Too few agreements to vary each once at the rate is refused before anything starts.
    let run = notify_bench(
        &database_url,
        &nats_url,
        &output,
        &["--agreements", "3", "--rate", "10", "--seconds", "2"],
    );
    assert!(!run.status.success());
    assert!(
        stderr_of(&run).contains("--agreements must be at least --rate times --seconds (20)"),
        "{}",
        stderr_of(&run)
    );
    assert_eq!(
        scratch_databases_left(&database_url, &["bench_notify_"]).await,
        0,
        "the scratch databases are dropped"
    );
}
