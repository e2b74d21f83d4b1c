//! `sds audit reads` against a real `sds serve`: a person's record read in assessment, their
//! statement read in the ledger (and refused to a provider who may not see it), a payee's
//! bank account read in payments, all in one CSV ordered by time; narrowed to the person;
//! refused to another authority's staff with one line and nothing printed; a caller named
//! as a spreadsheet formula listed as text.

mod support;

use support::*;

const HOLDER: &str = "0192f0c1-0000-7000-8000-0000000000b1";
const PAYEE: &str = "0192f0c1-0000-7000-8000-0000000000c1";
const STRANGER: &str = "0192f0c1-0000-7000-8000-0000000000c2";

/// The CSV's rows (the header checked and left out), each as its cells.
fn rows(output: &std::process::Output) -> Vec<Vec<String>> {
    assert!(output.status.success(), "{}", stderr_of(output));
    let text = stdout_of(output);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header line")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header.join(","),
        "at,service,authority,actor,actor_kind,subject_kind,subject_id,what,record_id,outcome"
    );
    reader
        .records()
        .map(|record| {
            record
                .expect("a CSV row")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_in_every_service_come_back_as_one_listing_ordered_by_time() {
    let server = ServerProcess::start().await;
    let practitioner = server.staff_token("practitioner");
    let finance = server.staff_token("finance");

    let person = printed(&server.run(
        &[
            "assessment",
            "person",
            "record",
            "--authority",
            "demo-shire",
            "--case-reference",
            "SW-2026-0077",
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
    let person_id = person["id"].as_str().expect("a person id").to_owned();
    printed(&server.run(
        &["assessment", "person", "get", &person_id],
        Some(&practitioner),
    ));

    let fund = printed(&server.run(
        &[
            "ledger",
            "open-fund",
            "--authority",
            "demo-shire",
            "--person",
            &person_id,
            "--holding-model",
            "third-party",
            "--holder",
            HOLDER,
            "--weekly-budget",
            "375.00",
            "--payee",
            PAYEE,
        ],
        Some(&practitioner),
    ));
    let fund_id = fund["id"].as_str().expect("a fund id").to_owned();
    let statement = [
        "ledger",
        "statement",
        fund_id.as_str(),
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-28",
    ];
    let read = server.run(&statement, Some(&finance));
    assert!(read.status.success(), "{}", stderr_of(&read));
    let stranger = server.token(&["--org", STRANGER, "--kind", "provider"]);
    let refused = refusal(&server.run(&statement, Some(&stranger)));
    assert!(refused.starts_with("error: NotFound: "), "{refused}");

    let payee_account = |extra: &[&str]| {
        let mut args = vec![
            "payments",
            "payee-account",
            "--authority",
            "demo-shire",
            "--payee",
            PAYEE,
        ];
        args.extend_from_slice(extra);
        printed(&server.run(&args, Some(&finance)))
    };
    payee_account(&[
        "--sort-code",
        "40-11-62",
        "--account-number",
        "41234567",
        "--account-name",
        "Kingdom Care Ltd",
    ]);
    payee_account(&[]);

    let all = rows(&server.run(
        &["audit", "reads", "--authority", "demo-shire"],
        Some(&practitioner),
    ));
    let seen: Vec<Vec<&str>> = all
        .iter()
        .map(|row| row[1..].iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        seen,
        [
            vec![
                "assessment",
                "demo-shire",
                "demo-shire",
                "authority",
                "person",
                &person_id,
                "assessment.GetPerson",
                &person_id,
                "read",
            ],
            vec![
                "ledger",
                "demo-shire",
                "demo-shire",
                "authority",
                "person",
                &person_id,
                "ledger.GetStatement",
                &fund_id,
                "read",
            ],
            vec![
                "ledger",
                "demo-shire",
                STRANGER,
                "provider",
                "person",
                &person_id,
                "ledger.GetStatement",
                &fund_id,
                "refused:NOT_FOUND",
            ],
            vec![
                "payments",
                "demo-shire",
                "demo-shire",
                "authority",
                "payee",
                PAYEE,
                "payments.GetPayeeBankAccount",
                PAYEE,
                "read",
            ],
        ],
        "oldest first across the services"
    );
    let times: Vec<&str> = all.iter().map(|row| row[0].as_str()).collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "{times:?}");

    let about_the_person = rows(&server.run(
        &[
            "audit",
            "reads",
            "--authority",
            "demo-shire",
            "--subject",
            &person_id,
            "--since",
            &all[1][0],
        ],
        Some(&finance),
    ));
    let services: Vec<&str> = about_the_person.iter().map(|row| row[1].as_str()).collect();
    assert_eq!(services, ["ledger", "ledger"]);

    let angus = server.token(&[
        "--org",
        "angus",
        "--kind",
        "authority",
        "--roles",
        "finance",
        "--authority",
        "angus",
    ]);
    let message = refusal(&server.run(
        &["audit", "reads", "--authority", "demo-shire"],
        Some(&angus),
    ));
    assert!(
        message.starts_with("error: PermissionDenied: "),
        "{message}"
    );
    let message = refusal(&server.run(
        &[
            "audit",
            "reads",
            "--authority",
            "demo-shire",
            "--since",
            "last week",
        ],
        Some(&practitioner),
    ));
    assert!(
        message.starts_with("error: InvalidArgument: since "),
        "{message}"
    );

    // A caller whose token names it as a spreadsheet formula is listed as text.
    let formula = "=HYPERLINK(\"http://x.example\",\"x\")";
    let hostile = server.token(&["--org", formula, "--kind", "provider"]);
    let refused = refusal(&server.run(&statement, Some(&hostile)));
    assert!(refused.starts_with("error: NotFound: "), "{refused}");
    let listed = rows(&server.run(
        &[
            "audit",
            "reads",
            "--authority",
            "demo-shire",
            "--subject",
            &person_id,
        ],
        Some(&practitioner),
    ));
    let last = listed.last().expect("the hostile refusal");
    assert_eq!(last[3], format!("'{formula}"));
    assert_eq!(last[9], "refused:NOT_FOUND");
}
