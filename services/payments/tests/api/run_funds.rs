//! The funds runs pay into: the provider's, the third party's, the authority's own (passing
//! each instalment on to the provider's payable account, one per provider), and a fund staff
//! opened before payments did.

use sds_proto::v1 as proto;

use crate::run_support::*;
use crate::support::*;

#[tokio::test]
async fn an_authority_held_fund_passes_each_instalment_on_to_the_provider() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(authority_held(first_version()))).await;
    let ran = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    assert_eq!(figures(&ran.summary), (3, 1, "2100.00".to_owned()));
    let fund = app.fund("").await;
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "0.00"
    );
    assert_eq!(balance(&fund, proto::LedgerAccountKind::Payable), "2100.00");
}

#[tokio::test]
async fn a_third_party_fund_is_paid_into_for_its_holder() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(held_by_third_party(first_version())))
        .await;
    app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-05-04")
        .await
        .expect("a run");
    let fund = app.fund(HOLDER).await;
    assert_eq!(fund.holder_id, HOLDER);
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "1260.00"
    );
}

#[tokio::test]
async fn an_authority_held_fund_pays_each_of_the_persons_providers_from_its_own_payable() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(authority_held(first_version()))).await;
    let mut second = authority_held(first_version());
    second.id = "0192f0c1-0000-7000-8000-0000000000d2".to_owned();
    second.provider_id = OTHER_PROVIDER.to_owned();
    second.payee_id = OTHER_PROVIDER.to_owned();
    app.deliver(&signed(second)).await;
    let ran = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    assert_eq!(figures(&ran.summary), (6, 2, "4200.00".to_owned()));
    let fund = app.fund("").await;
    let payables: Vec<(String, String)> = fund
        .accounts
        .iter()
        .filter(|account| account.kind == proto::LedgerAccountKind::Payable as i32)
        .map(|account| {
            (
                account.payee_id.clone(),
                account.balance.clone().unwrap().amount,
            )
        })
        .collect();
    assert_eq!(payables.len(), 2, "{payables:?}");
    assert!(
        payables.iter().all(|(_, balance)| balance == "2100.00"),
        "{payables:?}"
    );
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "0.00"
    );
}

#[tokio::test]
async fn a_fund_staff_opened_for_the_person_and_holder_is_the_one_a_run_pays_into() {
    let app = TestApp::spawn_with_ledger().await;
    let staff_fund = "0192f0c1-0000-7000-8000-0000000000f1";
    app.ledger
        .clone()
        .open_fund(sds_testkit::bearer(
            &practitioner(AUTHORITY),
            proto::OpenFundRequest {
                fund_id: staff_fund.to_owned(),
                authority: AUTHORITY.to_owned(),
                person_id: PERSON.to_owned(),
                holding_model: proto::FundHoldingModel::Provider as i32,
                holder_id: PROVIDER.to_owned(),
                weekly_budget: Some(money("210.00")),
                overdraft_limit: None,
                payee_ids: vec![],
            },
        ))
        .await
        .expect("staff open the fund");
    app.deliver(&signed(first_version())).await;
    app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    let fund = app
        .ledger
        .clone()
        .get_fund(sds_testkit::bearer(
            &finance(AUTHORITY),
            proto::GetFundRequest {
                fund_id: staff_fund.to_owned(),
            },
        ))
        .await
        .expect("the fund")
        .into_inner();
    assert_eq!(
        balance(&fund, proto::LedgerAccountKind::FundBalance),
        "2100.00"
    );
}
