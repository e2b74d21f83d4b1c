//! `sds demo seed` and `sds demo vary` against a real `sds serve` started as
//! `deploy/local/up` starts it (reading "today" from a clock file that is not there until
//! the seed writes it): the history is laid down on past days, the clock file is removed,
//! the server runs on in real time, and a variation from today reaches the agreement.

mod support;

use support::*;

/// The `NAME=value` lines of `output`'s stdout.
fn settings(output: &std::process::Output) -> Vec<(String, String)> {
    stdout_of(output)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn setting<'a>(settings: &'a [(String, String)], name: &str) -> &'a str {
    settings
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .unwrap_or_else(|| panic!("{name} in {settings:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_history_is_laid_down_on_past_days_and_the_server_then_runs_in_real_time() {
    let clock = std::env::temp_dir().join(format!("sds-demo-clock-{}", uuid_like()));
    let clock_path = clock.display().to_string();
    let server = ServerProcess::start_with(&[("SDS_CLOCK_FILE", clock_path.as_str())]).await;

    let seeded = server.run(
        &[
            "demo",
            "seed",
            "--authority",
            "demo-shire",
            "--clock-file",
            &clock_path,
        ],
        None,
    );
    assert!(seeded.status.success(), "{}", stderr_of(&seeded));
    let demo = settings(&seeded);
    for name in [
        "DEMO_PERSON_ID",
        "DEMO_PROVIDER_ID",
        "DEMO_AGREEMENT_ID",
        "DEMO_FUND_ID",
        "DEMO_PROVIDER_TOKEN",
        "DEMO_PERSON_TOKEN",
    ] {
        assert!(!setting(&demo, name).is_empty(), "{name}");
    }
    assert!(!clock.exists(), "the clock file is removed after the seed");

    // The provider reads what its portal was told, one JSON line each, and resumes after
    // the last one with nothing left.
    let provider = setting(&demo, "DEMO_PROVIDER_TOKEN");
    let told = server.run(&["portal", "notifications"], Some(provider));
    assert!(told.status.success(), "{}", stderr_of(&told));
    let notifications: Vec<serde_json::Value> = stdout_of(&told)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let seqs: Vec<String> = notifications
        .iter()
        .map(|notification| notification["seq"].to_string().replace('"', ""))
        .collect();
    let expected: Vec<String> = (1..=seqs.len()).map(|seq| seq.to_string()).collect();
    assert_eq!(seqs, expected, "numbered from 1 with no gaps");
    let remittances = notifications
        .iter()
        .filter(|notification| notification["kind"] == "NOTIFICATION_KIND_REMITTANCE_ISSUED")
        .count();
    assert_eq!(remittances, 2, "{notifications:?}");
    let last = seqs.last().expect("notifications").clone();
    let rest = server.run(
        &["portal", "notifications", "--after", &last],
        Some(provider),
    );
    assert!(rest.status.success(), "{}", stderr_of(&rest));
    assert_eq!(stdout_of(&rest).trim(), "");

    // The person's fund was paid by two runs in the past.
    let finance = server.token(&[
        "--org",
        "demo-shire",
        "--kind",
        "authority",
        "--roles",
        "finance",
        "--authority",
        "demo-shire",
    ]);
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Duration::days(140)).to_string();
    let statement = server.run(
        &[
            "ledger",
            "statement",
            setting(&demo, "DEMO_FUND_ID"),
            "--from",
            &from,
            "--to",
            &today.to_string(),
            "--json",
        ],
        Some(&finance),
    );
    assert!(statement.status.success(), "{}", stderr_of(&statement));
    let figures: serde_json::Value =
        serde_json::from_str(&stdout_of(&statement)).expect("the statement as JSON");
    let total_in: rust_decimal::Decimal = figures["total_in"]["amount"]
        .as_str()
        .and_then(|amount| amount.parse().ok())
        .unwrap_or_else(|| panic!("money came in: {figures}"));
    assert!(total_in > rust_decimal::Decimal::ZERO, "{figures}");

    // A variation from today: the server's today is the machine's again.
    let varied = server.run(
        &[
            "demo",
            "vary",
            "--person",
            setting(&demo, "DEMO_PERSON_ID"),
            "--provider",
            setting(&demo, "DEMO_PROVIDER_ID"),
            "--agreement",
            setting(&demo, "DEMO_AGREEMENT_ID"),
            "--weekly",
            "300.00",
        ],
        None,
    );
    assert!(varied.status.success(), "{}", stderr_of(&varied));
    assert!(
        stdout_of(&varied).contains("300.00 a week from"),
        "{}",
        stdout_of(&varied)
    );
}
