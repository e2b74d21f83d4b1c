//! Bad input for every RPC: `InvalidArgument` naming the field, and nothing written.

use sds_proto::v1::{self as proto, LedgerAccountKind};
use sds_testkit::bearer;

use crate::support::*;

#[tokio::test]
async fn every_rpc_refuses_bad_input_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let before = app.row_counts().await;
    let token = finance(AUTHORITY);
    let manage = manager(AUTHORITY);

    let open = |change: fn(&mut proto::OpenFundRequest)| {
        let mut request = fund_request(&uuid::Uuid::now_v7().to_string(), OTHER_PERSON, "");
        change(&mut request);
        request
    };
    for (request, field) in [
        (open(|r| r.fund_id = "F-1".into()), "fund_id"),
        (
            open(|r| r.fund_id = uuid::Uuid::nil().to_string()),
            "fund_id",
        ),
        (open(|r| r.authority = "Fife Council".into()), "authority"),
        (open(|r| r.person_id = String::new()), "person_id"),
        (open(|r| r.holding_model = 0), "holding_model"),
        (open(|r| r.holding_model = 42), "holding_model"),
        (open(|r| r.holder_id = String::new()), "holder_id"),
        (open(|r| r.weekly_budget = None), "weekly_budget"),
        (open(|r| r.weekly_budget = money("-1.00")), "weekly_budget"),
        (
            open(|r| r.overdraft_limit = money("1.234")),
            "overdraft_limit",
        ),
        (
            open(|r| r.person_id = uuid::Uuid::nil().to_string()),
            "person_id",
        ),
        (
            open(|r| r.holder_id = uuid::Uuid::nil().to_string()),
            "holder_id",
        ),
        (open(|r| r.payee_ids = vec!["x".into()]), "payee_ids[0]"),
        (
            open(|r| r.payee_ids = vec![PAYEE.into(), uuid::Uuid::nil().to_string()]),
            "payee_ids[1]",
        ),
        (
            open(|r| {
                r.payee_ids = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
            }),
            "payee_ids",
        ),
        (
            open(|r| r.payee_ids = vec![PAYEE.into(), PAYEE.into()]),
            "payee_ids[1]",
        ),
    ] {
        assert_invalid(
            app.client().open_fund(bearer(&manage, request)).await,
            field,
        );
    }

    let spend = TestApp::spend(&fund, "1.00");
    let batch = |change: fn(&mut proto::NewTransfer)| {
        let mut transfer = spend.clone();
        transfer.id = uuid::Uuid::now_v7().to_string();
        change(&mut transfer);
        vec![transfer]
    };
    for (transfers, field) in [
        (vec![], "transfers"),
        (batch(|t| t.id = "not-an-id".into()), "transfers[0].id"),
        (
            batch(|t| t.id = uuid::Uuid::nil().to_string()),
            "transfers[0].id",
        ),
        (
            batch(|t| t.debit_account_id = String::new()),
            "transfers[0].debit_account_id",
        ),
        (
            batch(|t| t.credit_account_id = "c".into()),
            "transfers[0].credit_account_id",
        ),
        (batch(|t| t.amount = money("0.00")), "transfers[0].amount"),
        (batch(|t| t.amount = money("-5.00")), "transfers[0].amount"),
        (batch(|t| t.amount = money("1e3")), "transfers[0].amount"),
        (batch(|t| t.amount = None), "transfers[0].amount"),
        (batch(|t| t.category = 0), "transfers[0].category"),
        (
            batch(|t| t.category = proto::TransferCategory::Closure as i32),
            "transfers[0].category",
        ),
        (
            batch(|t| t.reference = "x".repeat(201)),
            "transfers[0].reference",
        ),
        (batch(|t| t.note = "a\u{200b}b".into()), "transfers[0].note"),
        (
            batch(|t| t.credit_account_id = t.debit_account_id.clone()),
            "transfers[0].credit_account_id",
        ),
        (vec![spend.clone(), spend.clone()], "transfers[1].id"),
    ] {
        assert_invalid(app.create(&token, transfers).await, field);
    }
    assert_eq!(app.row_counts().await, before, "nothing was written");
    // An account of another fund is refused by the field that names it.
    let other = app.open_fund(OTHER_PERSON, "").await;
    let before = app.row_counts().await;
    let mut across = spend.clone();
    across.credit_account_id = account(&other, LedgerAccountKind::Payable);
    assert_invalid(
        app.create(&token, vec![across]).await,
        "transfers[0].credit_account_id",
    );

    for (request, field) in [
        (proto::ResolvePendingRequest::default(), "transfer_id"),
        (
            proto::ResolvePendingRequest {
                transfer_id: "t".into(),
            },
            "transfer_id",
        ),
    ] {
        assert_invalid(
            app.client()
                .post_pending(bearer(&token, request.clone()))
                .await,
            field,
        );
        assert_invalid(
            app.client().void_pending(bearer(&token, request)).await,
            field,
        );
    }
    let some_id = uuid::Uuid::now_v7().to_string();
    for (request, field) in [
        (
            proto::ReverseTransferRequest {
                transfer_id: String::new(),
                reversal_id: some_id.clone(),
                note: String::new(),
            },
            "transfer_id",
        ),
        (
            proto::ReverseTransferRequest {
                transfer_id: some_id.clone(),
                reversal_id: "r".into(),
                note: String::new(),
            },
            "reversal_id",
        ),
        (
            proto::ReverseTransferRequest {
                transfer_id: some_id.clone(),
                reversal_id: some_id.clone(),
                note: String::new(),
            },
            "reversal_id",
        ),
        (
            proto::ReverseTransferRequest {
                transfer_id: some_id.clone(),
                reversal_id: uuid::Uuid::nil().to_string(),
                note: String::new(),
            },
            "reversal_id",
        ),
    ] {
        assert_invalid(
            app.client().reverse_transfer(bearer(&token, request)).await,
            field,
        );
    }
    for (request, field) in [
        (proto::CloseFundRequest::default(), "fund_id"),
        (
            proto::CloseFundRequest {
                fund_id: fund.id.clone(),
                destination_account_id: "d".into(),
                ..Default::default()
            },
            "destination_account_id",
        ),
        (
            proto::CloseFundRequest {
                fund_id: fund.id.clone(),
                destination_account_id: account(&fund, LedgerAccountKind::Recovery),
                ..Default::default()
            },
            "transfer_id",
        ),
        (
            proto::CloseFundRequest {
                fund_id: fund.id.clone(),
                destination_account_id: account(&fund, LedgerAccountKind::Recovery),
                transfer_id: uuid::Uuid::nil().to_string(),
                ..Default::default()
            },
            "transfer_id",
        ),
        (
            proto::CloseFundRequest {
                fund_id: fund.id.clone(),
                destination_account_id: account(&fund, LedgerAccountKind::FundBalance),
                transfer_id: some_id.clone(),
                note: String::new(),
            },
            "destination_account_id",
        ),
    ] {
        assert_invalid(
            app.client().close_fund(bearer(&manage, request)).await,
            field,
        );
    }
    for (request, field) in [
        (
            proto::AddPayeeRequest {
                fund_id: fund.id.clone(),
                payee_id: String::new(),
            },
            "payee_id",
        ),
        (
            proto::AddPayeeRequest {
                fund_id: fund.id.clone(),
                payee_id: uuid::Uuid::nil().to_string(),
            },
            "payee_id",
        ),
    ] {
        assert_invalid(
            app.client().add_payee(bearer(&manage, request)).await,
            field,
        );
    }
    assert_invalid(
        app.client()
            .get_fund(bearer(&token, proto::GetFundRequest::default()))
            .await,
        "fund_id",
    );
    for (request, field) in [
        (proto::GetBalanceRequest::default(), "account_id"),
        (
            proto::GetBalanceRequest {
                account_id: account(&fund, LedgerAccountKind::FundBalance),
                as_at: Some(proto::Date {
                    iso: "2026-02-30".into(),
                }),
            },
            "as_at",
        ),
    ] {
        assert_invalid(
            app.client().get_balance(bearer(&token, request)).await,
            field,
        );
    }
    for (request, field) in [
        (proto::ListTransfersRequest::default(), "fund_id"),
        (
            proto::ListTransfersRequest {
                fund_id: fund.id.clone(),
                page: Some(proto::PageRequest {
                    page_size: 500,
                    page_token: String::new(),
                }),
            },
            "page.page_size",
        ),
        (
            proto::ListTransfersRequest {
                fund_id: fund.id.clone(),
                page: Some(proto::PageRequest {
                    page_size: 0,
                    page_token: "forged".into(),
                }),
            },
            "page.page_token",
        ),
    ] {
        assert_invalid(
            app.client().list_transfers(bearer(&token, request)).await,
            field,
        );
    }
    assert_eq!(app.row_counts().await, before, "nothing was written");
}

#[tokio::test]
async fn a_fund_takes_at_most_a_hundred_payees_so_every_answer_listing_them_stays_small() {
    let app = TestApp::spawn().await;
    let manage = manager(AUTHORITY);
    let mut request = fund_request(&uuid::Uuid::now_v7().to_string(), PERSON, "");
    request.payee_ids = (0..100).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let fund = app
        .client()
        .open_fund(bearer(&manage, request))
        .await
        .expect("a hundred payees are taken")
        .into_inner();
    let before = app.row_counts().await;
    let refused = app
        .client()
        .add_payee(bearer(
            &manage,
            proto::AddPayeeRequest {
                fund_id: fund.id.clone(),
                payee_id: uuid::Uuid::now_v7().to_string(),
            },
        ))
        .await
        .expect_err("the hundred-and-first payee is refused");
    assert_eq!(
        refused.code(),
        tonic::Code::FailedPrecondition,
        "{refused:?}"
    );
    assert!(
        refused.message().contains("100 payees"),
        "{}",
        refused.message()
    );
    assert_eq!(app.row_counts().await, before, "nothing was written");
}
