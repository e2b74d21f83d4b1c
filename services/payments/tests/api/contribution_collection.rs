//! Collecting the person's contribution: each period falls due in their fund as runs reach
//! it, the holder records what was paid (once, whatever the retries), arrears beyond the
//! authority's allowance are raised once, and the person's statement shows what they paid
//! and what is outstanding.

use sds_proto::v1 as proto;
use tonic::Code;

use crate::run_support::*;
use crate::support::*;

const RECEIPT: &str = "0192f0c1-0000-7000-8000-00000000e001";

async fn set_contribution(app: &TestApp, weekly: &str, from: &str) {
    app.client()
        .set_contribution(sds_testkit::bearer(
            &finance(AUTHORITY),
            proto::SetContributionRequest {
                agreement_id: AGREEMENT.to_owned(),
                weekly_amount: Some(money(weekly)),
                effective_from: Some(date(from)),
                assessment_reference: "FA-2026/118".to_owned(),
            },
        ))
        .await
        .expect("set");
}

fn receipt(amount: &str, received_on: &str) -> proto::RecordContributionReceiptRequest {
    proto::RecordContributionReceiptRequest {
        receipt_id: RECEIPT.to_owned(),
        agreement_id: AGREEMENT.to_owned(),
        amount: Some(money(amount)),
        received_on: Some(date(received_on)),
        reference: "SO 4471 June".to_owned(),
    }
}

async fn record(
    app: &TestApp,
    token: &str,
    request: proto::RecordContributionReceiptRequest,
) -> Result<proto::ContributionReceipt, tonic::Status> {
    app.client()
        .record_contribution_receipt(sds_testkit::bearer(token, request))
        .await
        .map(tonic::Response::into_inner)
}

async fn contribution(app: &TestApp) -> proto::Contribution {
    app.client()
        .get_contribution(sds_testkit::bearer(
            &finance(AUTHORITY),
            proto::GetContributionRequest {
                agreement_id: AGREEMENT.to_owned(),
            },
        ))
        .await
        .expect("the contribution")
        .into_inner()
}

fn arrears_events(events: &[sds_proto::v1::Event]) -> Vec<proto::ContributionArrears> {
    events
        .iter()
        .filter_map(|event| match &event.body {
            Some(proto::event::Body::ContributionArrears(arrears)) => Some(arrears.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn dues_and_receipts_reach_the_fund_arrears_are_raised_once_and_the_statement_shows_what_is_outstanding()
 {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    on(&app, "2026-04-02");
    set_contribution(&app, "30.00", "2026-04-20").await;

    on(&app, "2026-06-01");
    app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    let collected = contribution(&app).await;
    let dues: Vec<(String, String)> = collected
        .dues
        .iter()
        .map(|due| {
            (
                due.due_date.clone().unwrap().iso,
                due.amount.clone().unwrap().amount,
            )
        })
        .collect();
    assert_eq!(
        dues,
        [
            ("2026-04-06".to_owned(), "60.00".to_owned()),
            ("2026-05-04".to_owned(), "120.00".to_owned()),
            ("2026-06-01".to_owned(), "120.00".to_owned()),
        ]
    );
    assert!(collected.dues.iter().all(|due| due.posted));
    assert_eq!(collected.outstanding, Some(money("300.00")));
    assert_eq!(
        (collected.arrears_periods, collected.allowed_periods),
        (3, 2)
    );
    let fund = app.fund(PROVIDER).await;
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "1800.00"
    );
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::ContributionDue),
        "300.00"
    );
    let raised = arrears_events(&app.events_of("contribution.arrears").await);
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].periods, 3);
    assert_eq!(raised[0].since, Some(date("2026-04-06")));
    assert_eq!(raised[0].outstanding, Some(money("300.00")));
    assert_eq!(raised[0].collected_by, PROVIDER);

    // Running the same date again finds nothing new and raises nothing again.
    app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("the same run");
    assert_eq!(contribution(&app).await.dues.len(), 3);
    assert_eq!(app.events_of("contribution.arrears").await.len(), 1);

    // The provider, who holds the fund, records what the person paid.
    on(&app, "2026-06-05");
    let recorded = record(&app, &provider(PROVIDER), receipt("200.00", "2026-06-05"))
        .await
        .expect("recorded");
    assert!(recorded.posted);
    let rows = app.row_counts().await;
    let again = record(&app, &provider(PROVIDER), receipt("200.00", "2026-06-05"))
        .await
        .expect("the same receipt again");
    assert_eq!(again, recorded);
    assert_eq!(app.row_counts().await, rows, "nothing recorded twice");
    assert_refused(
        record(&app, &provider(PROVIDER), receipt("210.00", "2026-06-05")).await,
        Code::AlreadyExists,
        "already recorded with other content",
    );

    let collected = contribution(&app).await;
    assert_eq!(collected.outstanding, Some(money("100.00")));
    assert_eq!(collected.arrears_periods, 1);
    let fund = app.fund(PROVIDER).await;
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "2000.00"
    );

    let statement = app
        .ledger
        .clone()
        .get_statement(sds_testkit::bearer(
            &person(PERSON),
            proto::GetStatementRequest {
                fund_id: fund.id.clone(),
                from: Some(date("2026-01-01")),
                to: Some(date("2026-12-31")),
            },
        ))
        .await
        .expect("the person's statement")
        .into_inner();
    let shown = statement.contribution.clone().expect("a contribution");
    assert_eq!(
        (shown.due, shown.paid, shown.outstanding),
        (
            Some(money("300.00")),
            Some(money("200.00")),
            Some(money("100.00"))
        )
    );
    assert!(
        statement.text.contains("200.00 came in from your own contribution.")
            && statement.text.contains(
                "Your contribution for these days was 300.00 and you paid 200.00; 100.00 is outstanding."
            ),
        "{}",
        statement.text
    );

    // Behind again beyond the allowance: raised a second time, once.
    on(&app, "2026-07-27");
    app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-29")
        .await
        .expect("a run");
    app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-07-27")
        .await
        .expect("a run");
    let raised = arrears_events(&app.events_of("contribution.arrears").await);
    assert_eq!(raised.len(), 2, "{raised:?}");
    assert_eq!(raised[1].periods, 3);
    assert_eq!(raised[1].outstanding, Some(money("340.00")));
}

