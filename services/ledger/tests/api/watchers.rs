//! The balance watchers: `fund.surplus` as a fund's balance rises above four weeks of its
//! budget and `fund.low_balance` as it falls below one, each once per crossing, in the same
//! transaction as the movement that crossed it.

use sds_proto::v1 as proto;

use crate::support::*;

fn balances_told(events: &[proto::Event]) -> Vec<(String, String, u32)> {
    events
        .iter()
        .map(|event| match &event.body {
            Some(proto::event::Body::FundSurplus(surplus)) => (
                amount_of(&surplus.balance),
                amount_of(&surplus.threshold),
                surplus.weeks,
            ),
            Some(proto::event::Body::FundLowBalance(low)) => (
                amount_of(&low.balance),
                amount_of(&low.threshold),
                low.weeks,
            ),
            other => panic!("not a watcher's event: {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn a_surplus_and_a_low_balance_are_each_told_once_per_crossing() {
    let app = TestApp::spawn().await;
    // 375.00 a week: a surplus above 1,500.00, a low balance below 375.00.
    let fund = app.open_fund(PERSON, "0.00").await;
    app.fund(&fund, "1500.00").await;
    assert!(
        app.events_of("fund.surplus").await.is_empty(),
        "at it, not above"
    );
    app.fund(&fund, "0.01").await;
    app.fund(&fund, "500.00").await;
    let surplus = app.events_of("fund.surplus").await;
    assert_eq!(
        balances_told(&surplus),
        vec![("1500.01".into(), "1500.00".into(), 4)],
        "told as it crossed, not again while above"
    );
    let Some(proto::event::Body::FundSurplus(told)) = &surplus[0].body else {
        unreachable!()
    };
    assert_eq!(told.fund_id, fund.id);
    assert_eq!(told.person_id, PERSON);
    assert_eq!(surplus[0].authority, AUTHORITY);

    // Spent down to 300.00 (below a week's budget), then to 200.00 (still low).
    app.create(&finance(AUTHORITY), vec![TestApp::spend(&fund, "1700.01")])
        .await
        .unwrap();
    app.create(&finance(AUTHORITY), vec![TestApp::spend(&fund, "100.00")])
        .await
        .unwrap();
    assert_eq!(
        balances_told(&app.events_of("fund.low_balance").await),
        vec![("300.00".into(), "375.00".into(), 1)]
    );
    // Back above four weeks in one go (1,600.00): a second surplus.
    app.fund(&fund, "1400.00").await;
    assert_eq!(app.events_of("fund.surplus").await.len(), 2);
    assert_eq!(app.events_of("fund.low_balance").await.len(), 1);
}

#[tokio::test]
async fn a_batch_refused_tells_nothing() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "0.00").await;
    app.fund(&fund, "400.00").await;
    // Spending 100.00 would cross below a week, but the second transfer overdraws: the
    // whole batch is refused, and no watcher speaks.
    let refused = app
        .create(
            &finance(AUTHORITY),
            vec![
                TestApp::spend(&fund, "100.00"),
                TestApp::spend(&fund, "900.00"),
            ],
        )
        .await;
    assert!(refused.is_err());
    assert!(app.events_of("fund.low_balance").await.is_empty());
}
