//! The audit over books written through the API: clean after every kind of posting, and
//! after the database is changed behind the service (as a superuser, with the immutability
//! triggers off) it names what was broken.

use sds_ledger::audit::{self, Report};
use sds_proto::v1::{self as proto, LedgerAccountKind};
use sds_testkit::bearer;
use uuid::Uuid;

use crate::support::*;

/// A fund funded, spent, held and posted, held and voided, a payment reversed, and a
/// second fund closed with what was left moved to its recovery account.
async fn books(app: &TestApp) -> proto::Fund {
    let fund = app.open_fund(PERSON, "50.00").await;
    app.fund(&fund, "500.00").await;
    let paid = app
        .create(&finance(AUTHORITY), vec![TestApp::spend(&fund, "120.00")])
        .await
        .expect("a payment")
        .remove(0);
    let mut holds = vec![
        TestApp::spend(&fund, "30.00"),
        TestApp::spend(&fund, "40.00"),
    ];
    for hold in &mut holds {
        hold.pending = true;
    }
    let held = app
        .create(&finance(AUTHORITY), holds)
        .await
        .expect("two holds");
    let resolve = |id: &str| {
        bearer(
            &finance(AUTHORITY),
            proto::ResolvePendingRequest {
                transfer_id: id.to_owned(),
            },
        )
    };
    app.client()
        .post_pending(resolve(&held[0].id))
        .await
        .unwrap();
    app.client()
        .void_pending(resolve(&held[1].id))
        .await
        .unwrap();
    // One more hold left unresolved, so pending sums are checked against something.
    let mut open_hold = TestApp::spend(&fund, "15.00");
    open_hold.pending = true;
    app.create(&finance(AUTHORITY), vec![open_hold])
        .await
        .unwrap();
    app.client()
        .reverse_transfer(bearer(
            &finance(AUTHORITY),
            proto::ReverseTransferRequest {
                transfer_id: paid.id,
                reversal_id: Uuid::now_v7().to_string(),
                note: "paid twice".into(),
            },
        ))
        .await
        .unwrap();

    let other = app.open_fund(OTHER_PERSON, "").await;
    app.fund(&other, "75.00").await;
    app.client()
        .close_fund(bearer(
            &finance(AUTHORITY),
            proto::CloseFundRequest {
                fund_id: other.id.clone(),
                destination_account_id: account(&other, LedgerAccountKind::Recovery),
                transfer_id: Uuid::now_v7().to_string(),
                note: "the person moved away".into(),
            },
        ))
        .await
        .unwrap();
    fund
}

async fn audited(app: &TestApp) -> Report {
    audit::run(&app.pool).await.expect("the audit runs")
}

#[tokio::test]
async fn books_written_through_the_api_pass_the_audit() {
    let app = TestApp::spawn().await;
    books(&app).await;
    let report = audited(&app).await;
    assert_eq!(report.violations, vec![]);
    assert_eq!(report.funds, 2);
    // Funding, payment, two holds, the open hold, the reversal; funding and closing.
    assert_eq!(report.transfers, 8);
    assert!(report.json_line().ends_with(r#""violations": []}"#));
}

#[tokio::test]
async fn an_entry_changed_behind_the_service_breaks_its_transfer_account_and_link() {
    let app = TestApp::spawn().await;
    let fund = books(&app).await;
    app.link_staged().await;
    let balance = account(&fund, LedgerAccountKind::FundBalance);
    let link: i64 = sqlx::query_scalar(
        "SELECT l.seq FROM entry e JOIN chain_link l ON l.link_id = e.chain_link_id \
         WHERE e.account_id = $1 AND e.amount_pence = 50000",
    )
    .bind(Uuid::parse_str(&balance).unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    tamper(
        &app,
        &["UPDATE entry SET amount_pence = 50001 WHERE account_id = $1 AND amount_pence = 50000"],
        &balance,
    )
    .await;
    let report = audited(&app).await;
    assert_eq!(
        report.kinds(),
        vec!["balance_mismatch", "history_changed", "transfer_unbalanced"],
        "{report:?}"
    );
    let history: Vec<&str> = report
        .violations
        .iter()
        .filter(|v| v.kind == "history_changed")
        .map(|v| v.detail.as_str())
        .collect();
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(
        history[0].starts_with(&format!("chain link {link} ")),
        "{history:?}"
    );
}

#[tokio::test]
async fn stored_sums_changed_behind_the_service_are_mismatches_and_can_breach_the_limit() {
    let app = TestApp::spawn().await;
    let fund = books(&app).await;
    let balance = account(&fund, LedgerAccountKind::FundBalance);
    // 500 in, 120 out and back, 30 out, 15 held: 455 available; 600 more out is below -50.
    tamper(
        &app,
        &[
            "UPDATE account SET debits_posted = debits_posted + 60000 WHERE id = $1",
            "UPDATE account SET debits_pending = 0 WHERE id = $1",
        ],
        &balance,
    )
    .await;
    let report = audited(&app).await;
    assert_eq!(
        report.kinds(),
        vec!["balance_mismatch", "below_limit", "pending_mismatch"],
        "{report:?}"
    );
}

#[tokio::test]
async fn a_transfer_rewritten_or_a_link_removed_is_history_changed() {
    let app = TestApp::spawn().await;
    let fund = books(&app).await;
    tamper(
        &app,
        &["UPDATE transfer SET note = 'nothing to see' WHERE debit_account_id = $1 AND pending"],
        &account(&fund, LedgerAccountKind::FundBalance),
    )
    .await;
    let report = audited(&app).await;
    assert_eq!(report.kinds(), vec!["history_changed"], "{report:?}");

    let app = TestApp::spawn().await;
    books(&app).await;
    app.link_staged().await;
    let removed: i64 = sqlx::query_scalar("SELECT link_id FROM chain_link WHERE seq = 2")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("DELETE FROM chain_link WHERE seq = 2")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let report = audited(&app).await;
    let details: Vec<&str> = report
        .violations
        .iter()
        .map(|v| v.detail.as_str())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("links 2 to 2 are missing")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains(&format!(
            "name chain link id {removed}, which is not recorded"
        ))),
        "{details:?}"
    );
}
