//! The holder of a fund records what it pays out of it (a provider drawing its charges, a
//! third-party holder paying a provider or a purchase), so the person's statement shows how
//! the money was spent; money into the fund, pending amounts and anything on a fund it does
//! not hold stay with the authority's finance staff, and a refusal writes nothing.

use sds_proto::v1::{self as proto, LedgerAccountKind, TransferCategory};
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

const NEW_PAYEE: &str = "0192f0c1-0000-7000-8000-0000000000c9";

#[tokio::test]
async fn a_holder_pays_out_of_the_fund_it_holds_once_and_the_statement_shows_it() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "375.00").await;

    let paid = TestApp::spend(&fund, "120.00");
    let recorded = app
        .create(&holder(HOLDER), vec![paid.clone()])
        .await
        .expect("the holder pays the provider");
    assert_eq!(recorded[0].status, proto::TransferStatus::Posted as i32);
    // Sent again (an answer never seen): the same transfer, posted once.
    let again = app
        .create(&holder(HOLDER), vec![paid.clone()])
        .await
        .expect("a retry");
    assert_eq!(again[0].id, recorded[0].id);
    let (balance, _) = app.fund_balance(&fund).await;
    assert_eq!(balance, "255.00");
    // The same id with other content is refused.
    let changed = proto::NewTransfer {
        amount: money("121.00"),
        ..paid
    };
    assert_code(
        app.create(&holder(HOLDER), vec![changed]).await,
        Code::AlreadyExists,
    );

    // A payee the fund did not pay yet: the holder adds it, then pays it.
    let with_payee = app
        .client()
        .add_payee(bearer(
            &holder(HOLDER),
            proto::AddPayeeRequest {
                fund_id: fund.id.clone(),
                payee_id: NEW_PAYEE.to_owned(),
            },
        ))
        .await
        .expect("the holder adds a payee")
        .into_inner();
    let to_new_payee = with_payee
        .accounts
        .iter()
        .find(|account| account.payee_id == NEW_PAYEE)
        .expect("a payable account for the new payee")
        .id
        .clone();
    app.create(
        &holder(HOLDER),
        vec![new_transfer(
            account(&fund, LedgerAccountKind::FundBalance),
            to_new_payee,
            "35.00",
            TransferCategory::SupportPayment,
        )],
    )
    .await
    .expect("the holder pays the new payee");

    let statement = app
        .client()
        .get_statement(bearer(
            &person(PERSON),
            proto::GetStatementRequest {
                fund_id: fund.id.clone(),
                from: Some(proto::Date { iso: TODAY.into() }),
                to: Some(proto::Date { iso: TODAY.into() }),
            },
        ))
        .await
        .expect("the person reads their statement")
        .into_inner();
    assert_eq!(amount_of(&statement.total_out), "155.00");
    assert_eq!(amount_of(&statement.closing_balance), "220.00");
    app.assert_entries_match_balances().await;
}

#[tokio::test]
async fn a_holder_may_not_put_money_in_reserve_it_or_touch_a_fund_it_does_not_hold() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let before = app.row_counts().await;
    let pending = proto::NewTransfer {
        pending: true,
        ..TestApp::spend(&fund, "10.00")
    };
    let back_in = new_transfer(
        account(&fund, LedgerAccountKind::Payable),
        account(&fund, LedgerAccountKind::FundBalance),
        "10.00",
        TransferCategory::Recovery,
    );
    let mislabelled = proto::NewTransfer {
        category: TransferCategory::Funding as i32,
        ..TestApp::spend(&fund, "10.00")
    };
    for (what, token, transfer, code) in [
        (
            "money in",
            holder(HOLDER),
            funding(&fund, "10.00"),
            Code::PermissionDenied,
        ),
        (
            "a payment called funding",
            holder(HOLDER),
            mislabelled,
            Code::PermissionDenied,
        ),
        (
            "a provider with the third-party holder's id",
            provider(HOLDER),
            TestApp::spend(&fund, "10.00"),
            Code::NotFound,
        ),
        (
            "a reservation",
            holder(HOLDER),
            pending,
            Code::PermissionDenied,
        ),
        (
            "money back in",
            holder(HOLDER),
            back_in,
            Code::PermissionDenied,
        ),
        (
            "another holder's fund",
            holder(&Uuid::now_v7().to_string()),
            TestApp::spend(&fund, "10.00"),
            Code::NotFound,
        ),
        (
            "the provider paid from it",
            provider(PAYEE),
            TestApp::spend(&fund, "10.00"),
            Code::PermissionDenied,
        ),
    ] {
        let refused = assert_code(app.create(&token, vec![transfer]).await, code);
        if code == Code::PermissionDenied && token == holder(HOLDER) {
            assert!(
                refused.starts_with("the holder of a fund posts what it pays out of it only"),
                "{what}: {refused}"
            );
        }
    }
    // More than the balance: refused with the shortfall, as for finance.
    let refused = assert_code(
        app.create(&holder(HOLDER), vec![TestApp::spend(&fund, "100.01")])
            .await,
        Code::FailedPrecondition,
    );
    assert!(refused.contains("0.01"), "{refused}");
    // A third-party holder is not a payee of the fund it holds (its fee has its account).
    assert_code(
        app.client()
            .add_payee(bearer(
                &holder(HOLDER),
                proto::AddPayeeRequest {
                    fund_id: fund.id.clone(),
                    payee_id: HOLDER.to_owned(),
                },
            ))
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(app.row_counts().await, before, "nothing was written");
}

#[tokio::test]
async fn a_holder_is_told_that_reversing_its_payment_is_for_finance_staff() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let paid = app
        .create(&holder(HOLDER), vec![TestApp::spend(&fund, "10.00")])
        .await
        .expect("paid")
        .remove(0);
    let reverse = |token: String| {
        let mut client = app.client();
        let request = proto::ReverseTransferRequest {
            transfer_id: paid.id.clone(),
            reversal_id: Uuid::now_v7().to_string(),
            note: "paid twice".to_owned(),
        };
        async move { client.reverse_transfer(bearer(&token, request)).await }
    };
    let refused = assert_code(reverse(holder(HOLDER)).await, Code::PermissionDenied);
    assert!(refused.contains("finance staff"), "{refused}");
    // Someone with no part in the fund is told it is not recorded.
    assert_code(
        reverse(holder(&Uuid::now_v7().to_string())).await,
        Code::NotFound,
    );
}
