//! Opening, funding and spending; the transfer id as idempotency key; batches all or
//! nothing; balances as at a past day.

use sds_proto::v1::{self as proto, LedgerAccountKind, TransferCategory, TransferStatus};
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn a_fund_is_opened_funded_and_spent_and_reads_back_its_balances() {
    let app = TestApp::spawn().await;
    let request = fund_request(&Uuid::now_v7().to_string(), PERSON, "");
    let fund = app
        .client()
        .open_fund(bearer(&manager(AUTHORITY), request.clone()))
        .await
        .expect("opens")
        .into_inner();
    assert_eq!(fund.status, proto::FundStatus::Open as i32);
    assert_eq!(
        fund.accounts.len(),
        9,
        "eight standing accounts and one payable"
    );
    assert_eq!(amount_of(&fund.overdraft_limit), "0.00");
    // Opening again is answered with the fund; other details under its id are refused,
    // and so is a second open fund of the person with the same holder.
    let again = app
        .client()
        .open_fund(bearer(&manager(AUTHORITY), request.clone()))
        .await
        .expect("a retried open")
        .into_inner();
    assert_eq!(again, fund);
    let mut other = request.clone();
    other.weekly_budget = money("400.00");
    assert_code(
        app.client()
            .open_fund(bearer(&manager(AUTHORITY), other))
            .await,
        Code::AlreadyExists,
    );
    let second = fund_request(&Uuid::now_v7().to_string(), PERSON, "");
    let message = assert_code(
        app.client()
            .open_fund(bearer(&manager(AUTHORITY), second))
            .await,
        Code::AlreadyExists,
    );
    assert!(message.contains(&fund.id), "{message}");

    app.fund(&fund, "1500.00").await;
    let paid = app
        .create(&finance(AUTHORITY), vec![TestApp::spend(&fund, "1312.50")])
        .await
        .expect("the payment is recorded");
    assert_eq!(paid[0].status, TransferStatus::Posted as i32);
    assert_eq!(paid[0].fund_id, fund.id);

    let read = app.get_fund(&finance(AUTHORITY), &fund.id).await.unwrap();
    let balance_of = |kind: LedgerAccountKind| {
        read.accounts
            .iter()
            .find(|account| account.kind == kind as i32)
            .map(|account| amount_of(&account.balance))
            .unwrap()
    };
    assert_eq!(balance_of(LedgerAccountKind::FundBalance), "187.50");
    assert_eq!(balance_of(LedgerAccountKind::AuthorityFunding), "-1500.00");
    assert_eq!(balance_of(LedgerAccountKind::Payable), "1312.50");
    let listed = app
        .client()
        .list_transfers(bearer(
            &person(PERSON),
            proto::ListTransfersRequest {
                fund_id: fund.id.clone(),
                page: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.transfers.len(), 2);
    assert_eq!(listed.transfers[0].id, paid[0].id, "newest first");
    let events = app.events_of("ledger.posted").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].authority, AUTHORITY);
    let Some(proto::event::Body::LedgerPosted(posted)) = &events[1].body else {
        panic!("a ledger.posted body");
    };
    assert_eq!(posted.transfers, paid);
    app.assert_entries_match_balances().await;
}

#[tokio::test]
async fn a_retried_transfer_returns_the_original_and_other_content_under_its_id_is_refused() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let spend = TestApp::spend(&fund, "40.00");
    let first = app
        .create(&finance(AUTHORITY), vec![spend.clone()])
        .await
        .unwrap();
    let before = app.row_counts().await;
    let again = app
        .create(&finance(AUTHORITY), vec![spend.clone()])
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(app.row_counts().await, before, "a retry writes nothing");
    assert_eq!(app.fund_balance(&fund).await.0, "60.00");

    let mut changed = spend.clone();
    changed.amount = money("41.00");
    let message = assert_code(
        app.create(&finance(AUTHORITY), vec![changed]).await,
        Code::AlreadyExists,
    );
    assert!(message.contains(&spend.id), "{message}");
    // A batch carrying a used id with other content moves nothing of its own either.
    let mut noted = spend.clone();
    noted.note = "other".into();
    assert_code(
        app.create(
            &finance(AUTHORITY),
            vec![TestApp::spend(&fund, "1.00"), noted],
        )
        .await,
        Code::AlreadyExists,
    );
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.fund_balance(&fund).await.0, "60.00");
}

/// The first attempt of a batch assumes its transfers are new: a retry of a payment that
/// emptied the fund would look like an overdraft to it, and must still be answered as the
/// retry it is.
#[tokio::test]
async fn a_retried_payment_that_emptied_the_fund_is_answered_with_the_original_not_refused() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let spend = TestApp::spend(&fund, "100.00");
    let first = app
        .create(&finance(AUTHORITY), vec![spend.clone()])
        .await
        .unwrap();
    let before = app.row_counts().await;
    let again = app
        .create(&finance(AUTHORITY), vec![spend.clone()])
        .await
        .expect("the retry is answered");
    assert_eq!(again, first);
    assert_eq!(app.row_counts().await, before, "a retry writes nothing");
    assert_eq!(app.fund_balance(&fund).await.0, "0.00");
    assert_eq!(
        sds_ledger::audit::run(&app.pool).await.unwrap().violations,
        vec![]
    );
}

