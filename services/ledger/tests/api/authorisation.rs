//! Who may do what: authority staff manage their own funds, finance posts, a provider reads
//! only funds it holds or is paid from, a person only their own, another authority nothing.

use sds_platform::Role;
use sds_proto::v1::{self as proto, LedgerAccountKind};
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn each_caller_reads_and_posts_only_what_is_theirs() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "100.00").await;
    let before = app.row_counts().await;

    for (token, readable) in [
        (finance(AUTHORITY), true),
        (manager(AUTHORITY), true),
        (provider(PAYEE), true),
        (holder(HOLDER), true),
        (person(PERSON), true),
        (provider(OTHER_PROVIDER), false),
        (person(OTHER_PERSON), false),
        (finance(OTHER_AUTHORITY), false),
    ] {
        let read = app.get_fund(&token, &fund.id).await;
        let balance = app
            .client()
            .get_balance(bearer(
                &token,
                proto::GetBalanceRequest {
                    account_id: account(&fund, LedgerAccountKind::FundBalance),
                    as_at: None,
                },
            ))
            .await;
        let listed = app
            .client()
            .list_transfers(bearer(
                &token,
                proto::ListTransfersRequest {
                    fund_id: fund.id.clone(),
                    page: None,
                },
            ))
            .await;
        if readable {
            assert!(read.is_ok() && balance.is_ok() && listed.is_ok(), "{token}");
        } else {
            assert_code(read, Code::NotFound);
            assert_code(balance, Code::NotFound);
            assert_code(listed, Code::NotFound);
        }
    }

    // Posting is finance's (and, for payments out of the fund, its holder's: see
    // holder_payments); the payee and other staff may not, and another authority's finance
    // is told the accounts are not recorded.
    for (token, code) in [
        (manager(AUTHORITY), Code::PermissionDenied),
        (provider(PAYEE), Code::PermissionDenied),
        (person(PERSON), Code::PermissionDenied),
        (finance(OTHER_AUTHORITY), Code::NotFound),
    ] {
        assert_code(
            app.create(&token, vec![TestApp::spend(&fund, "1.00")])
                .await,
            code,
        );
    }
    // Opening and closing are the authority staff's, never a provider's or another
    // authority's.
    for token in [
        provider(PAYEE),
        staff(OTHER_AUTHORITY, &[Role::Practitioner]),
        staff(AUTHORITY, &[Role::ProviderAdmin]),
    ] {
        assert_code(
            app.client()
                .open_fund(bearer(
                    &token,
                    fund_request(&uuid::Uuid::now_v7().to_string(), OTHER_PERSON, ""),
                ))
                .await,
            Code::PermissionDenied,
        );
    }
    assert_code(
        app.client()
            .close_fund(bearer(
                &staff(OTHER_AUTHORITY, &[Role::Practitioner]),
                proto::CloseFundRequest {
                    fund_id: fund.id.clone(),
                    ..Default::default()
                },
            ))
            .await,
        Code::NotFound,
    );
    assert_code(
        app.client()
            .close_fund(bearer(
                &person(PERSON),
                proto::CloseFundRequest {
                    fund_id: fund.id.clone(),
                    ..Default::default()
                },
            ))
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(app.row_counts().await, before, "nothing was written");
}

#[tokio::test]
async fn another_authority_learns_nothing_of_a_funds_transfers_or_its_person_from_global_ids() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    let funded = app.fund(&fund, "100.00").await;
    // The same person with the same holder under another authority (they moved): a fund
    // of its own, not refused by the first authority's.
    let mut elsewhere = fund_request(&Uuid::now_v7().to_string(), PERSON, "");
    elsewhere.authority = OTHER_AUTHORITY.into();
    let other = app
        .client()
        .open_fund(bearer(&manager(OTHER_AUTHORITY), elsewhere))
        .await
        .expect("another authority opens its own fund for the person")
        .into_inner();
    assert_ne!(other.id, fund.id);
    // A transfer id the first authority used, sent by the other for its own fund: taken,
    // without saying whose it is.
    let mut reused = new_transfer(
        account(&other, LedgerAccountKind::AuthorityFunding),
        account(&other, LedgerAccountKind::FundBalance),
        "5.00",
        proto::TransferCategory::Funding,
    );
    reused.id = funded.id.clone();
    let before = app.row_counts().await;
    let message = assert_code(
        app.create(&finance(OTHER_AUTHORITY), vec![reused]).await,
        Code::AlreadyExists,
    );
    assert!(!message.contains(AUTHORITY), "{message}");
    assert!(!message.contains(&fund.id), "{message}");
    assert_eq!(app.row_counts().await, before, "nothing was written");
}
