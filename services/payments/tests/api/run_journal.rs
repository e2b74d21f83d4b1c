//! The run's journal for the authority's finance system.

use sds_proto::v1 as proto;

use crate::run_support::*;
use crate::support::*;

#[tokio::test]
async fn the_journal_lists_each_instalment_paid_as_a_balanced_debit_and_credit_under_the_authoritys_codes()
 {
    let app = TestApp::spawn_with_ledger().await;
    app.client()
        .set_payment_settings(sds_testkit::bearer(
            &finance(AUTHORITY),
            proto::SetPaymentSettingsRequest {
                authority: AUTHORITY.to_owned(),
                anchor_date: Some(date("2026-04-06")),
                journal_codes: Some(proto::JournalCodes {
                    expense_account: "5120".to_owned(),
                    bank_account: "9001".to_owned(),
                    cost_centre: "SDS-OPT2".to_owned(),
                }),
                paying_account: None,
                contribution_arrears_periods: 0,
            },
        ))
        .await
        .expect("settings");
    app.deliver(&signed(first_version())).await;
    let ran = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    assert_eq!(ran.summary.files.len(), 3, "{:?}", ran.summary.files);
    let path = std::path::Path::new(&ran.summary.files[0]);
    assert!(
        path.ends_with(format!(
            "fife/2026-06-01_{}/journal.csv",
            ran.summary.run_id
        )),
        "{path:?}"
    );
    let journal = std::fs::read_to_string(path).expect("the journal");
    let lines: Vec<Vec<&str>> = journal
        .lines()
        .map(|line| line.split(',').collect())
        .collect();
    assert_eq!(
        lines[0],
        sds_payments::exports::journal::HEADER
            .split(',')
            .collect::<Vec<_>>()
    );
    assert_eq!(
        lines.len(),
        1 + 3 * 2,
        "a debit and a credit for each of 3 instalments"
    );
    let total = |column: usize| -> rust_decimal::Decimal {
        lines[1..]
            .iter()
            .filter(|line| !line[column].is_empty())
            .map(|line| line[column].parse::<rust_decimal::Decimal>().unwrap())
            .sum()
    };
    assert_eq!(total(5).to_string(), "2100.00");
    assert_eq!(total(6).to_string(), "2100.00");
    assert!(
        lines[1..]
            .iter()
            .all(|line| line[4] == "SDS-OPT2" && line[7] == PROVIDER && line[8] == PERSON)
    );
    assert_eq!(lines[1][3], "5120");
    assert_eq!(lines[2][3], "9001");
    assert_eq!(lines[1][12], "instalment 2026-04-06 to 2026-05-03");

    // A run that pays nothing still writes its journal: the header alone.
    let again = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    let empty = std::fs::read_to_string(&again.summary.files[0]).expect("the journal");
    assert_eq!(empty.lines().count(), 1);
    assert_eq!(
        again.summary.files.len(),
        1,
        "no bank files for a run that pays nothing: {:?}",
        again.summary.files
    );
}
