//! Bulk streams as the server lives with them: a run may stream past the request timeout
//! while it keeps sending, a stalled one is ended, a client that goes away in the middle of
//! a chunk leaves the server whole, and only a few streams, of finance staff, run at once.

use std::time::Duration;

use sds_proto::v1 as proto;
use sds_testkit::{bearer, wait_until};
use tonic::Code;

use crate::support::*;

/// A server that answers a request within a second and waits two for a stream's next
/// message.
async fn impatient() -> TestApp {
    TestApp::spawn_with(vec![
        ("SDS_REQUEST_TIMEOUT_SECONDS", "1".to_owned()),
        ("SDS_REQUEST_BODY_TIMEOUT_SECONDS", "2".to_owned()),
    ])
    .await
}

fn chunk_messages(chunks: Vec<Vec<proto::NewTransfer>>) -> Vec<proto::PostBulkChunk> {
    chunks
        .into_iter()
        .map(|transfers| proto::PostBulkChunk { transfers })
        .collect()
}

#[tokio::test]
async fn a_run_may_stream_for_longer_than_a_request_may_take_while_its_chunks_keep_coming() {
    let app = impatient().await;
    let fund = app.open_fund(PERSON, "").await;
    let chunks: Vec<_> = (0..4).map(|_| vec![funding(&fund, "10.00")]).collect();
    // 4 x 600 ms: past the one-second request timeout, never two seconds between chunks.
    let paced = futures::StreamExt::then(
        futures::stream::iter(chunk_messages(chunks)),
        |chunk| async move {
            tokio::time::sleep(Duration::from_millis(600)).await;
            chunk
        },
    );
    let answer = app
        .client()
        .post_bulk(bearer(&finance(AUTHORITY), paced))
        .await
        .expect("a run that keeps sending is not cut off")
        .into_inner();
    assert_eq!((answer.chunks, answer.recorded), (4, 4));
    assert_eq!(app.fund_balance(&fund).await.0, "40.00");
}

#[tokio::test]
async fn a_run_that_stops_sending_is_ended_keeping_the_chunks_it_sent() {
    let app = impatient().await;
    let fund = app.open_fund(PERSON, "").await;
    let first = chunk_messages(vec![vec![funding(&fund, "10.00")]]);
    let stalled =
        futures::StreamExt::chain(futures::stream::iter(first), futures::stream::pending());
    let started = std::time::Instant::now();
    let message = assert_code(
        app.client()
            .post_bulk(bearer(&finance(AUTHORITY), stalled))
            .await,
        Code::DeadlineExceeded,
    );
    assert!(
        message.starts_with("chunks[1]: the request stream sent nothing for 2 s;"),
        "{message}"
    );
    assert!(
        message.contains("the 1 chunk(s) before it stay recorded"),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(app.fund_balance(&fund).await.0, "10.00");
}

/// A chunk of `count` payments of 0.01 out of `fund`.
fn payments(fund: &proto::Fund, count: usize) -> Vec<proto::NewTransfer> {
    (0..count).map(|_| TestApp::spend(fund, "0.01")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_in_the_middle_of_a_chunk_leaves_the_server_answering_rightly() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "10000.00").await;
    let token = finance(AUTHORITY);
    let mut sent = Vec::new();
    // Cancelled after a range of delays, so some land while a chunk is being written.
    for delay in [20, 60, 120, 200, 300, 450, 650] {
        let chunk = payments(&fund, 10_000);
        sent.push(chunk.clone());
        let call = app.post_bulk(&token, vec![chunk]);
        let _ = tokio::time::timeout(Duration::from_millis(delay), call).await;
    }
    // Every connection of the pool still answers for what it holds.
    for _ in 0..30 {
        app.get_fund(&token, &fund.id)
            .await
            .expect("the fund is read after cancelled streams");
    }
    let small = app
        .post_bulk(&token, vec![payments(&fund, 3)])
        .await
        .expect("a later stream is recorded");
    assert_eq!(small.recorded, 3);
    // A chunk the client walked away from ran to its end: all of it, or none.
    for chunk in &sent {
        let ids: Vec<uuid::Uuid> = chunk.iter().map(|t| t.id.parse().unwrap()).collect();
        let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM transfer WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert!(recorded == 0 || recorded == 10_000, "{recorded} of a chunk");
    }
    app.assert_entries_match_balances().await;
    let report = sds_ledger::audit::run(&app.pool)
        .await
        .expect("the audit runs");
    assert_eq!(report.violations, vec![]);
}

#[tokio::test]
async fn only_finance_staff_open_a_stream_and_are_refused_before_it_is_read() {
    let app = TestApp::spawn().await;
    for token in [
        person(PERSON),
        manager(AUTHORITY),
        provider(PAYEE),
        holder(HOLDER),
    ] {
        // A stream that never sends: refused at once, not after waiting for it.
        let started = std::time::Instant::now();
        let never = futures::stream::pending::<proto::PostBulkChunk>();
        assert_code(
            app.client().post_bulk(bearer(&token, never)).await,
            Code::PermissionDenied,
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_eight_streams_run_at_once() {
    let app = std::sync::Arc::new(impatient().await);
    let fund = app.open_fund(PERSON, "").await;
    // Eight streams that send a chunk each and then stall until the server ends them.
    let mut stalled = Vec::new();
    for _ in 0..8 {
        let first = chunk_messages(vec![vec![funding(&fund, "1.00")]]);
        let stream =
            futures::StreamExt::chain(futures::stream::iter(first), futures::stream::pending());
        let app = app.clone();
        stalled.push(tokio::spawn(async move {
            app.client()
                .post_bulk(bearer(&finance(AUTHORITY), stream))
                .await
        }));
    }
    wait_until(
        Duration::from_secs(10),
        "the eight streams' chunks",
        || async { (app.fund_balance(&fund).await.0 == "8.00").then_some(()) },
    )
    .await;
    let message = assert_code(
        app.post_bulk(&finance(AUTHORITY), vec![vec![funding(&fund, "1.00")]])
            .await,
        Code::ResourceExhausted,
    );
    assert!(
        message.contains("8 bulk postings are already running"),
        "{message}"
    );
    // Once the stalled ones are ended, a stream runs again.
    for call in stalled {
        assert_code(call.await.unwrap(), Code::DeadlineExceeded);
    }
    app.post_bulk(&finance(AUTHORITY), vec![vec![funding(&fund, "1.00")]])
        .await
        .expect("a stream after the others ended");
    assert_eq!(app.fund_balance(&fund).await.0, "9.00");
}
