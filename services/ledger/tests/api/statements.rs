//! `GetStatement`: a fund's period as the person reads it, built from the entries: opening
//! and closing balances, money in by source and out by purpose, corrections netted, the
//! planned amount, and plain sentences.

use sds_proto::v1::{self as proto, LedgerAccountKind, TransferCategory};
use sds_testkit::bearer;
use tonic::{Code, Status};

use crate::support::*;

impl TestApp {
    pub async fn statement(
        &self,
        token: &str,
        fund_id: &str,
        from: &str,
        to: &str,
    ) -> Result<proto::Statement, Status> {
        let date = |iso: &str| (!iso.is_empty()).then(|| proto::Date { iso: iso.into() });
        self.client()
            .get_statement(bearer(
                token,
                proto::GetStatementRequest {
                    fund_id: fund_id.into(),
                    from: date(from),
                    to: date(to),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }
}

#[tokio::test]
async fn a_statement_shows_a_period_s_money_in_and_out_netting_corrections() {
    let app = TestApp::spawn().await;
    app.set_today("2026-04-01");
    let fund = app.open_fund(PERSON, "0.00").await;
    app.fund(&fund, "1500.00").await;
    app.set_today("2026-04-10");
    let fee = new_transfer(
        account(&fund, LedgerAccountKind::FundBalance),
        account(&fund, LedgerAccountKind::ManagementFee),
        "75.00",
        TransferCategory::ManagementFee,
    );
    let purchase = new_transfer(
        account(&fund, LedgerAccountKind::FundBalance),
        account(&fund, LedgerAccountKind::OneOffPurchase),
        "100.00",
        TransferCategory::OneOffPurchase,
    );
    app.create(
        &finance(AUTHORITY),
        vec![TestApp::spend(&fund, "1312.50"), fee, purchase.clone()],
    )
    .await
    .unwrap();
    // The purchase was a mistake: reversed two days later.
    app.set_today("2026-04-12");
    app.client()
        .reverse_transfer(bearer(
            &finance(AUTHORITY),
            proto::ReverseTransferRequest {
                transfer_id: purchase.id.clone(),
                reversal_id: uuid::Uuid::now_v7().to_string(),
                note: "bought twice".into(),
            },
        ))
        .await
        .unwrap();
    app.set_today("2026-04-30");
    app.fund(&fund, "1500.00").await;

    let april = app
        .statement(&person(PERSON), &fund.id, "2026-04-01", "2026-04-28")
        .await
        .unwrap();
    assert_eq!(amount_of(&april.opening_balance), "0.00");
    assert_eq!(amount_of(&april.total_in), "1500.00");
    assert_eq!(
        amount_of(&april.total_out),
        "1387.50",
        "the purchase nets to nothing"
    );
    assert_eq!(amount_of(&april.closing_balance), "112.50");
    assert_eq!(amount_of(&april.planned), "1500.00", "four weeks of 375.00");
    let out: Vec<(i32, String, String)> = april
        .money_out
        .iter()
        .map(|line| {
            (
                line.counterpart,
                line.payee_id.clone(),
                amount_of(&line.amount),
            )
        })
        .collect();
    assert_eq!(
        out,
        vec![
            (
                LedgerAccountKind::Payable as i32,
                PAYEE.to_owned(),
                "1312.50".into()
            ),
            (
                LedgerAccountKind::ManagementFee as i32,
                String::new(),
                "75.00".into()
            ),
        ]
    );
    assert_eq!(
        april.text,
        "Between 1 April and 28 April 2026, your fund started with 0.00 and ended with 112.50. \
         1,500.00 came in from Fife. 1,312.50 was paid to the provider whose reference ends 00c1 for your support. \
         75.00 was the fee for looking after the money. Your plan meant 1,500.00 for these 28 days.\n"
    );
    // The next period starts where April's statement ended.
    let next = app
        .statement(&finance(AUTHORITY), &fund.id, "2026-04-29", "2026-05-26")
        .await
        .unwrap();
    assert_eq!(amount_of(&next.opening_balance), "112.50");
    assert_eq!(amount_of(&next.closing_balance), "1612.50");
}

#[tokio::test]
async fn a_statement_is_refused_for_a_bad_period_and_to_whoever_may_not_read_the_fund() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "0.00").await;
    let reader = finance(AUTHORITY);
    for (id, from, to, field) in [
        ("nope", "2026-04-01", "2026-04-28", "fund_id"),
        (fund.id.as_str(), "", "2026-04-28", "from"),
        (fund.id.as_str(), "2026-04-01", "", "to"),
        (fund.id.as_str(), "2026-04-31", "2026-05-28", "from"),
        (fund.id.as_str(), "2026-04-28", "2026-04-01", "to"),
        (fund.id.as_str(), "2020-01-01", "2026-04-01", "to"),
        // 1,097 days, both ends counted: one more than three years allow.
        (fund.id.as_str(), "2023-11-28", "2026-11-28", "to"),
    ] {
        assert_invalid(app.statement(&reader, id, from, to).await, field);
    }
    let longest = app
        .statement(&reader, &fund.id, "2023-11-29", "2026-11-28")
        .await
        .unwrap();
    // The fund opened on the last day of the period: the plan counts that day only.
    assert_eq!(longest.planned_days, 1);
    assert!(
        longest
            .text
            .contains("The fund was open on 1 of these days, and your plan meant 53.57 for them."),
        "{}",
        longest.text
    );
    for token in [
        person(OTHER_PERSON),
        provider(OTHER_PROVIDER),
        finance(OTHER_AUTHORITY),
    ] {
        assert_code(
            app.statement(&token, &fund.id, "2026-04-01", "2026-04-28")
                .await,
            Code::NotFound,
        );
    }
}
