//! Bulk posting: a payment run streamed in chunks, each all or nothing; a resent stream
//! moves nothing twice; a refused chunk names its place and leaves the chunks before it;
//! bad input writes nothing.

use sds_ledger::audit;
use sds_proto::v1 as proto;
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

/// `count` funds, each for its own person.
async fn funds(app: &TestApp, count: usize) -> Vec<proto::Fund> {
    let mut funds = Vec::with_capacity(count);
    for _ in 0..count {
        funds.push(app.open_fund(&Uuid::now_v7().to_string(), "").await);
    }
    funds
}

/// A run over `funds`: one chunk funding each with 100.00, then a chunk of 1,200 payments
/// of 0.25 spread over them (large enough to be written by COPY), whose notes carry what
/// COPY's text format would misread unescaped (a backslash, `\\N`) and a non-ASCII letter.
fn run(funds: &[proto::Fund]) -> Vec<Vec<proto::NewTransfer>> {
    let fundings = funds.iter().map(|fund| funding(fund, "100.00")).collect();
    let payments = (0..1200)
        .map(|index| {
            let mut payment = TestApp::spend(&funds[index % funds.len()], "0.25");
            payment.reference = format!("run 2026-12 line {index}");
            payment.note = format!("week {index}: back\\slash \\N \u{e9}");
            payment
        })
        .collect();
    vec![fundings, payments]
}

