//! `sds assessment ...` end to end: the real `sds` binary against a real `sds serve` on
//! real PostgreSQL and NATS, as a council's staff would drive it.
//!
//! What must stay true: the sample policy `deploy/local/up` sets is one the service accepts;
//! each command prints the JSON of the message the server returned; a refusal is one line
//! with the server's code and message, nothing on stdout, and a non-zero exit.

mod support;

use std::process::Output;

use support::{ServerProcess, printed, refusal, sample_policy, stderr_of, stdout_of, write_temp};

fn record_morag(server: &ServerProcess, token: &str) -> Output {
    server.run(
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
            "--client-group",
            "physical_sensory_disability",
        ],
        Some(token),
    )
}

fn assess(server: &ServerProcess, token: &str, person: &str, extra: &[&str]) -> Output {
    let args = [
        &[
            "assessment",
            "assess",
            person,
            "--outcome",
            "I want to stay in my own home",
            "--outcome",
            "I want to get to the lunch club on Thursdays",
            "--need",
            "help to wash and dress in the morning",
            "--assessed-on",
            "2026-06-01",
        ],
        extra,
    ]
    .concat();
    server.run(&args, Some(token))
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_set_the_sample_policy_record_a_person_and_assess_them_eligible_or_not() {
    let server = ServerProcess::start().await;
    let commissioning = server.commissioning_token();
    let practitioner = server.staff_token("practitioner");

    let policy = printed(&server.run(
        &["assessment", "policy", "set", "--file", &sample_policy()],
        Some(&commissioning),
    ));
    let details = &policy["details"];
    assert_eq!(details["authority"], "demo-shire");
    assert_eq!(details["effective_from"]["iso"], "2026-04-01");
    assert_eq!(
        details["eligibility_threshold"],
        "ELIGIBILITY_LEVEL_SUBSTANTIAL"
    );
    assert_eq!(
        details["approval_limits"]["practitioner"]["adult"]["up_to"]["amount"],
        "375.00"
    );
    assert_eq!(
        details["approval_limits"]["panel"]["child"]["unlimited"],
        true
    );
    assert_eq!(details["review_interval_months"], 12);
    assert_eq!(policy["recorded_by"], "demo-shire");

    let got = printed(&server.run(
        &[
            "assessment",
            "policy",
            "get",
            "--authority",
            "demo-shire",
            "--at",
            "2026-06-01",
        ],
        Some(&practitioner),
    ));
    assert_eq!(got, policy);

    // What deploy/local/up meets when it runs again: the policy is never changed once set.
    let again = refusal(&server.run(
        &["assessment", "policy", "set", "--file", &sample_policy()],
        Some(&commissioning),
    ));
    assert!(
        again.starts_with(
            "error: FailedPrecondition: demo-shire has a policy in effect from 2026-04-01"
        ),
        "{again}"
    );

    let person = printed(&record_morag(&server, &practitioner));
    let id = person["id"].as_str().expect("a person id").to_owned();
    assert_eq!(person["authority"], "demo-shire");
    assert_eq!(person["version"], "1");
    assert_eq!(person["details"]["display_name"], "Morag Innes");
    assert_eq!(person["details"]["date_of_birth"]["iso"], "1941-02-17");
    assert_eq!(
        person["details"]["client_groups"],
        serde_json::json!([
            "CLIENT_GROUP_PHYSICAL_SENSORY_DISABILITY",
            "CLIENT_GROUP_ELDERLY_FRAIL"
        ])
    );
    // Recording the same person again is harmless: the same record, no new version.
    assert_eq!(printed(&record_morag(&server, &practitioner)), person);

    let got = printed(&server.run(&["assessment", "person", "get", &id], Some(&practitioner)));
    assert_eq!(got, person);

    let eligible = printed(&assess(
        &server,
        &practitioner,
        &id,
        &["--eligibility", "substantial"],
    ));
    assert_eq!(eligible["person_id"], id.as_str());
    assert_eq!(eligible["eligibility"], "ELIGIBILITY_LEVEL_SUBSTANTIAL");
    assert_eq!(eligible["eligible"], true);
    assert_eq!(eligible["assessed_on"]["iso"], "2026-06-01");
    assert_eq!(
        eligible["outcomes"][1],
        "I want to get to the lunch club on Thursdays"
    );
    assert_eq!(
        eligible["needs"][0],
        "help to wash and dress in the morning"
    );
    assert!(
        eligible["decision_reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("substantial")),
        "{eligible}"
    );

    let not_eligible = printed(&assess(
        &server,
        &practitioner,
        &id,
        &[
            "--eligibility",
            "moderate",
            "--community-resource",
            "Banchory lunch club",
        ],
    ));
    assert_eq!(not_eligible["eligible"], false);
    assert_eq!(
        not_eligible["community_resources"],
        serde_json::json!(["Banchory lunch club"])
    );
    assert_ne!(not_eligible["id"], eligible["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_call_prints_the_servers_reason_in_one_line_and_exits_non_zero() {
    let server = ServerProcess::start().await;
    let commissioning = server.commissioning_token();
    let practitioner = server.staff_token("practitioner");

    let no_policy_yet = refusal(&server.run(
        &["assessment", "policy", "get", "--authority", "demo-shire"],
        Some(&practitioner),
    ));
    assert!(
        no_policy_yet.starts_with("error: NotFound: demo-shire has no policy in effect on"),
        "{no_policy_yet}"
    );

    // A policy the file format allows but the service does not: limits must rise with
    // seniority. Read from standard input, which `--file -` takes.
    let sample = std::fs::read_to_string(sample_policy()).unwrap();
    let inverted = sample.replace("\"375.00\"", "\"900.00\"");
    let message = refusal(&server.run_with_input(
        &["assessment", "policy", "set", "--file", "-"],
        Some(&commissioning),
        inverted.as_bytes(),
    ));
    assert!(
        message.starts_with("error: InvalidArgument: details.approval_limits"),
        "{message}"
    );

    // The file is read before the server is asked: a file that is not the policy's JSON is
    // refused naming the file and the field.
    let misspelt = write_temp(
        "policy.json",
        sample
            .replace("\"sending_location\"", "\"sending_place\"")
            .as_bytes(),
    );
    let message = refusal(&server.run(
        &[
            "assessment",
            "policy",
            "set",
            "--file",
            misspelt.to_str().unwrap(),
        ],
        Some(&commissioning),
    ));
    assert!(
        message.contains(&format!(
            "{}: sending_place: unknown field `sending_place`",
            misspelt.display()
        )),
        "{message}"
    );
    printed(&server.run_with_input(
        &["assessment", "policy", "set", "--file", "-"],
        Some(&commissioning),
        sample.as_bytes(),
    ));

    let person = printed(&record_morag(&server, &practitioner));
    let id = person["id"].as_str().unwrap();
    let message = refusal(&assess(
        &server,
        &practitioner,
        id,
        &["--eligibility", "low"],
    ));
    assert!(
        message.starts_with(
            "error: InvalidArgument: community_resources is empty, but the person is not eligible (The assessed risk is low;"
        ),
        "{message}"
    );
    assert!(
        message.ends_with("note the community resources they were pointed to"),
        "{message}"
    );

    let message = refusal(&server.run(
        &[
            "assessment",
            "person",
            "record",
            "--authority",
            "demo-shire",
            "--case-reference",
            "SW-2026-0043",
            "--name",
            "Callum Reid",
            "--date-of-birth",
            "17/02/1961",
            "--locality",
            "Stonehaven",
            "--client-group",
            "learning-disability",
        ],
        Some(&practitioner),
    ));
    assert!(
        message.starts_with("error: InvalidArgument: details.date_of_birth"),
        "{message}"
    );

    // Assessments are casework: commissioning staff may set the policy but not assess.
    let message = refusal(&assess(
        &server,
        &commissioning,
        id,
        &["--eligibility", "critical"],
    ));
    assert!(
        message
            .starts_with("error: PermissionDenied: assessments, budgets and plans are recorded by"),
        "{message}"
    );
}

/// Records `case_reference` in demo-shire and approves a plan of `lines` (option, start,
/// end) at 100.00 a week each, from 2026-04-01, through the service's own calls: one
/// connection sets up a person where the CLI would start five processes (plan_cli.rs
/// drives the plan commands themselves).
async fn approved_person(
    server: &ServerProcess,
    case_reference: &str,
    locality: &str,
    groups: &[sds_proto::v1::ClientGroup],
    lines: &[(u8, &str, Option<&str>)],
) {
    use sds_proto::v1 as proto;
    use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
    use sds_testkit::bearer;

    let token = server.staff_token("practitioner");
    let mut client = AssessmentServiceClient::connect(format!("http://{}", server.addr()))
        .await
        .expect("connect to sds serve");
    let date = |iso: &str| Some(proto::Date { iso: iso.into() });
    let person = client
        .record_person(bearer(
            &token,
            proto::RecordPersonRequest {
                authority: "demo-shire".into(),
                details: Some(proto::PersonDetails {
                    case_reference: case_reference.into(),
                    display_name: "Morag Innes".into(),
                    date_of_birth: date("1941-02-17"),
                    locality: locality.into(),
                    client_groups: groups.iter().map(|group| *group as i32).collect(),
                }),
            },
        ))
        .await
        .expect("record person")
        .into_inner();
    client
        .set_indicative_budget(bearer(
            &token,
            proto::SetIndicativeBudgetRequest {
                person_id: person.id.clone(),
                method: Some(proto::set_indicative_budget_request::Method::ByHand(
                    proto::BudgetByHand {
                        weekly: Some(proto::Money {
                            amount: "300.00".into(),
                        }),
                        reason: "agreed at the planning meeting".into(),
                    },
                )),
                set_on: date("2026-04-01"),
            },
        ))
        .await
        .expect("set budget");
    let lines = lines
        .iter()
        .map(|(option, start, end)| {
            use proto::arrangement::Arrangement;
            let arrangement = match option {
                1 => Arrangement::DirectPayment(proto::DirectPayment {}),
                2 => Arrangement::PersonDirected(proto::PersonDirected::default()),
                _ => Arrangement::AuthorityArranged(proto::AuthorityArranged::default()),
            };
            proto::NewPlanLine {
                support_type: proto::SupportType::PersonalCare as i32,
                amount: Some(proto::LineAmount {
                    amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                        amount: "100.00".into(),
                    })),
                }),
                arrangement: Some(proto::Arrangement {
                    arrangement: Some(arrangement),
                }),
                start: date(start),
                end: end.and_then(date),
            }
        })
        .collect();
    client
        .draft_plan(bearer(
            &token,
            proto::DraftPlanRequest {
                person_id: person.id.clone(),
                effective_from: date("2026-04-01"),
                lines,
            },
        ))
        .await
        .expect("draft plan");
    client
        .submit_plan(bearer(
            &token,
            proto::SubmitPlanRequest {
                person_id: person.id.clone(),
                version: 1,
                over_budget_reason: String::new(),
            },
        ))
        .await
        .expect("submit plan");
    client
        .approve_plan(bearer(
            &token,
            proto::ApprovePlanRequest {
                person_id: person.id,
                version: 1,
            },
        ))
        .await
        .expect("approve plan");
}

#[tokio::test(flavor = "multi_thread")]
async fn commissioning_staff_print_uptake_as_one_json_line_and_write_the_phs_return_files() {
    use sds_proto::v1::ClientGroup::{Carer, Dementia, LearningDisability};

    let server = ServerProcess::start().await;
    let commissioning = server.commissioning_token();
    printed(&server.run(
        &["assessment", "policy", "set", "--file", &sample_policy()],
        Some(&commissioning),
    ));
    approved_person(
        &server,
        "SW-01",
        "Banchory",
        &[Dementia, Carer],
        &[(2, "2026-04-01", None)],
    )
    .await;
    approved_person(
        &server,
        "SW-02",
        "Banchory",
        &[Dementia],
        &[(1, "2026-04-01", None), (3, "2026-06-01", None)],
    )
    .await;
    // Ended the day before: not counted on 1 October, and only in the Q2 return.
    approved_person(
        &server,
        "SW-03",
        "Stonehaven",
        &[LearningDisability],
        &[(3, "2026-04-01", Some("2026-09-30"))],
    )
    .await;

    let stats = &[
        "assessment",
        "stats",
        "--authority",
        "demo-shire",
        "--at",
        "2026-10-01",
    ];
    let output = server.run(&[&stats[..], &["--json"]].concat(), Some(&commissioning));
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        support::last_line_json(&output),
        serde_json::json!({
            "authority": "demo-shire",
            "at": "2026-10-01",
            "people": 2,
            "by_option": {"1": 0, "2": 1, "3": 0, "4": 1},
            "cells": [
                {"locality": "Banchory", "client_group": "dementia", "option": "2", "people": 1},
                {"locality": "Banchory", "client_group": "dementia", "option": "4", "people": 1},
                {"locality": "Banchory", "client_group": "carer", "option": "2", "people": 1},
            ]
        })
    );
    // The keys come in the issue's order, for readers of the raw line.
    let line = stdout_of(&output);
    let keys: Vec<usize> = [
        "\"authority\"",
        "\"at\"",
        "\"people\"",
        "\"by_option\"",
        "\"cells\"",
    ]
    .iter()
    .map(|key| line.find(key).expect("every key"))
    .collect();
    assert!(keys.is_sorted(), "{line}");
    assert!(
        line.starts_with(
            r#"{"authority": "demo-shire", "at": "2026-10-01", "people": 2, "by_option": {"1": 0,"#
        ),
        "spaced as the issue writes it: {line}"
    );

    let table = server.run(stats, Some(&commissioning));
    assert!(table.status.success(), "{}", stderr_of(&table));
    let table = stdout_of(&table);
    assert!(
        table.starts_with("LOCALITY  CLIENT GROUP  OPTION  PEOPLE  PERCENT\n"),
        "{table}"
    );
    assert!(
        table.contains("Banchory  carer         2       1       50.0%\n"),
        "{table}"
    );
    assert!(
        table.ends_with(
            "option 1: 0 (0.0%)  option 2: 1 (50.0%)  option 3: 0 (0.0%)  option 4: 1 (50.0%)\n"
        ),
        "{table}"
    );

    let directory = std::env::temp_dir().join(format!("sds-phs-{}", support::uuid_like()));
    let output = server.run(
        &[
            "assessment",
            "export-phs",
            "--authority",
            "demo-shire",
            "--period",
            "2026Q3",
            "--output-dir",
            directory.to_str().unwrap(),
        ],
        Some(&commissioning),
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let said = stdout_of(&output);
    let snapshot_path = directory.join("sds_snapshot.csv");
    let client_path = directory.join("client.csv");
    assert!(
        said.contains(&format!("{}  2 rows\n", snapshot_path.display())),
        "{said}"
    );
    assert!(
        said.contains(&format!("{}  2 rows\n", client_path.display())),
        "{said}"
    );
    let snapshot = std::fs::read_to_string(&snapshot_path).expect("sds_snapshot.csv");
    assert_eq!(
        snapshot,
        "sending_location,social_care_id,period,sds_period_start_date,sds_period_end_date,sds_start_date,sds_end_date,sds_option_1,sds_option_2,sds_option_3\r\n\
         100,SW-01,2026Q3,2026-10-01,2026-12-31,2026-04-01,,0,1,0\r\n\
         100,SW-02,2026Q3,2026-10-01,2026-12-31,2026-06-01,,1,0,1\r\n"
    );
    let clients = std::fs::read_to_string(&client_path).expect("client.csv");
    assert_eq!(
        clients,
        "sending_location,social_care_id,financial_year,financial_quarter,dementia,mental_health_problems,learning_disability,physical_and_sensory_disability,drugs,alcohol,palliative_care,carer,elderly_frail,neurological_condition,autism,other_vulnerable_groups\r\n\
         100,SW-01,2026,3,1,0,0,0,0,0,0,1,0,0,0,0\r\n\
         100,SW-02,2026,3,1,0,0,0,0,0,0,0,0,0,0,0\r\n"
    );
    std::fs::remove_dir_all(&directory).unwrap();

    // Practitioners see people one at a time, not the authority's figures.
    let message = refusal(&server.run(stats, Some(&server.staff_token("practitioner"))));
    assert!(
        message.starts_with("error: PermissionDenied: "),
        "{message}"
    );
}
