//! `sds assessment budget` and `sds assessment plan ...` end to end: the real `sds` binary
//! against a real `sds serve` on real PostgreSQL and NATS, as a social worker and their team
//! manager would drive a support plan from the command line on deploy/local.
//!
//! What must stay true: the flow README.md shows ("Assessing a person") runs as written
//! (here with a rejection on the way), from a budget by hand to a varied, approved plan; each command prints the JSON of the
//! message the server returned (`plan get` a table unless `--json`); a refusal is one line
//! with the server's code and message, nothing on stdout, and a non-zero exit.

mod support;

use chrono::{Days, NaiveDate};
use serde_json::{Value, json};
use support::{ServerProcess, printed, refusal, sample_policy, stderr_of, stdout_of};

/// `days` before today, as the server reckons today in Scotland. The variation must fall
/// within the policy's 90-day backdating window of the day it is recorded, so the dates are
/// relative to today rather than fixed.
fn days_ago(days: u64) -> String {
    let today: NaiveDate = sds_platform::clock::Clock::system().today();
    (today - Days::new(days)).to_string()
}

/// A line of `plan get --json`: number, support type, option, weekly, start, end.
fn line_summary(line: &Value) -> Value {
    json!([
        line["number"],
        line["support_type"],
        line["option"],
        line["weekly"],
        line["start"]["iso"],
        line["end"]["iso"],
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_social_worker_budgets_drafts_varies_and_gets_a_plan_approved_from_the_command_line() {
    let server = ServerProcess::start().await;
    // The two services the plan names, as the directory lists them.
    let day_centre = server
        .directory_lists("Deeside Day Centre", "CS2004071234")
        .await;
    let home_care = server
        .directory_lists("Banchory Home Care", "CS2004070001")
        .await;
    // Publishing the directory again (for a service rebuilding its copy) changes nothing.
    let republished = printed(&server.run(
        &["directory", "republish"],
        Some(&server.commissioning_token()),
    ));
    assert_eq!(republished["providers"], "2");
    let practitioner = server.staff_token("practitioner");
    let team_manager = server.staff_token("team-manager");
    printed(&server.run(
        &["assessment", "policy", "set", "--file", &sample_policy()],
        Some(&server.commissioning_token()),
    ));
    let person = printed(&server.run(
        &[
            "assessment",
            "person",
            "record",
            "--authority",
            "demo-shire",
            "--case-reference",
            "SW-2026-0042",
            "--name",
            "Morag Innes",
            "--date-of-birth",
            "1941-02-17",
            "--locality",
            "Banchory",
            "--client-group",
            "elderly-frail",
        ],
        Some(&practitioner),
    ));
    let id = person["id"].as_str().expect("a person id").to_owned();
    let run =
        |args: &[&str], token: &str| server.run(&[&["assessment"], args].concat(), Some(token));

    let budget = printed(&run(
        &[
            "budget",
            &id,
            "--by-hand",
            "300.00",
            "--reason",
            "agreed at the planning meeting",
        ],
        &practitioner,
    ));
    assert_eq!(budget["method"], "BUDGET_METHOD_SET_BY_HAND");
    assert_eq!(budget["weekly"]["amount"], "300.00");

    // Two lines costing 400.00 a week: over the budget (so a reason) and over the
    // practitioner's adult limit of 375.00 (so a team manager approves).
    let start = days_ago(60);
    let day_support =
        format!("day-support:hours=8@23.75:option3:from={start}:provider=CS2004071234");
    let draft = || {
        printed(&run(
            &[
                "plan",
                "draft",
                &id,
                "--effective-from",
                &start,
                "--line",
                "personal-care:weekly=210.00:option2",
                "--line",
                &day_support,
            ],
            &practitioner,
        ))
    };
    let first = draft();
    assert_eq!(first["version"], 1);
    assert_eq!(first["status"], "PLAN_STATUS_DRAFT");
    assert_eq!(first["option"], 4);
    assert_eq!(first["lines"][1]["weekly"], "190.0000");
    assert!(
        first["lines"][0]["pending"]
            .as_str()
            .is_some_and(|pending| !pending.is_empty()),
        "{first}"
    );
    let submit = |version: &str, reason: &[&str]| {
        printed(&run(
            &[&["plan", "submit", &id, "--version", version], reason].concat(),
            &practitioner,
        ))
    };
    let reason = ["--over-budget-reason", "two carers needed in the mornings"];
    submit("1", &reason);
    let rejected = printed(&run(
        &[
            "plan",
            "reject",
            &id,
            "--version",
            "1",
            "--reason",
            "ask Morag's daughter about the mornings first",
        ],
        &team_manager,
    ));
    assert_eq!(rejected["status"], "PLAN_STATUS_REJECTED");
    assert_eq!(
        rejected["rejection_reason"],
        "ask Morag's daughter about the mornings first"
    );

    // A rejected version stays as it was; drafting again starts the next version.
    let second = draft();
    assert_eq!(second["version"], 2);
    let second_version = second["version"].as_u64().expect("a version").to_string();
    let submitted = submit(&second_version, &reason);
    assert_eq!(submitted["status"], "PLAN_STATUS_SUBMITTED");
    assert_eq!(submitted["over_budget_by"]["amount"], "100.00");

    let above_limit = refusal(&run(
        &["plan", "approve", &id, "--version", &second_version],
        &practitioner,
    ));
    assert!(
        above_limit.starts_with("error: PermissionDenied: "),
        "{above_limit}"
    );
    assert!(above_limit.contains("375.00"), "{above_limit}");

    let approved = printed(&run(
        &["plan", "approve", &id, "--version", &second_version],
        &team_manager,
    ));
    assert_eq!(approved["status"], "PLAN_STATUS_APPROVED");
    assert_eq!(approved["approved_as"], "team-manager");

    let chosen = printed(&run(
        &[
            "plan",
            "choose",
            &id,
            "--version",
            &second_version,
            "--line",
            "1",
            "--provider",
            "CS2004070001",
            "--holding-model",
            "provider",
        ],
        &practitioner,
    ));
    let chosen_version = chosen["version"].as_u64().expect("a version");
    assert_eq!(chosen["status"], "PLAN_STATUS_APPROVED");
    assert_eq!(chosen["lines"][0]["pending"], "");

    // Backdated within the window: day support ends, social support by direct payment
    // starts, 290.00 a week, within the budget and the practitioner's own limit.
    let varied_from = days_ago(10);
    let varied = printed(&run(
        &[
            "plan",
            "vary",
            &id,
            "--version",
            &chosen_version.to_string(),
            "--effective-from",
            &varied_from,
            "--end-line",
            "2",
            "--add",
            "social-support:weekly=80.00:option1",
        ],
        &practitioner,
    ));
    let varied_version = varied["version"].as_u64().expect("a version").to_string();
    assert_eq!(varied["status"], "PLAN_STATUS_DRAFT");
    printed(&run(
        &["plan", "submit", &id, "--version", &varied_version],
        &practitioner,
    ));
    let approved = printed(&run(
        &["plan", "approve", &id, "--version", &varied_version],
        &practitioner,
    ));
    assert_eq!(approved["approved_as"], "practitioner");

    let plan = printed(&run(&["plan", "get", &id, "--json"], &practitioner));
    assert_eq!(plan["version"], 4, "{plan}");
    assert_eq!(plan["status"], "PLAN_STATUS_APPROVED");
    assert_eq!(plan["effective_from"]["iso"], varied_from.as_str());
    assert_eq!(plan["weekly_cost"]["amount"], "290.00");
    let the_day_before = days_ago(11);
    let lines: Vec<Value> = plan["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(line_summary)
        .collect();
    assert_eq!(
        lines,
        vec![
            json!([1, "SUPPORT_TYPE_PERSONAL_CARE", 2, "210.0000", start, null]),
            json!([
                2,
                "SUPPORT_TYPE_DAY_SUPPORT",
                3,
                "190.0000",
                start,
                the_day_before
            ]),
            json!([
                3,
                "SUPPORT_TYPE_SOCIAL_SUPPORT",
                1,
                "80.0000",
                varied_from,
                null
            ]),
        ]
    );
    assert_eq!(
        plan["lines"][0]["arrangement"]["person_directed"]["provider"],
        home_care.as_str(),
        "the number chosen is kept as the directory id it resolves to"
    );
    assert_eq!(
        plan["lines"][1]["arrangement"]["authority_arranged"]["provider"],
        day_centre.as_str()
    );

    let table = run(
        &["plan", "get", &id, "--version", &second_version],
        &practitioner,
    );
    assert!(table.status.success(), "{}", stderr_of(&table));
    let table = stdout_of(&table);
    assert!(
        table.starts_with("LINE  SUPPORT        OPTION  WEEKLY    START"),
        "{table}"
    );
    assert!(table.contains("day-support    3       190.0000"), "{table}");
    assert!(
        table.contains(&format!("version {second_version} (approved)")),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_line_or_lines_file_is_refused_before_anything_is_sent_and_an_unknown_plan_is_not_found()
 {
    let server = ServerProcess::start().await;
    let practitioner = server.staff_token("practitioner");
    let run = |args: &[&str]| {
        server.run(
            &[&["assessment", "plan"], args].concat(),
            Some(&practitioner),
        )
    };

    let message = refusal(&run(&[
        "draft",
        "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
        "--effective-from",
        "2026-04-01",
        "--line",
        "personal-care:weekly=210.00:option5",
    ]));
    assert_eq!(
        message,
        "error: line \"personal-care:weekly=210.00:option5\": option \"option5\" is not one of \
         option1 (direct payment), option2 (person directed) or option3 (authority arranged)"
    );

    let message = refusal(&server.run_with_input(
        &[
            "assessment",
            "plan",
            "draft",
            "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
            "--effective-from",
            "2026-04-01",
            "--lines-file",
            "-",
        ],
        Some(&practitioner),
        br#"[{"support": "SUPPORT_TYPE_EQUIPMENT"}]"#,
    ));
    assert!(
        message.starts_with("error: standard input: [0].support: unknown field `support`"),
        "{message}"
    );

    let message = refusal(&run(&[
        "reject",
        "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
        "--version",
        "1",
        "--reason",
        "needs the carer's view",
    ]));
    assert!(message.starts_with("error: NotFound: "), "{message}");
}
