//! `sds ledger ...` against a real `sds serve`: a fund opened by a practitioner, funded and
//! spent by finance, read back as a table of its accounts and as JSON, and a balance read
//! now and as at a past day; a category that is none refused before anything is sent; a
//! payment run posted from a file, once however often it is sent.

mod support;

use support::*;

const PERSON: &str = "0192f0c1-0000-7000-8000-0000000000a1";
const HOLDER: &str = "0192f0c1-0000-7000-8000-0000000000b1";
const PAYEE: &str = "0192f0c1-0000-7000-8000-0000000000c1";

fn account_of(fund: &serde_json::Value, kind: &str) -> String {
    fund["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|account| account["kind"] == kind)
        .and_then(|account| account["id"].as_str())
        .unwrap_or_else(|| panic!("a {kind} account in {fund}"))
        .to_owned()
}

/// Opens demo-shire's fund for [`PERSON`] held by [`HOLDER`], paying [`PAYEE`], 375.00 a
/// week, through the CLI.
fn open_fund(server: &ServerProcess, practitioner: &str) -> serde_json::Value {
    printed(&server.run(
        &[
            "ledger",
            "open-fund",
            "--authority",
            "demo-shire",
            "--person",
            PERSON,
            "--holding-model",
            "third-party",
            "--holder",
            HOLDER,
            "--weekly-budget",
            "375.00",
            "--payee",
            PAYEE,
        ],
        Some(practitioner),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fund_is_opened_funded_spent_and_read_back_through_the_cli() {
    let server = ServerProcess::start().await;
    let practitioner = server.staff_token("practitioner");
    let finance = server.staff_token("finance");

    let fund = open_fund(&server, &practitioner);
    assert_eq!(fund["status"], "FUND_STATUS_OPEN");
    let fund_id = fund["id"].as_str().expect("a fund id").to_owned();
    let balance = account_of(&fund, "LEDGER_ACCOUNT_KIND_FUND_BALANCE");
    let funding = account_of(&fund, "LEDGER_ACCOUNT_KIND_AUTHORITY_FUNDING");
    let payable = account_of(&fund, "LEDGER_ACCOUNT_KIND_PAYABLE");

    let funded = printed(&server.run(
        &[
            "ledger",
            "transfer",
            "--debit",
            &funding,
            "--credit",
            &balance,
            "--amount",
            "1500.00",
            "--category",
            "funding",
            "--reference",
            "instalment 1",
        ],
        Some(&finance),
    ));
    assert_eq!(funded["status"], "TRANSFER_STATUS_POSTED");
    let spend = [
        "ledger",
        "transfer",
        "--id",
        "0192f0c1-0000-7000-8000-0000000000d1",
        "--debit",
        &balance,
        "--credit",
        &payable,
        "--amount",
        "1312.50",
        "--category",
        "support-payment",
    ];
    let spent = printed(&server.run(&spend, Some(&finance)));
    // The same id again is answered with the original, and moves nothing twice.
    assert_eq!(printed(&server.run(&spend, Some(&finance))), spent);

    let table = server.run(&["ledger", "get-fund", &fund_id], Some(&finance));
    assert!(table.status.success(), "{}", stderr_of(&table));
    let text = stdout_of(&table);
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("KIND"), "{text}");
    assert!(
        rows[1].starts_with("fund-balance") && rows[1].contains("187.50"),
        "{text}"
    );
    assert!(text.contains("375.00 a week"), "{text}");
    let json = printed(&server.run(&["ledger", "get-fund", &fund_id, "--json"], Some(&finance)));
    assert_eq!(json["accounts"][0]["balance"]["amount"], "187.50");

    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().expect("a day before").to_string();
    let now = printed(&server.run(
        &["ledger", "balance", &balance, "--as-at", &yesterday],
        Some(&finance),
    ));
    assert_eq!(now["balance"]["amount"], "187.50");
    assert_eq!(now["balance_as_at"]["amount"], "0.00");

    // The person's statement of the last four weeks, in words and in figures.
    let london = sds_platform::clock::london_date(chrono::Utc::now());
    let from = (london - chrono::Days::new(27)).to_string();
    let to = london.to_string();
    let words = server.run(
        &[
            "ledger",
            "statement",
            &fund_id,
            "--from",
            &from,
            "--to",
            &to,
        ],
        Some(&finance),
    );
    let text = stdout_of(&words);
    assert!(
        text.starts_with("Between ")
            && text.contains("ended with 187.50.")
            // Opened today: the plan counts the one day of the period it was open.
            && text.contains("The fund was open on 1 of these days, and your plan meant 53.57 for them."),
        "{text}{}",
        stderr_of(&words)
    );
    let figures = printed(&server.run(
        &[
            "ledger",
            "statement",
            &fund_id,
            "--from",
            &from,
            "--to",
            &to,
            "--json",
        ],
        Some(&finance),
    ));
    assert_eq!(figures["closing_balance"]["amount"], "187.50");

    // A pending payment reserved and released; then the payment reversed as a mistake.
    let reserve = printed(&server.run(
        &[
            "ledger",
            "transfer",
            "--debit",
            &balance,
            "--credit",
            &payable,
            "--amount",
            "50.00",
            "--category",
            "support-payment",
            "--pending",
        ],
        Some(&finance),
    ));
    let reserved = reserve["id"].as_str().expect("an id").to_owned();
    let voided = printed(&server.run(&["ledger", "void-pending", &reserved], Some(&finance)));
    assert_eq!(voided["status"], "TRANSFER_STATUS_VOIDED");
    let reversal = printed(&server.run(
        &[
            "ledger",
            "reverse",
            "0192f0c1-0000-7000-8000-0000000000d1",
            "--note",
            "paid to the wrong provider",
        ],
        Some(&finance),
    ));
    assert_eq!(
        reversal["reverses_id"],
        "0192f0c1-0000-7000-8000-0000000000d1"
    );
    let listed = server.run(&["ledger", "transfers", &fund_id], Some(&finance));
    let rows = stdout_of(&listed);
    assert!(
        rows.starts_with("DAY") && rows.contains("voided") && rows.contains("4 transfers"),
        "{rows}{}",
        stderr_of(&listed)
    );
    let restored = printed(&server.run(&["ledger", "balance", &balance], Some(&finance)));
    assert_eq!(restored["balance"]["amount"], "1500.00");
    // With nothing pending, the fund closes by moving what is left back to the authority.
    let recovery = account_of(&fund, "LEDGER_ACCOUNT_KIND_RECOVERY");
    let closed = printed(&server.run(
        &["ledger", "close-fund", &fund_id, "--destination", &recovery],
        Some(&finance),
    ));
    assert_eq!(closed["status"], "FUND_STATUS_CLOSED");

    let refused = server.run(
        &["ledger", "balance", &balance],
        Some(&server.token(&[
            "--org",
            "angus",
            "--kind",
            "authority",
            "--roles",
            "finance",
            "--authority",
            "angus",
        ])),
    );
    let message = refusal(&refused);
    assert!(message.contains("NotFound"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_category_that_is_none_is_refused_before_anything_is_sent() {
    // No server: a refusal here never reached one.
    let env = [("SDS_ADDR", "127.0.0.1:9"), ("SDS_TOKEN", "unused")];
    let output = sds(
        &[
            "ledger",
            "transfer",
            "--debit",
            "a",
            "--credit",
            "b",
            "--amount",
            "1.00",
            "--category",
            "bonus",
        ],
        &env,
    );
    assert!(!output.status.success());
    let message = stderr_of(&output);
    assert!(
        message.contains("bonus") && message.contains("support-payment"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_run_is_posted_from_a_file_once_however_often_it_is_sent() {
    let server = ServerProcess::start().await;
    let finance = server.staff_token("finance");
    let fund = open_fund(&server, &server.staff_token("practitioner"));
    let balance = account_of(&fund, "LEDGER_ACCOUNT_KIND_FUND_BALANCE");
    let funding = account_of(&fund, "LEDGER_ACCOUNT_KIND_AUTHORITY_FUNDING");
    let payable = account_of(&fund, "LEDGER_ACCOUNT_KIND_PAYABLE");
    let id = || uuid::Uuid::now_v7().to_string();
    let mut file = String::from(
        "id,debit_account_id,credit_account_id,amount,category,reference,note,pending\n",
    );
    file.push_str(&format!(
        "{},{funding},{balance},1500.00,funding,run 2026-12,,\n",
        id()
    ));
    for week in 1..=4 {
        file.push_str(&format!(
            "{},{balance},{payable},328.13,support-payment,run 2026-12,\"week {week}, 17.5 hours\",\n",
            id()
        ));
    }
    let dir = std::env::temp_dir().join(format!("sds-run-{}", id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("run.csv");
    std::fs::write(&path, &file).expect("write the run");
    let path = path.to_str().expect("a UTF-8 path");

    let posted = printed(&server.run(&["ledger", "post-bulk", path], Some(&finance)));
    assert_eq!(posted["chunks"], 1);
    assert_eq!(posted["recorded"], "5");
    assert_eq!(posted["amount"]["amount"], "2812.52");
    let again = printed(&server.run(&["ledger", "post-bulk", path], Some(&finance)));
    assert_eq!(again["recorded"], "0");
    assert_eq!(again["already_recorded"], "5");
    let read = printed(&server.run(&["ledger", "balance", &balance], Some(&finance)));
    assert_eq!(read["balance"]["amount"], "187.48");

    // What only the server can judge comes back on the file's line.
    std::fs::write(
        dir.join("bad.csv"),
        format!(
            "id,debit_account_id,credit_account_id,amount,category\n{},{balance},{payable},5.00,support-payment\n{},{balance},{payable},-1,support-payment\n",
            id(),
            id()
        ),
    )
    .expect("write the bad run");
    let refused = server.run(
        &[
            "ledger",
            "post-bulk",
            dir.join("bad.csv").to_str().expect("a UTF-8 path"),
        ],
        Some(&finance),
    );
    assert!(!refused.status.success());
    let message = stderr_of(&refused);
    assert!(
        message.contains("InvalidArgument: line 3: amount "),
        "{message}"
    );
    let read = printed(&server.run(&["ledger", "balance", &balance], Some(&finance)));
    assert_eq!(
        read["balance"]["amount"], "187.48",
        "nothing of the bad run moved"
    );
    std::fs::remove_dir_all(&dir).expect("remove the temporary directory");
}
