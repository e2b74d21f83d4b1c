//! Pending transfers reserve and end once; reversals point at what they reverse.

use sds_proto::v1::{self as proto, TransferStatus};
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

fn resolve(id: &str) -> proto::ResolvePendingRequest {
    proto::ResolvePendingRequest {
        transfer_id: id.to_owned(),
    }
}

#[tokio::test]
async fn a_pending_transfer_reserves_then_posts_once() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let mut hold = TestApp::spend(&fund, "80.00");
    hold.pending = true;
    let held = app
        .create(&finance(AUTHORITY), vec![hold])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(held.status, TransferStatus::Pending as i32);
    assert_eq!(
        app.fund_balance(&fund).await,
        ("100.00".into(), "20.00".into())
    );
    // The hold counts at once: 30.00 more does not fit.
    let message = assert_code(
        app.create(&finance(AUTHORITY), vec![TestApp::spend(&fund, "30.00")])
            .await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("short by 10.00"), "{message}");

    let posted = app
        .client()
        .post_pending(bearer(&finance(AUTHORITY), resolve(&held.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(posted.status, TransferStatus::Posted as i32);
    assert_eq!(
        app.fund_balance(&fund).await,
        ("20.00".into(), "20.00".into())
    );
    let before = app.row_counts().await;
    let again = app
        .client()
        .post_pending(bearer(&finance(AUTHORITY), resolve(&held.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        again, posted,
        "posting again answers with the posted transfer"
    );
    let message = assert_code(
        app.client()
            .void_pending(bearer(&finance(AUTHORITY), resolve(&held.id)))
            .await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("already posted"), "{message}");
    assert_eq!(app.row_counts().await, before);
    app.assert_entries_match_balances().await;
}

#[tokio::test]
async fn a_voided_pending_transfer_frees_its_reserve_once() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let mut hold = TestApp::spend(&fund, "80.00");
    hold.pending = true;
    let held = app
        .create(&finance(AUTHORITY), vec![hold])
        .await
        .unwrap()
        .remove(0);
    let voided = app
        .client()
        .void_pending(bearer(&finance(AUTHORITY), resolve(&held.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(voided.status, TransferStatus::Voided as i32);
    assert_eq!(
        app.fund_balance(&fund).await,
        ("100.00".into(), "100.00".into())
    );
    assert_code(
        app.client()
            .post_pending(bearer(&finance(AUTHORITY), resolve(&held.id)))
            .await,
        Code::FailedPrecondition,
    );
    // A posted transfer is not pending, so it is neither posted nor voided.
    let funding = app.fund(&fund, "1.00").await;
    let message = assert_code(
        app.client()
            .void_pending(bearer(&finance(AUTHORITY), resolve(&funding.id)))
            .await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("not pending"), "{message}");
    app.assert_entries_match_balances().await;
}

#[tokio::test]
async fn a_reversal_points_at_the_original_and_restores_the_balances_once() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let spent = app
        .create(&finance(AUTHORITY), vec![TestApp::spend(&fund, "40.00")])
        .await
        .unwrap()
        .remove(0);
    let request = proto::ReverseTransferRequest {
        transfer_id: spent.id.clone(),
        reversal_id: Uuid::now_v7().to_string(),
        note: "paid twice by mistake".into(),
    };
    let reversal = app
        .client()
        .reverse_transfer(bearer(&finance(AUTHORITY), request.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reversal.reverses_id, spent.id);
    assert_eq!(reversal.debit_account_id, spent.credit_account_id);
    assert_eq!(reversal.credit_account_id, spent.debit_account_id);
    assert_eq!(app.fund_balance(&fund).await.0, "100.00");
    let again = app
        .client()
        .reverse_transfer(bearer(&finance(AUTHORITY), request.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, reversal);
    let mut twice = request;
    twice.reversal_id = Uuid::now_v7().to_string();
    let message = assert_code(
        app.client()
            .reverse_transfer(bearer(&finance(AUTHORITY), twice))
            .await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("already reversed"), "{message}");
    // A reversal is not itself reversed: the movement is recorded afresh if it was right.
    let message = assert_code(
        app.client()
            .reverse_transfer(bearer(
                &finance(AUTHORITY),
                proto::ReverseTransferRequest {
                    transfer_id: reversal.id.clone(),
                    reversal_id: Uuid::now_v7().to_string(),
                    note: "the payment was right after all".into(),
                },
            ))
            .await,
        Code::FailedPrecondition,
    );
    assert!(
        message.contains(&format!("is itself the reversal of transfer {}", spent.id)),
        "{message}"
    );
    assert_eq!(app.fund_balance(&fund).await.0, "100.00");
    // History is kept: the original and its reversal are both there.
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM transfer")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(history, 3);
    let refused = sqlx::query("UPDATE transfer SET amount_pence = 1")
        .execute(&app.pool)
        .await
        .expect_err("history is never changed");
    assert!(refused.to_string().contains("never changed"), "{refused}");
    sqlx::query("DELETE FROM entry")
        .execute(&app.pool)
        .await
        .expect_err("entries are never removed");
    app.assert_entries_match_balances().await;
}

#[tokio::test]
async fn someone_not_on_the_authority_s_staff_learns_nothing_of_a_transfer_whatever_their_token_claims()
 {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    let funded = app.fund(&fund, "100.00").await;
    // A provider's token that also names the authority is still not its staff.
    let claiming = sds_testkit::token_for(&sds_platform::Principal {
        org_id: OTHER_PROVIDER.into(),
        org_kind: sds_platform::OrgKind::Provider,
        roles: vec![sds_platform::Role::Finance],
        authorities: vec![sds_vocabulary::AuthorityId::parse("authority", AUTHORITY).unwrap()],
        person_id: None,
    });
    for (real, made_up) in [(funded.id.clone(), Uuid::now_v7().to_string())] {
        for id in [real, made_up] {
            let reversed = app
                .client()
                .reverse_transfer(bearer(
                    &claiming,
                    proto::ReverseTransferRequest {
                        transfer_id: id.clone(),
                        reversal_id: Uuid::now_v7().to_string(),
                        note: String::new(),
                    },
                ))
                .await;
            assert_code(reversed, Code::NotFound);
            let posted = app
                .client()
                .post_pending(bearer(
                    &claiming,
                    proto::ResolvePendingRequest { transfer_id: id },
                ))
                .await;
            assert_code(posted, Code::NotFound);
        }
    }
}
