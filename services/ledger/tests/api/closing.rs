//! Closing a fund: nothing pending, and a zero balance or a named destination for the rest.

use sds_proto::v1::{self as proto, LedgerAccountKind};
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn a_fund_closes_at_zero_or_moves_what_is_left_to_a_named_account() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let close = |destination: &str, transfer: &str| proto::CloseFundRequest {
        fund_id: fund.id.clone(),
        destination_account_id: destination.to_owned(),
        transfer_id: transfer.to_owned(),
        note: "the person moved away".into(),
    };
    let message = assert_code(
        app.client()
            .close_fund(bearer(&manager(AUTHORITY), close("", "")))
            .await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("still holds 100.00"), "{message}");

    let mut hold = TestApp::spend(&fund, "10.00");
    hold.pending = true;
    let held = app
        .create(&finance(AUTHORITY), vec![hold])
        .await
        .unwrap()
        .remove(0);
    let recovery = account(&fund, LedgerAccountKind::Recovery);
    let transfer_id = Uuid::now_v7().to_string();
    let message = assert_code(
        app.client()
            .close_fund(bearer(&finance(AUTHORITY), close(&recovery, &transfer_id)))
            .await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("pending"), "{message}");
    app.client()
        .void_pending(bearer(
            &finance(AUTHORITY),
            proto::ResolvePendingRequest {
                transfer_id: held.id,
            },
        ))
        .await
        .unwrap();

    let closed = app
        .client()
        .close_fund(bearer(&finance(AUTHORITY), close(&recovery, &transfer_id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.status, proto::FundStatus::Closed as i32);
    assert_eq!(closed.closed_on.clone().unwrap().iso, TODAY);
    assert_eq!(app.fund_balance(&fund).await.0, "0.00");
    assert_eq!(
        amount_of(&app.balance(&recovery, None).await.balance),
        "100.00"
    );
    let again = app
        .client()
        .close_fund(bearer(&finance(AUTHORITY), close(&recovery, &transfer_id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, closed, "closing a closed fund returns it");
    let message = assert_code(app.fund_after_close(&fund).await, Code::FailedPrecondition);
    assert!(message.contains("closed"), "{message}");
    // Closed, the person may open a new fund with the same holder.
    app.open_fund(PERSON, "").await;
    app.assert_entries_match_balances().await;
}

#[tokio::test]
async fn an_empty_fund_closes_without_a_destination() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    let closed = app
        .client()
        .close_fund(bearer(
            &manager(AUTHORITY),
            proto::CloseFundRequest {
                fund_id: fund.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.status, proto::FundStatus::Closed as i32);
    assert_eq!(app.row_counts().await.transfers, 0);
}

impl TestApp {
    async fn fund_after_close(
        &self,
        fund: &proto::Fund,
    ) -> Result<Vec<proto::Transfer>, tonic::Status> {
        let funding = new_transfer(
            account(fund, LedgerAccountKind::AuthorityFunding),
            account(fund, LedgerAccountKind::FundBalance),
            "1.00",
            proto::TransferCategory::Funding,
        );
        self.create(&finance(AUTHORITY), vec![funding]).await
    }
}

#[tokio::test]
async fn what_is_left_never_goes_to_another_person_s_fund_and_only_finance_moves_it() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let someone_else = app.open_fund(OTHER_PERSON, "").await;
    app.fund(&someone_else, "50.00").await;
    let before = app.row_counts().await;
    let close = |destination: &str, transfer: &str| proto::CloseFundRequest {
        fund_id: fund.id.clone(),
        destination_account_id: destination.to_owned(),
        transfer_id: transfer.to_owned(),
        note: String::new(),
    };
    let into_theirs = close(
        &account(&someone_else, LedgerAccountKind::FundBalance),
        &Uuid::now_v7().to_string(),
    );
    assert_invalid(
        app.client()
            .close_fund(bearer(&finance(AUTHORITY), into_theirs))
            .await,
        "destination_account_id",
    );
    // A practitioner closes an empty fund, but moving what is left is finance's.
    let recovery = account(&fund, LedgerAccountKind::Recovery);
    assert_code(
        app.client()
            .close_fund(bearer(
                &manager(AUTHORITY),
                close(&recovery, &Uuid::now_v7().to_string()),
            ))
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(app.row_counts().await, before, "nothing moved");
    assert_eq!(app.fund_balance(&someone_else).await.0, "50.00");
}