#[tokio::test]
async fn a_batch_that_would_overdraw_is_refused_whole_naming_the_balance_and_the_shortfall() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let before = app.row_counts().await;
    let message = assert_code(
        app.create(
            &finance(AUTHORITY),
            vec![
                TestApp::spend(&fund, "60.00"),
                TestApp::spend(&fund, "50.00"),
            ],
        )
        .await,
        Code::FailedPrecondition,
    );
    assert!(message.starts_with("transfers[1]: "), "{message}");
    assert!(message.contains("available balance is 40.00"), "{message}");
    assert!(message.contains("short by 10.00"), "{message}");
    assert_eq!(
        app.row_counts().await,
        before,
        "nothing of the batch is written"
    );
    assert_eq!(app.fund_balance(&fund).await.0, "100.00");

    // With an overdraft limit of 25.00 the same batch goes through, and no further.
    let overdrawn = app.open_fund(OTHER_PERSON, "25.00").await;
    app.fund(&overdrawn, "100.00").await;
    app.create(
        &finance(AUTHORITY),
        vec![
            TestApp::spend(&overdrawn, "60.00"),
            TestApp::spend(&overdrawn, "50.00"),
        ],
    )
    .await
    .expect("within the overdraft");
    assert_eq!(app.fund_balance(&overdrawn).await.0, "-10.00");
    let message = assert_code(
        app.create(
            &finance(AUTHORITY),
            vec![TestApp::spend(&overdrawn, "15.01")],
        )
        .await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("short by 0.01"), "{message}");
    app.assert_entries_match_balances().await;
}

#[tokio::test]
async fn the_balance_as_at_a_past_day_is_the_sum_of_its_entries_to_that_day() {
    let app = TestApp::spawn().await;
    app.set_today("2026-04-01");
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "1000.00").await;
    app.set_today("2026-04-15");
    app.create(&finance(AUTHORITY), vec![TestApp::spend(&fund, "300.00")])
        .await
        .unwrap();
    app.set_today("2026-05-01");
    app.fund(&fund, "500.00").await;
    let balance_account = account(&fund, LedgerAccountKind::FundBalance);
    for (day, expected) in [
        ("2026-03-31", "0.00"),
        ("2026-04-01", "1000.00"),
        ("2026-04-14", "1000.00"),
        ("2026-04-20", "700.00"),
        ("2026-05-01", "1200.00"),
    ] {
        let balance = app.balance(&balance_account, Some(day)).await;
        assert_eq!(amount_of(&balance.balance_as_at), expected, "as at {day}");
        assert_eq!(amount_of(&balance.balance), "1200.00");
    }
    let payable = app
        .balance(
            &account(&fund, LedgerAccountKind::Payable),
            Some("2026-04-15"),
        )
        .await;
    assert_eq!(amount_of(&payable.balance_as_at), "300.00");
    let _ = TransferCategory::Funding;
}

#[tokio::test]
async fn a_payee_added_later_gets_its_own_payable_account_once() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    assert_code(
        app.get_fund(&provider(OTHER_PROVIDER), &fund.id).await,
        Code::NotFound,
    );
    let add = proto::AddPayeeRequest {
        fund_id: fund.id.clone(),
        payee_id: OTHER_PROVIDER.into(),
    };
    let added = app
        .client()
        .add_payee(bearer(&manager(AUTHORITY), add.clone()))
        .await
        .unwrap()
        .into_inner();
    let payables: Vec<&str> = added
        .accounts
        .iter()
        .filter(|account| account.kind == LedgerAccountKind::Payable as i32)
        .map(|account| account.payee_id.as_str())
        .collect();
    assert_eq!(payables, [PAYEE, OTHER_PROVIDER]);
    let again = app
        .client()
        .add_payee(bearer(&manager(AUTHORITY), add.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, added, "adding a payee again changes nothing");
    // Paid from the fund now, the provider reads it.
    app.get_fund(&provider(OTHER_PROVIDER), &fund.id)
        .await
        .expect("a payee reads the fund");
    assert_code(
        app.client()
            .add_payee(bearer(&provider(OTHER_PROVIDER), add))
            .await,
        Code::PermissionDenied,
    );
    assert_invalid(
        app.client()
            .add_payee(bearer(
                &manager(AUTHORITY),
                proto::AddPayeeRequest {
                    fund_id: fund.id.clone(),
                    payee_id: "someone".into(),
                },
            ))
            .await,
        "payee_id",
    );
}

#[tokio::test]
async fn the_service_runs_its_statements_on_generic_plans_made_once_per_connection() {
    let app = TestApp::spawn().await;
    let mode: String = sqlx::query_scalar("SHOW plan_cache_mode")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(mode, "force_generic_plan");
}

#[tokio::test]
async fn paging_through_transfers_while_postings_go_on_shows_each_once_and_misses_none() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let mut posted = Vec::new();
    for _ in 0..4 {
        let spend = TestApp::spend(&fund, "1.00");
        posted.push(spend.id.clone());
        app.create(&finance(AUTHORITY), vec![spend]).await.unwrap();
    }
    let page = |token: String| {
        let app = &app;
        let fund_id = fund.id.clone();
        async move {
            app.client()
                .list_transfers(bearer(
                    &finance(AUTHORITY),
                    proto::ListTransfersRequest {
                        fund_id,
                        page: Some(proto::PageRequest {
                            page_size: 2,
                            page_token: token,
                        }),
                    },
                ))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let mut seen: Vec<String> = Vec::new();
    let mut token = String::new();
    loop {
        let listed = page(token).await;
        seen.extend(listed.transfers.iter().map(|transfer| transfer.id.clone()));
        // A payment recorded between pages, as happens while a finance officer reads.
        let spend = TestApp::spend(&fund, "1.00");
        app.create(&finance(AUTHORITY), vec![spend]).await.unwrap();
        token = listed.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    // The funding and the four payments that were there when the listing began, newest
    // first, each once: with offset paging each new payment pushed one into the next page.
    assert_eq!(seen.len(), 5, "{seen:?}");
    let expected: Vec<String> = posted.into_iter().rev().collect();
    assert_eq!(seen[..4], expected[..]);
}
