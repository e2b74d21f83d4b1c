//! Payees' bank details and the authority's paying account: entered and read by finance
//! staff only, checked by Vocalink's modulus rules when the operator supplied the table,
//! kept version by version, and never in an event.

use sds_proto::v1 as proto;
use tonic::Code;

use crate::run_support::*;
use crate::support::*;

/// A weight table of our own making (Vocalink's is the operator's to supply): sort codes
/// 700000-709999 by standard modulus 10 over the account number only, weights 7 1 3 7 1 3 7 1.
/// 12345672: 7+2+9+28+5+18+49+2 = 120, divisible by 10; 12345678 gives 126.
const WEIGHTS: &str = "700000 709999 MOD10 0 0 0 0 0 0 7 1 3 7 1 3 7 1\n";

async fn with_table() -> TestApp {
    let folder = std::env::temp_dir().join(format!("sds-modulus-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&folder).unwrap();
    let weights = folder.join("valacdos.txt");
    std::fs::write(&weights, WEIGHTS).unwrap();
    TestApp::spawn_with_environment(vec![("SDS_MODULUS_WEIGHTS", weights.display().to_string())])
        .await
}

#[tokio::test]
async fn finance_staff_enter_a_payees_account_and_a_change_is_a_new_version() {
    let app = TestApp::spawn().await;
    let first = app
        .set_payee_account(
            &finance(AUTHORITY),
            PROVIDER,
            bank_account("40 11 62", "1234567", "  Kingdom   Care Ltd "),
        )
        .await
        .expect("entered");
    assert_eq!(
        first.account,
        Some(bank_account("401162", "01234567", "Kingdom Care Ltd"))
    );
    assert_eq!(first.version, 1);
    assert_eq!(first.modulus_check, proto::ModulusCheck::NoTable as i32);
    assert_eq!(first.entered_by, AUTHORITY);

    let again = app
        .set_payee_account(
            &finance(AUTHORITY),
            PROVIDER,
            bank_account("40-11-62", "01234567", "Kingdom Care Ltd"),
        )
        .await
        .expect("the same again");
    assert_eq!(again, first, "entering the same details changes nothing");

    let changed = app
        .set_payee_account(
            &finance(AUTHORITY),
            PROVIDER,
            bank_account("83-91-04", "76231900", "Kingdom Care Ltd"),
        )
        .await
        .expect("changed");
    assert_eq!(changed.version, 2);
    let current = app
        .client()
        .get_payee_bank_account(sds_testkit::bearer(
            &finance(AUTHORITY),
            proto::GetPayeeBankAccountRequest {
                authority: AUTHORITY.to_owned(),
                payee_id: PROVIDER.to_owned(),
            },
        ))
        .await
        .expect("read")
        .into_inner();
    assert_eq!(current, changed);
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM payee_bank_account")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(versions, 2, "the first version is kept");

    let outbox: Vec<Vec<u8>> = sqlx::query_scalar("SELECT payload FROM outbox")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(
        outbox
            .iter()
            .all(|payload| !String::from_utf8_lossy(payload).contains("76231900")),
        "bank details reached an event"
    );
}

#[tokio::test]
async fn only_the_authoritys_finance_staff_see_or_change_bank_details() {
    let app = TestApp::spawn().await;
    app.set_payee_account(&finance(AUTHORITY), PROVIDER, payee_account(PROVIDER))
        .await
        .expect("entered");
    let rows = app.row_counts().await;
    for token in [
        practitioner(AUTHORITY),
        finance(OTHER_AUTHORITY),
        provider(PROVIDER),
        holder(HOLDER),
        person(PERSON),
    ] {
        assert_refused(
            app.set_payee_account(&token, PROVIDER, payee_account(OTHER_PROVIDER))
                .await,
            Code::PermissionDenied,
            "finance staff",
        );
        assert_refused(
            app.client()
                .get_payee_bank_account(sds_testkit::bearer(
                    &token,
                    proto::GetPayeeBankAccountRequest {
                        authority: AUTHORITY.to_owned(),
                        payee_id: PROVIDER.to_owned(),
                    },
                ))
                .await,
            Code::PermissionDenied,
            "finance staff",
        );
    }
    assert_eq!(app.row_counts().await, rows);

    // Other staff read the settings without the paying account.
    app.prepare_banking().await;
    let settings = |token: String| {
        let mut client = app.client();
        async move {
            client
                .get_payment_settings(sds_testkit::bearer(
                    &token,
                    proto::GetPaymentSettingsRequest {
                        authority: AUTHORITY.to_owned(),
                    },
                ))
                .await
                .expect("settings")
                .into_inner()
        }
    };
    assert_eq!(
        settings(finance(AUTHORITY)).await.paying_account,
        Some(proto::PayingAccount {
            name: "Fife HSCP".to_owned(),
            account: Some(bank_account("802260", "10203040", "Fife Council SDS")),
            service_user_number: "123456".to_owned(),
        })
    );
    assert_eq!(settings(practitioner(AUTHORITY)).await.paying_account, None);
}

#[tokio::test]
async fn bad_bank_details_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let rows = app.row_counts().await;
    let good = || payee_account(PROVIDER);
    let cases: Vec<(&str, &str, Option<proto::BankAccount>, &str)> = vec![
        ("", PROVIDER, Some(good()), "authority"),
        (AUTHORITY, "", Some(good()), "payee_id: missing"),
        (AUTHORITY, "provider-1", Some(good()), "payee_id: "),
        (AUTHORITY, PROVIDER, None, "account: missing"),
        (
            AUTHORITY,
            PROVIDER,
            Some(bank_account("", "12345678", "A")),
            "account.sort_code: missing",
        ),
        (
            AUTHORITY,
            PROVIDER,
            Some(bank_account("12-34-5", "12345678", "A")),
            "account.sort_code: not a sort code",
        ),
        (
            AUTHORITY,
            PROVIDER,
            Some(bank_account("12-34-56", "12345", "A")),
            "account.account_number: not an account number",
        ),
        (
            AUTHORITY,
            PROVIDER,
            Some(bank_account("12-34-56", "1234567890", "A")),
            "account.account_number: has 10 digits",
        ),
        (
            AUTHORITY,
            PROVIDER,
            Some(bank_account("12-34-56", "12345678", " ")),
            "account.account_name: missing",
        ),
        (
            AUTHORITY,
            PROVIDER,
            Some(bank_account("12-34-56", "12345678", "=HYPERLINK(1)")),
            "account.account_name: '='",
        ),
    ];
    for (authority, payee, account, words) in cases {
        let result = app
            .client()
            .set_payee_bank_account(sds_testkit::bearer(
                &finance(AUTHORITY),
                proto::SetPayeeBankAccountRequest {
                    authority: authority.to_owned(),
                    payee_id: payee.to_owned(),
                    account,
                },
            ))
            .await;
        assert_refused(result, Code::InvalidArgument, words);
    }

    let bad_paying = [
        (
            proto::PayingAccount {
                service_user_number: "12345".to_owned(),
                ..paying_account()
            },
            "paying_account.service_user_number",
        ),
        (
            proto::PayingAccount {
                account: None,
                ..paying_account()
            },
            "paying_account.account: missing",
        ),
        (
            proto::PayingAccount {
                name: String::new(),
                ..paying_account()
            },
            "paying_account.name: missing",
        ),
    ];
    for (paying, words) in bad_paying {
        let result = app
            .client()
            .set_payment_settings(sds_testkit::bearer(
                &finance(AUTHORITY),
                proto::SetPaymentSettingsRequest {
                    authority: AUTHORITY.to_owned(),
                    anchor_date: Some(date("2026-04-06")),
                    journal_codes: None,
                    paying_account: Some(paying),
                    contribution_arrears_periods: 0,
                },
            ))
            .await;
        assert_refused(result, Code::InvalidArgument, words);
    }
    assert_eq!(app.row_counts().await, rows);
}

#[tokio::test]
async fn with_the_operators_table_an_account_failing_the_modulus_check_is_refused() {
    let app = with_table().await;
    let valid = app
        .set_payee_account(
            &finance(AUTHORITY),
            PROVIDER,
            bank_account("70-10-00", "12345672", "Kingdom Care Ltd"),
        )
        .await
        .expect("passes");
    assert_eq!(valid.modulus_check, proto::ModulusCheck::Valid as i32);

    let rows = app.row_counts().await;
    let refusal = app
        .set_payee_account(
            &finance(AUTHORITY),
            PROVIDER,
            bank_account("70-10-00", "12345678", "Kingdom Care Ltd"),
        )
        .await
        .expect_err("fails the check");
    assert_eq!(refusal.code(), Code::InvalidArgument);
    assert!(
        refusal.message().contains("modulus check"),
        "{}",
        refusal.message()
    );
    assert!(
        !refusal.message().contains("12345678"),
        "the refusal repeats the account number"
    );
    assert_eq!(app.row_counts().await, rows);

    // A sort code the table does not cover cannot be checked, and says so.
    let unchecked = app
        .set_payee_account(
            &finance(AUTHORITY),
            HOLDER,
            bank_account("12-34-56", "12345678", "Holder Ltd"),
        )
        .await
        .expect("recorded");
    assert_eq!(
        unchecked.modulus_check,
        proto::ModulusCheck::NotChecked as i32
    );
}

#[tokio::test]
async fn an_unreadable_table_refuses_bank_details_until_the_operator_fixes_it() {
    let folder = std::env::temp_dir().join(format!("sds-modulus-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&folder).unwrap();
    let weights = folder.join("valacdos.txt");
    std::fs::write(&weights, "700000 709999 MOD99 0 0 0\n").unwrap();
    let app = TestApp::spawn_with_environment(vec![(
        "SDS_MODULUS_WEIGHTS",
        weights.display().to_string(),
    )])
    .await;
    assert_refused(
        app.set_payee_account(&finance(AUTHORITY), PROVIDER, payee_account(PROVIDER))
            .await,
        Code::FailedPrecondition,
        "SDS_MODULUS_WEIGHTS",
    );
    assert!(app.row_counts().await.iter().all(|(_, count)| *count == 0));
}
