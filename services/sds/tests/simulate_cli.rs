//! `sds simulate` through the real binary: a small run with faults ends without a
//! violation and with its JSON line; the same seed gives the same digest (with heavy
//! faults, the platform killed and NATS restarted among them, or none) and another seed
//! another; bad flags are refused with one line each; a run leaves nothing behind, and what
//! a run killed outright left the next run stops and removes; a database URL's password is
//! never shown.
//!
//! Each run makes its own database on the shared test PostgreSQL (`--database-url`) and
//! starts a NATS of its own, as every run does.

mod support;

use std::process::Output;

use serde_json::Value;
use support::{SDS, last_line_json, repo_root, stderr_of, stdout_of};

/// Runs `sds simulate` from the project's root with `args`, on the shared test cluster.
async fn simulate(args: &[&str]) -> Output {
    let database = sds_testkit::fresh_database().await;
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(SDS)
            .arg("simulate")
            .args(&args)
            .env("SDS_SIMULATE_DATABASE_URL", &database.url)
            .current_dir(repo_root())
            .output()
            .expect("run sds simulate")
    })
    .await
    .expect("the run")
}

fn figures(run: &Output) -> Value {
    assert!(
        run.status.success(),
        "the run failed:\n{}\n{}",
        stdout_of(run),
        stderr_of(run)
    );
    last_line_json(run)
}

