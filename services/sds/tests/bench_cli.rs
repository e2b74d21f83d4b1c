//! `sds bench assessment-import` runs end to end on the test PostgreSQL and NATS (a handful
//! of people, so it stays quick), leaves no scratch database behind, and prints its figures
//! as one JSON object on the last line, as scripts and dashboards read it.

mod support;

use support::{last_line_json, sds, stderr_of};

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
    let admin = sqlx::PgPool::connect(&database_url).await.unwrap();
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname LIKE 'bench\\_%'")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(left, 0, "scratch databases are dropped");
}