#[tokio::test]
async fn a_payment_run_streamed_in_chunks_is_recorded_once_and_a_resent_stream_moves_nothing() {
    let app = TestApp::spawn().await;
    let funds = funds(&app, 40).await;
    let run = run(&funds);
    let answer = app
        .post_bulk(&finance(AUTHORITY), run.clone())
        .await
        .expect("the run is recorded");
    assert_eq!(answer.chunks, 2);
    assert_eq!(answer.recorded, 1240);
    assert_eq!(answer.already_recorded, 0);
    // 40 x 100.00 in, 1,200 x 0.25 out.
    assert_eq!(amount_of(&answer.amount), "4300.00");
    for fund in &funds {
        assert_eq!(app.fund_balance(fund).await.0, "92.50");
    }
    app.assert_entries_match_balances().await;

    // What COPY wrote reads back as it was sent.
    // The newest payment of fund 7, on the first page of its transfers.
    let sent = &run[1][1167];
    let listed = app
        .client()
        .list_transfers(bearer(
            &finance(AUTHORITY),
            proto::ListTransfersRequest {
                fund_id: funds[7].id.clone(),
                page: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let read = listed
        .transfers
        .iter()
        .find(|transfer| transfer.id == sent.id)
        .expect("the payment is listed");
    assert_eq!(read.note, sent.note);
    assert_eq!(read.reference, sent.reference);
    assert_eq!(amount_of(&read.amount), "0.25");

    // One ledger.posted for the first chunk; the second comes in parts of at most 1,000.
    let posted = app.events_of("ledger.posted").await;
    let parts: Vec<(usize, u32, u32)> = posted
        .iter()
        .map(|event| match &event.body {
            Some(proto::event::Body::LedgerPosted(body)) => {
                (body.transfers.len(), body.part, body.parts)
            }
            other => panic!("not ledger.posted: {other:?}"),
        })
        .collect();
    assert_eq!(parts, vec![(40, 1, 1), (1000, 1, 2), (200, 2, 2)]);

    // The whole stream again (the run lost its answer): every transfer is a retry.
    let before = app.row_counts().await;
    let again = app
        .post_bulk(&finance(AUTHORITY), run)
        .await
        .expect("a resent run is answered");
    assert_eq!(
        (again.chunks, again.recorded, again.already_recorded),
        (2, 0, 1240)
    );
    assert_eq!(amount_of(&again.amount), "0.00");
    assert_eq!(app.row_counts().await, before);
    let report = audit::run(&app.pool).await.expect("the audit runs");
    assert_eq!(report.violations, vec![]);
    assert_eq!(report.transfers, 1240);
}

#[tokio::test]
async fn a_refused_chunk_records_nothing_and_names_its_place_while_the_chunks_before_it_stay() {
    let app = TestApp::spawn().await;
    let funds = funds(&app, 3).await;
    let first: Vec<_> = funds.iter().map(|fund| funding(fund, "50.00")).collect();
    let mut second: Vec<_> = funds
        .iter()
        .map(|fund| TestApp::spend(fund, "10.00"))
        .collect();
    // The third payment of the second chunk overdraws its fund.
    second[2] = TestApp::spend(&funds[2], "50.01");
    let after_first = {
        app.post_bulk(&finance(AUTHORITY), vec![first.clone()])
            .await
            .expect("the first chunk alone is recorded");
        app.row_counts().await
    };
    let message = assert_code(
        app.post_bulk(&finance(AUTHORITY), vec![first, second.clone()])
            .await,
        Code::FailedPrecondition,
    );
    assert!(
        message.starts_with("chunks[1].transfers[2]: fund "),
        "{message}"
    );
    assert!(message.contains("short by 0.01"), "{message}");
    assert!(
        message.contains(
            "the 1 chunk(s) before it stay recorded (0 transfers new, 3 already recorded)"
        ),
        "{message}"
    );
    assert_eq!(app.row_counts().await, after_first);

    // Fixed, the run goes through from the refused chunk.
    second[2] = TestApp::spend(&funds[2], "50.00");
    let answer = app
        .post_bulk(&finance(AUTHORITY), vec![second])
        .await
        .expect("the corrected chunk is recorded");
    assert_eq!((answer.recorded, answer.already_recorded), (3, 0));
    assert_eq!(app.fund_balance(&funds[2]).await.0, "0.00");
}

#[tokio::test]
async fn bad_chunks_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    let recorded = funding(&fund, "20.00");
    app.create(&finance(AUTHORITY), vec![recorded.clone()])
        .await
        .expect("one transfer already recorded");
    let before = app.row_counts().await;

    let duplicate = funding(&fund, "1.00");
    let mut bad_amount = funding(&fund, "1.00");
    bad_amount.amount = money("-1.00");
    let mut other_content = recorded.clone();
    other_content.amount = money("21.00");
    let oversized: Vec<_> = (0..10_001).map(|_| funding(&fund, "0.01")).collect();
    let cases: Vec<(&str, Vec<Vec<proto::NewTransfer>>, Code, &str)> = vec![
        (
            "no chunks",
            vec![],
            Code::InvalidArgument,
            "chunks is empty",
        ),
        (
            "an empty chunk",
            vec![vec![]],
            Code::InvalidArgument,
            "chunks[0].transfers is empty",
        ),
        (
            "too many in a chunk",
            vec![oversized],
            Code::InvalidArgument,
            "chunks[0].transfers has 10001 transfers; a chunk takes at most 10000",
        ),
        (
            "an id twice in a chunk",
            vec![vec![duplicate.clone(), duplicate]],
            Code::InvalidArgument,
            "chunks[0].transfers[1].id ",
        ),
        (
            "a bad amount in a later chunk",
            vec![vec![recorded.clone()], vec![bad_amount]],
            Code::InvalidArgument,
            "chunks[1].transfers[0].amount ",
        ),
        (
            "a used id with other content",
            vec![vec![other_content]],
            Code::AlreadyExists,
            "chunks[0]: transfer ",
        ),
    ];
    for (case, chunks, code, start) in cases {
        let message = assert_code(app.post_bulk(&finance(AUTHORITY), chunks).await, code);
        assert!(message.starts_with(start), "{case}: {message}");
        assert_eq!(app.row_counts().await, before, "{case} wrote something");
    }

    // Only finance staff of the funds' authority post; a provider is not told the fund.
    let payment = vec![vec![TestApp::spend(&fund, "1.00")]];
    assert_code(
        app.post_bulk(&manager(AUTHORITY), payment.clone()).await,
        Code::PermissionDenied,
    );
    assert_code(
        app.post_bulk(&finance(OTHER_AUTHORITY), payment.clone())
            .await,
        Code::NotFound,
    );
    assert_code(
        app.post_bulk(&provider(PAYEE), payment).await,
        Code::PermissionDenied,
    );
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn the_same_run_sent_twice_at_once_moves_each_transfer_once() {
    let app = TestApp::spawn().await;
    let funds = funds(&app, 10).await;
    let run = run(&funds);
    let token = finance(AUTHORITY);
    let (one, two) = tokio::join!(
        app.post_bulk(&token, run.clone()),
        app.post_bulk(&token, run.clone()),
    );
    let (one, two) = (one.expect("one run"), two.expect("the other run"));
    assert_eq!(one.recorded + two.recorded, 1210);
    assert_eq!(one.already_recorded + two.already_recorded, 1210);
    for fund in &funds {
        // 100.00 in, 120 x 0.25 out.
        assert_eq!(app.fund_balance(fund).await.0, "70.00");
    }
    let report = audit::run(&app.pool).await.expect("the audit runs");
    assert_eq!(report.violations, vec![]);
}
