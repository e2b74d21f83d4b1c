//! `sds contracts ...` against a real `sds serve`: an agreement drafted from an imported plan,
//! read, listed, summarised and signed by each party, and the payment schedule payments makes
//! of it and follows through its variation and end (`sds payments schedule`).

mod support;

use support::*;

/// Waits until contracts holds a copy of an approved plan (from assessment's
/// `plan.approved`), and returns the person's id.
/// `sds payments schedule ID --json` once it shows what `ready` looks for: payments hears of
/// agreements through events, a moment after contracts publishes them.
async fn schedule_once(
    server: &ServerProcess,
    id: &str,
    token: &str,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    sds_testkit::wait_until(
        std::time::Duration::from_secs(20),
        "payments shows the agreement's schedule",
        || async {
            let output = server.run(&["payments", "schedule", id, "--json"], Some(token));
            if !output.status.success() {
                return None;
            }
            let schedule = printed(&output);
            ready(&schedule).then_some(schedule)
        },
    )
    .await
}

async fn contracts_holds_a_plan(server: &ServerProcess) -> String {
    let database = server
        .env
        .iter()
        .find(|(name, _)| name == "SDS_DATABASE_URL")
        .map(|(_, url)| url.clone())
        .expect("the server's database");
    let pool = sqlx::PgPool::connect(&database)
        .await
        .expect("connect to the server's database");
    let person = sds_testkit::wait_until(
        std::time::Duration::from_secs(20),
        "contracts holds the approved plan",
        || async {
            sqlx::query_scalar::<_, String>(
                "SELECT person_id::text FROM contracts.plan_copy LIMIT 1",
            )
            .fetch_optional(&pool)
            .await
            .expect("read contracts' plan copies")
        },
    )
    .await;
    pool.close().await;
    person
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agreement_is_drafted_from_an_imported_plan_signed_by_each_party_and_summarised() {
    let server = ServerProcess::start().await;
    let provider = server
        .directory_lists("Deeside Home Care", "CS2004071234")
        .await;
    let commissioning = server.commissioning_token();
    let file = write_temp("one-person.csv", ONE_PERSON_EXPORT.as_bytes());
    let imported = server.run(
        &[
            "assessment",
            "import",
            "--authority",
            "demo-shire",
            file.to_str().expect("the temporary path is UTF-8"),
        ],
        Some(&commissioning),
    );
    assert!(imported.status.success(), "{}", stderr_of(&imported));
    let person = contracts_holds_a_plan(&server).await;
    // Defaults only now, so nothing was drafted on its own: this agreement is drafted by hand.
    printed(&server.run(
        &[
            "contracts",
            "defaults",
            "set",
            "--authority",
            "demo-shire",
            "--frequency",
            "four-weekly",
            "--timing",
            "arrears:14",
            "--basis",
            "scheduled",
            "--tolerance",
            "10",
            "--fee",
            "flat:12.50",
            "--notice-days",
            "28",
            "--review-after-months",
            "12",
        ],
        Some(&commissioning),
    ));
    let practitioner = server.staff_token("practitioner");

    let drafted = printed(&server.run(
        &[
            "contracts",
            "agreement",
            "draft",
            "--authority",
            "demo-shire",
            "--person",
            &person,
            "--lines",
            "1",
            "--outcomes",
            "I want to stay in my own home",
            "--representative",
            "Ann Innes",
            "--capacity",
            "welfare-guardian",
        ],
        Some(&practitioner),
    ));
    assert_eq!(drafted["status"], "AGREEMENT_STATUS_DRAFT");
    assert_eq!(drafted["provider_id"], provider.as_str());
    assert_eq!(drafted["weekly"]["total"]["amount"], "222.50");
    let id = drafted["id"].as_str().expect("an agreement id").to_owned();

    let table = server.run(&["contracts", "agreement", "get", &id], Some(&practitioner));
    let text = stdout_of(&table);
    assert!(table.status.success(), "{}", stderr_of(&table));
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("LINE  SUPPORT"), "{text}");
    assert!(
        rows[1].contains("personal-care") && rows[1].contains("210.00"),
        "{text}"
    );
    assert!(
        text.contains("signed for the person by Ann Innes (welfare-guardian)"),
        "{text}"
    );
    assert!(
        text.contains("signed: nobody yet; to sign: person, provider, authority"),
        "{text}"
    );
    let listed = server.run(
        &["contracts", "agreement", "list", "--person", &person],
        Some(&practitioner),
    );
    let list_text = stdout_of(&listed);
    assert!(
        list_text.contains(&id) && list_text.contains("1 agreement"),
        "{list_text}{}",
        stderr_of(&listed)
    );

    let summary = server.run(
        &["contracts", "agreement", "summary", &id],
        Some(&practitioner),
    );
    let summary_text = stdout_of(&summary);
    assert!(summary.status.success(), "{}", stderr_of(&summary));
    assert!(
        summary_text.starts_with("Who this agreement is between\n\n"),
        "{summary_text}"
    );
    for said in [
        "Ann Innes, who acts for you as your welfare guardian.",
        "Demo Shire pays £222.50 a week in all.",
        "There is a fee of £12.50 a week for looking after the money.",
        "Demo Shire pays the money to your provider.",
    ] {
        assert!(summary_text.contains(said), "{said:?}:\n{summary_text}");
    }
    let html = stdout_of(&server.run(
        &["contracts", "agreement", "summary", &id, "--html"],
        Some(&practitioner),
    ));
    assert!(
        html.starts_with("<h2>Who this agreement is between</h2>\n"),
        "{html}"
    );

    // Each party signs from its own token; the person's welfare guardian signs for them.
    let person_token = server.token(&["--org", &person, "--kind", "person", "--person", &person]);
    let provider_token = server.token(&["--org", &provider, "--kind", "provider"]);
    let sign = |token: &str, extra: &[&str]| {
        server.run(
            &[
                &["contracts", "agreement", "sign", &id, "--version", "1"],
                extra,
            ]
            .concat(),
            Some(token),
        )
    };
    let by_person = printed(&sign(&person_token, &["--capacity", "welfare-guardian"]));
    assert_eq!(
        by_person["signatures"][0]["capacity"],
        "SIGNING_CAPACITY_WELFARE_GUARDIAN"
    );
    printed(&sign(&provider_token, &[]));
    // The provider is not on demo-shire's framework and has no insurance on record: the
    // last signature, which would start the agreement, is refused naming what is missing.
    let refused = refusal(&sign(&practitioner, &[]));
    assert!(
        refused.starts_with("error: FailedPrecondition: provider ")
            && refused.contains("public liability insurance: none recorded"),
        "{refused}"
    );
    // The server's "today" is London's.
    let today = sds_platform::clock::london_date(chrono::Utc::now());
    let in_a_year = (today + chrono::Days::new(365)).to_string();
    let insured = server.run(
        &[
            "directory",
            "record-check",
            &provider,
            "--kind",
            "public-liability-insurance",
            "--reference",
            "PLI-0042",
            "--checked-on",
            &today.to_string(),
            "--expires-on",
            &in_a_year,
        ],
        Some(&provider_token),
    );
    assert!(insured.status.success(), "{}", stderr_of(&insured));
    let active = printed(&sign(&practitioner, &[]));
    assert_eq!(active["status"], "AGREEMENT_STATUS_ACTIVE");
    assert_eq!(active["unsigned"], serde_json::json!([]));
    let json = printed(&server.run(
        &["contracts", "agreement", "get", &id, "--json"],
        Some(&provider_token),
    ));
    assert_eq!(json, active);

    // Payments makes the agreement's schedule from agreement.signed: it pays the provider
    // on demo-shire's default terms, and the provider may read it.
    let schedule = schedule_once(&server, &id, &provider_token, |schedule| {
        schedule["revision"] == 1
    })
    .await;
    assert_eq!(schedule["payee_id"], provider.as_str());
    assert_eq!(schedule["payee_kind"], "PAYEE_KIND_PROVIDER");
    assert_eq!(
        schedule["history"]["frequency"],
        "PAYMENT_FREQUENCY_FOUR_WEEKLY"
    );
    assert_eq!(
        schedule["history"]["versions"][0]["lines"][0]["weekly_amount"]["amount"],
        active["lines"][0]["weekly"]["amount"]
    );

    // A run four weeks on pays what is due by then, once; the last line is the run as JSON.
    let finance = server.staff_token("finance");
    let run_date = (today + chrono::Days::new(28)).to_string();
    let run = |token: &str| {
        server.run(
            &[
                "payments",
                "run",
                "--authority",
                "demo-shire",
                "--date",
                &run_date,
            ],
            Some(token),
        )
    };
    // Without the provider's bank details its instalments are held back, and the run says so.
    let settings = server.run(
        &[
            "payments",
            "settings",
            "--authority",
            "demo-shire",
            "--anchor-date",
            "2026-04-06",
            "--paying-name",
            "Demo Shire HSCP",
            "--paying-sort-code",
            "80-22-60",
            "--paying-account-number",
            "10203040",
            "--paying-account-name",
            "Demo Shire Council",
            "--service-user-number",
            "123456",
        ],
        Some(&finance),
    );
    assert!(settings.status.success(), "{}", stderr_of(&settings));
    assert_eq!(
        printed(&settings)["paying_account"]["account"]["sort_code"],
        "802260"
    );
    let held = run(&finance);
    assert!(held.status.success(), "{}", stderr_of(&held));
    assert_eq!(last_line_json(&held)["instalments"], 0);
    assert!(
        stderr_of(&held).contains(&format!("held: payee {provider} has no bank account")),
        "{}",
        stderr_of(&held)
    );
    let entered = server.run(
        &[
            "payments",
            "payee-account",
            "--authority",
            "demo-shire",
            "--payee",
            &provider,
            "--sort-code",
            "40-11-62",
            "--account-number",
            "41234567",
            "--account-name",
            "Demo Care Ltd",
        ],
        Some(&finance),
    );
    assert!(entered.status.success(), "{}", stderr_of(&entered));
    assert_eq!(printed(&entered)["version"], 1);

    let ran = run(&finance);
    assert!(ran.status.success(), "{}", stderr_of(&ran));
    let line = last_line_json(&ran);
    assert_eq!(line["payees"], 1, "{line}");
    let files: Vec<&str> = line["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|file| file.as_str())
        .collect();
    let names: Vec<&str> = files
        .iter()
        .map(|file| file.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        vec!["journal.csv", "bacs-standard18.txt", "pain001.xml"],
        "{line}"
    );
    assert!(
        line["run_id"].as_str().is_some_and(|id| id.len() == 36),
        "{line}"
    );
    // Exactly what the live schedule shows due by the run's date, each marked paid by it.
    let paid = printed(&server.run(
        &["payments", "schedule", &id, "--until", &run_date, "--json"],
        Some(&finance),
    ));
    let due: Vec<&serde_json::Value> = paid["instalments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|instalment| instalment["due_date"]["iso"].as_str().unwrap() <= run_date.as_str())
        .filter(|instalment| instalment["amount"]["amount"] != "0.00")
        .collect();
    assert!(!due.is_empty(), "{paid}");
    assert_eq!(line["instalments"], due.len(), "{line}");
    let total: rust_decimal::Decimal = due
        .iter()
        .map(|instalment| {
            instalment["amount"]["amount"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(line["total"], total.to_string(), "{line}");
    assert!(
        due.iter()
            .all(|instalment| instalment["paid_by_run"] == line["run_id"]),
        "{paid}"
    );
    // The provider's remittance: the first number of a fresh database.
    let remittance =
        printed(&server.run(&["payments", "remittance", "R000000001"], Some(&finance)));
    assert_eq!(remittance["payee_id"], provider.as_str(), "{remittance}");
    assert_eq!(remittance["total"]["amount"], line["total"], "{remittance}");
    assert_eq!(
        remittance["items"].as_array().map(Vec::len),
        Some(due.len()),
        "{remittance}"
    );
    let again = last_line_json(&run(&finance));
    assert_eq!(again["instalments"], 0, "nothing is paid twice: {again}");
    assert_eq!(again["total"], "0.00");
    let refused = refusal(&run(&practitioner));
    assert!(
        refused.starts_with(
            "error: PermissionDenied: payments of demo-shire are run by its finance staff"
        ),
        "{refused}"
    );

    // The authority varies the notice period from the start; every party signs version 2.
    let start = active["terms"]["start"]["iso"].as_str().unwrap().to_owned();
    let pending = printed(&server.run(
        &[
            "contracts",
            "agreement",
            "vary",
            &id,
            "--from",
            &start,
            "--notice-days",
            "56",
        ],
        Some(&practitioner),
    ));
    assert_eq!(pending["awaiting_version"], 2);
    assert_eq!(pending["cause"], "AGREEMENT_VERSION_CAUSE_TERMS_VARIED");
    let sign_two = |token: &str, extra: &[&str]| {
        printed(
            &server.run(
                &[
                    &["contracts", "agreement", "sign", &id, "--version", "2"],
                    extra,
                ]
                .concat(),
                Some(token),
            ),
        )
    };
    sign_two(&person_token, &["--capacity", "welfare-guardian"]);
    sign_two(&provider_token, &[]);
    let varied = sign_two(&practitioner, &[]);
    assert_eq!(varied["state"], "AGREEMENT_VERSION_STATE_AGREED");
    assert_eq!(varied["terms"]["notice_days"], 56);

    // The provider gives notice: too soon is refused naming the earliest last day.
    let too_soon = refusal(&server.run(
        &[
            "contracts",
            "agreement",
            "end",
            &id,
            "--last-day",
            &(today + chrono::Days::new(7)).to_string(),
            "--reason",
            "Staff shortage",
        ],
        Some(&provider_token),
    ));
    let earliest = (today + chrono::Days::new(56)).to_string();
    assert!(
        too_soon.starts_with("error: InvalidArgument: last_day ") && too_soon.contains(&earliest),
        "{too_soon}"
    );
    let ended = printed(&server.run(
        &[
            "contracts",
            "agreement",
            "end",
            &id,
            "--last-day",
            &earliest,
            "--reason",
            "Staff shortage",
        ],
        Some(&provider_token),
    ));
    assert_eq!(ended["status"], "AGREEMENT_STATUS_ENDED");
    let table =
        stdout_of(&server.run(&["contracts", "agreement", "get", &id], Some(&practitioner)));
    assert!(
        table.contains(&format!(
            "ended: the last day of support is {earliest} (notice)"
        )),
        "{table}"
    );

    // The schedule follows the version 2 and the end: it stops after the last day. The two
    // events may be handled in either order (one retried after a transient error is handled
    // after the other), so wait for both.
    let schedule = schedule_once(&server, &id, &practitioner, |schedule| {
        schedule["last_day"]["iso"] == earliest.as_str() && schedule["revision"] == 3
    })
    .await;
    assert_eq!(schedule["revision"], 3, "made, varied, ended");
    let table = stdout_of(&server.run(&["payments", "schedule", &id], Some(&practitioner)));
    assert!(
        table.contains(&format!("support ends {earliest}; closing settlement ")),
        "{table}"
    );

    // A bad id is named and nothing is printed on stdout.
    let refused = refusal(&server.run(
        &["contracts", "agreement", "summary", "not-an-id"],
        Some(&practitioner),
    ));
    assert!(
        refused.starts_with("error: InvalidArgument: agreement_id "),
        "{refused}"
    );
}

/// A case system's export of one person with one option 2 line: personal care from the
/// provider the directory lists as CS2004071234, which holds the fund.
const ONE_PERSON_EXPORT: &str = "case_reference,display_name,date_of_birth,locality,client_groups,eligibility,support_type,option,weekly_amount,start_date,end_date,provider,holding_model,holder\n\
SW-1,Morag Innes,1941-02-17,Banchory,elderly_frail,substantial,personal_care,2,210.00,2026-10-01,,CS2004071234,provider,\n";