#[tokio::test]
async fn a_receipt_before_the_fund_opens_is_kept_and_posted_by_the_run_that_opens_it() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    on(&app, "2026-04-02");
    set_contribution(&app, "30.00", "2026-04-20").await;
    let early = record(&app, &finance(AUTHORITY), receipt("60.00", "2026-04-02"))
        .await
        .expect("recorded");
    assert!(!early.posted, "no fund yet");
    on(&app, "2026-04-06");
    app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-04-06")
        .await
        .expect("a run");
    let collected = contribution(&app).await;
    assert!(collected.receipts.iter().all(|receipt| receipt.posted));
    assert_eq!(collected.outstanding, Some(money("0.00")));
    assert_eq!(collected.arrears_periods, 0);
    let fund = app.fund(PROVIDER).await;
    // 360.00 from the authority (420.00 less 60.00) and 60.00 from the person.
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "420.00"
    );
    assert!(app.events_of("contribution.arrears").await.is_empty());
}

#[tokio::test]
async fn only_the_funds_holder_and_finance_record_receipts_and_bad_ones_write_nothing() {
    let app = TestApp::spawn().await;
    app.deliver(&signed(first_version())).await;
    on(&app, "2026-06-05");
    let rows = app.row_counts().await;
    for (token, code) in [
        (person(PERSON), Code::PermissionDenied),
        (practitioner(AUTHORITY), Code::PermissionDenied),
        (holder(HOLDER), Code::NotFound),
        (provider(OTHER_PROVIDER), Code::NotFound),
        (finance(OTHER_AUTHORITY), Code::NotFound),
    ] {
        let refused = record(&app, &token, receipt("20.00", "2026-06-05")).await;
        assert_eq!(refused.expect_err("refused").code(), code);
    }
    for (request, words) in [
        (
            receipt("0.00", "2026-06-05"),
            "amount: \"0.00\" is not allowed",
        ),
        (
            receipt("20.00", "2026-06-06"),
            "received_on: 2026-06-06 is not allowed",
        ),
        (
            proto::RecordContributionReceiptRequest {
                receipt_id: "r-1".to_owned(),
                ..receipt("20.00", "2026-06-05")
            },
            "receipt_id: \"r-1\" is not a UUID",
        ),
    ] {
        assert_refused(
            record(&app, &finance(AUTHORITY), request).await,
            Code::InvalidArgument,
            words,
        );
    }
    assert_refused(
        record(&app, &finance(AUTHORITY), receipt("20.00", "2026-06-05")).await,
        Code::FailedPrecondition,
        "has no contribution set",
    );
    assert_eq!(app.row_counts().await, rows, "nothing was written");
}