/// No folder of a run with `seed` is left under `.local/`.
fn folders_left(seed: &str) -> Vec<String> {
    let prefix = format!("simulate-{seed}-");
    std::fs::read_dir(repo_root().join(".local"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_small_run_with_faults_ends_without_a_violation_and_says_so_in_json() {
    let run = simulate(&[
        "--seed", "1301", "--funds", "30", "--days", "60", "--faults", "some",
    ])
    .await;
    let figures = figures(&run);
    assert_eq!(figures["seed"], 1301, "{figures}");
    assert_eq!(figures["days"], 60, "{figures}");
    assert_eq!(figures["funds"], 30, "{figures}");
    assert_eq!(figures["violations"], 0, "{figures}");
    // Eight checks a day, every day.
    assert_eq!(figures["checks"], 480, "{figures}");
    assert!(
        figures["events"]
            .as_u64()
            .is_some_and(|events| events > 300),
        "{figures}"
    );
    assert!(
        figures["faults"].as_u64().is_some_and(|faults| faults > 0),
        "{figures}"
    );
    let digest = figures["digest"].as_str().unwrap_or_default();
    assert!(
        digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()),
        "{figures}"
    );
    // Progress goes to standard error, a line a simulated month when it is not a terminal.
    assert!(
        stderr_of(&run).contains("simulate: day 30/60 (2026-04-30)"),
        "{}",
        stderr_of(&run)
    );
    assert_eq!(folders_left("1301"), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_seed_gives_the_same_digest_with_heavy_faults_or_none_and_another_seed_another() {
    let with = |seed: &'static str, faults: &'static str| {
        vec![
            "--seed",
            seed,
            "--funds",
            "20",
            "--days",
            "45",
            "--authorities",
            "3",
            "--faults",
            faults,
        ]
    };
    // One after the other: each run takes 40 of the test PostgreSQL's 100 connections.
    let heavy_run = simulate(&with("1366", "heavy")).await;
    let heavy = figures(&heavy_run);
    // The seed's faults include the platform killed mid-day and mid-run, NATS restarted and
    // the relays stopped (see `faults`' tests); the PostgreSQL the run did not start is not
    // restarted, and it says so once.
    let told = stderr_of(&heavy_run);
    let interruptions = told
        .lines()
        .find_map(|line| line.strip_prefix("simulate: interruptions: "))
        .unwrap_or_else(|| panic!("no interruptions told:\n{told}"));
    let count_of = |kind: &str| {
        interruptions
            .split(", ")
            .find_map(|part| part.strip_suffix(kind))
            .and_then(|count| count.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {kind} in {interruptions:?}"))
    };
    for kind in [
        "platform kills",
        "platform kills mid-run",
        "NATS restarts",
        "relay stops",
    ] {
        assert!(count_of(kind) > 0, "{kind}: {interruptions}");
    }
    assert_eq!(count_of("PostgreSQL restarts"), 0, "{interruptions}");
    assert_eq!(
        told.matches("PostgreSQL restarts are skipped").count(),
        1,
        "{told}"
    );
    assert!(
        heavy["faults"].as_u64().is_some_and(|faults| faults > 4),
        "{heavy}"
    );
    // Without faults, and one person's steps at a time instead of many at once: a fault
    // only repeats or interrupts what happened, and the books must not depend on the order
    // the platform happened to serve the day's steps in, so the books are the same.
    let mut calm_args = with("1366", "none");
    calm_args.extend(["--parallel", "1"]);
    let calm = figures(&simulate(&calm_args).await);
    assert_eq!(calm["faults"], 0, "{calm}");
    assert_eq!(heavy["digest"], calm["digest"], "{heavy}\n{calm}");
    let other = figures(&simulate(&with("1303", "none")).await);
    assert_ne!(heavy["digest"], other["digest"], "{heavy}\n{other}");
}

#[test]
fn bad_flags_are_refused_with_one_line_naming_the_flag() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["--only", "3,x"],
            "--only \"3,x\": \"x\" is not a fund number (1, 2, ... separated by commas)",
        ),
        (
            &["--only", "6"],
            "--only \"6\": fund 6 is not from 1 to --funds 5",
        ),
        (
            &["--faults", "lots"],
            "--faults \"lots\" is not one of: none, some, heavy",
        ),
        (&["--days", "0"], "--days 0 is not from 1 to 3650"),
        (&["--funds", "0"], "--funds 0 is not from 1 to 1000000"),
        (
            &["--start", "2026-13-01"],
            "--start \"2026-13-01\" is not a date as YYYY-MM-DD",
        ),
        (
            &["--authorities", "0"],
            "--authorities 0 is not from 1 to 100",
        ),
    ];
    for (flags, refusal) in cases {
        let mut args = vec!["simulate", "--seed", "1304"];
        for required in ["--funds", "--days"] {
            if !flags.contains(&required) {
                args.extend([required, "5"]);
            }
        }
        args.extend(flags);
        let run = std::process::Command::new(SDS)
            .args(&args)
            .current_dir(repo_root())
            .output()
            .expect("run sds simulate");
        assert!(!run.status.success(), "{args:?} was accepted");
        assert_eq!(stdout_of(&run), "", "{args:?}");
        assert_eq!(stderr_of(&run), format!("error: {refusal}\n"), "{args:?}");
    }
    assert_eq!(folders_left("1304"), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_balance_planted_in_the_books_stops_the_run_with_its_person_s_history_and_the_shortest_run_that_shows_it()
 {
    let run = simulate(&[
        "--seed",
        "1305",
        "--funds",
        "12",
        "--days",
        "30",
        "--faults",
        "some",
        "--plant-wrong-balance-on-day",
        "20",
    ])
    .await;
    let stderr = stderr_of(&run);
    assert!(!run.status.success(), "{stderr}");
    let figures = last_line_json(&run);
    assert_eq!(figures["violations"], 1, "{figures}");
    assert_eq!(
        figures["checks"],
        19 * 8 + 1,
        "stopped at the first check of day 20: {figures}"
    );
    assert!(
        stderr.contains(
            "simulate: VIOLATION: seed 1305, day 20 (2026-04-20), check the_ledger_audit_is_clean: "
        ) && stderr.contains("balance_mismatch"),
        "{stderr}"
    );
    // The person whose balance is wrong, by case reference, with what they did.
    let history = stderr
        .split("simulate: the history of the people it names, through that day:\n")
        .nth(1)
        .unwrap_or_default();
    let person = history.lines().next().unwrap_or_default().trim();
    assert!(
        person.starts_with("SIM-0000") && person.ends_with(':'),
        "{stderr}"
    );
    assert!(history.contains(": offer of provider "), "{stderr}");
    // Narrowed to that one person through day 20, with no faults, it breaks the same check.
    let number: usize = person
        .trim_start_matches("SIM-")
        .trim_end_matches(':')
        .parse()
        .unwrap();
    assert!(
        stderr.contains(&format!(
            "simulate: the shortest run that shows it: sds simulate --seed 1305 --funds 12 \
             --days 20 --authorities 4 --start 2026-04-01 --faults none --only {number} \
             --plant-wrong-balance-on-day 20"
        )),
        "{stderr}"
    );
    assert_eq!(folders_left("1305"), Vec::<String>::new());
}

/// Whether process `pid` is still there (a zombie waiting for its parent counts as gone).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

/// The pid in `file` once it names a running process, waiting up to a minute.
async fn running_pid_in(file: &std::path::Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let pid = std::fs::read_to_string(file).unwrap_or_default();
        let pid = pid.trim();
        if !pid.is_empty() && alive(pid) {
            return pid.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no running process named in {} within a minute",
            file.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_run_killed_outright_left_running_is_stopped_and_removed_by_the_next_run() {
    let database = sds_testkit::fresh_database().await;
    let mut killed = std::process::Command::new(SDS)
        .args([
            "simulate", "--seed", "1307", "--funds", "400", "--days", "300",
        ])
        .env("SDS_SIMULATE_DATABASE_URL", &database.url)
        .current_dir(repo_root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start sds simulate");
    let folder = repo_root()
        .join(".local")
        .join(format!("simulate-1307-{}", killed.id()));
    let nats = running_pid_in(&folder.join("pids/nats.pid")).await;
    let platform = running_pid_in(&folder.join("sds.pid")).await;
    // SIGKILL: the run gets no chance to stop what it started.
    killed.kill().expect("kill the run");
    killed.wait().expect("reap the run");

    // The platform sees its standard input close and stops by itself.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while alive(&platform) {
        assert!(
            std::time::Instant::now() < deadline,
            "the killed run's platform (pid {platform}) runs on 30 s later"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Its NATS does not; the next run stops it. (Another test's run starting meanwhile
    // may be the one that does: each run sweeps before it starts.)
    figures(&simulate(&["--seed", "1308", "--funds", "2", "--days", "2"]).await);
    assert!(
        !folder.exists(),
        "{} is left after the next run",
        folder.display()
    );
    assert!(
        !alive(&nats),
        "the killed run's NATS (pid {nats}) is left running"
    );
    assert_eq!(folders_left("1308"), Vec::<String>::new());
}

#[test]
fn a_password_in_the_database_url_is_never_shown_and_a_refusing_server_is_named_at_once() {
    let url = "postgres://sim:hunter2@127.0.0.1:1/postgres";
    let help = std::process::Command::new(SDS)
        .args(["simulate", "--help"])
        .env("SDS_SIMULATE_DATABASE_URL", url)
        .output()
        .expect("run sds simulate --help");
    assert!(help.status.success());
    assert!(
        !stdout_of(&help).contains("hunter2"),
        "{}",
        stdout_of(&help)
    );

    let run = std::process::Command::new(SDS)
        .args(["simulate", "--seed", "1309", "--funds", "1", "--days", "1"])
        .args(["--database-url", url])
        .current_dir(repo_root())
        .output()
        .expect("run sds simulate");
    assert!(!run.status.success());
    let said = stderr_of(&run);
    assert!(
        said.contains("error: connect to PostgreSQL at postgres://sim@127.0.0.1:1/postgres:"),
        "{said}"
    );
    assert!(!said.contains("hunter2"), "{said}");
    // A pool would have asked again for its 30 s acquire timeout, then said only that.
    assert!(!said.contains("pool timed out"), "{said}");
    assert_eq!(folders_left("1309"), Vec::<String>::new());
}
