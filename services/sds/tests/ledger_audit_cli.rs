//! `sds ledger audit` against a real `sds serve`'s database: clean after postings through
//! the CLI, and non-zero naming what was changed behind the service. Then a crash: `sds
//! serve` killed with SIGKILL while it records a batch of 1,000 transfers keeps all of the
//! batch or none, and one killed in the middle of a bulk stream keeps whole chunks; the
//! audit is clean after a restart, and sending again records the rest exactly once.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::{self as proto, TransferCategory};
use sds_testkit::{TEST_JWT_SECRET, bearer};
use support::*;
use uuid::Uuid;

const PERSON: &str = "0192f0c1-0000-7000-8000-0000000000a1";
const HOLDER: &str = "0192f0c1-0000-7000-8000-0000000000b1";
const PAYEE: &str = "0192f0c1-0000-7000-8000-0000000000c1";
const BATCH: usize = 1000;

fn account_of(fund: &serde_json::Value, kind: &str) -> String {
    fund["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|account| account["kind"] == kind)
        .and_then(|account| account["id"].as_str())
        .unwrap_or_else(|| panic!("a {kind} account in {fund}"))
        .to_owned()
}

/// Opens a fund and pays 5,000.00 into it through the CLI; returns its balance and payable
/// accounts.
fn funded(server: &ServerProcess) -> (String, String) {
    let fund = printed(&server.run(
        &[
            "ledger",
            "open-fund",
            "--authority",
            "demo-shire",
            "--person",
            PERSON,
            "--holding-model",
            "third-party",
            "--holder",
            HOLDER,
            "--weekly-budget",
            "375.00",
            "--payee",
            PAYEE,
        ],
        Some(&server.staff_token("practitioner")),
    ));
    let balance = account_of(&fund, "LEDGER_ACCOUNT_KIND_FUND_BALANCE");
    let funding = account_of(&fund, "LEDGER_ACCOUNT_KIND_AUTHORITY_FUNDING");
    let payable = account_of(&fund, "LEDGER_ACCOUNT_KIND_PAYABLE");
    printed(&server.run(
        &[
            "ledger",
            "transfer",
            "--debit",
            &funding,
            "--credit",
            &balance,
            "--amount",
            "5000.00",
            "--category",
            "funding",
        ],
        Some(&server.staff_token("finance")),
    ));
    (balance, payable)
}

fn database_url(server: &ServerProcess) -> String {
    server
        .env
        .iter()
        .find(|(name, _)| name == "SDS_DATABASE_URL")
        .map(|(_, url)| url.clone())
        .expect("the server's database")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_is_clean_after_postings_and_fails_naming_what_was_changed() {
    let server = ServerProcess::start().await;
    let (balance, payable) = funded(&server);
    printed(&server.run(
        &[
            "ledger",
            "transfer",
            "--debit",
            &balance,
            "--credit",
            &payable,
            "--amount",
            "312.50",
            "--category",
            "support-payment",
        ],
        Some(&server.staff_token("finance")),
    ));

    // No token: the audit reads the database, not the server.
    let clean = server.run(&["ledger", "audit"], None);
    assert!(clean.status.success(), "{}", stderr_of(&clean));
    let last = stdout_of(&clean)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(last, r#"{"funds": 1, "transfers": 2, "violations": []}"#);

    let pool = sqlx::PgPool::connect(&database_url(&server)).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE ledger.entry SET amount_pence = 1 WHERE amount_pence = 31250")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    pool.close().await;

    let broken = server.run(&["ledger", "audit"], None);
    assert!(!broken.status.success(), "{}", stdout_of(&broken));
    let report = last_line_json(&broken);
    assert_eq!(report["funds"], 1);
    assert_eq!(report["transfers"], 2);
    let mut kinds: Vec<&str> = report["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|violation| violation["kind"].as_str().expect("a kind"))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        vec!["balance_mismatch", "history_changed", "transfer_unbalanced"],
        "{report}"
    );
}

/// Starts `sds serve` again on the same database and NATS server, as after a crash.
async fn restart(server: &mut ServerProcess) {
    let log = std::fs::OpenOptions::new()
        .append(true)
        .open(&server.log)
        .expect("the server log");
    server.child = Command::new(SDS)
        .arg("serve")
        .env_remove("RUST_LOG")
        .envs(server.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("SDS_JWT_SECRET", TEST_JWT_SECRET)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn sds serve");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !server.run(&["health"], None).status.success() {
        assert!(
            std::time::Instant::now() < deadline,
            "sds serve did not come back:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_cut_off_by_sigkill_is_all_there_or_not_at_all() {
    let mut server = ServerProcess::start().await;
    let (balance, payable) = funded(&server);
    let finance = server.staff_token("finance");
    let observer = sqlx::PgPool::connect(&database_url(&server)).await.unwrap();
    let mut killed_mid_batch = 0;
    for round in 0..3 {
        let batch: Vec<proto::NewTransfer> = (0..BATCH)
            .map(|n| proto::NewTransfer {
                id: Uuid::now_v7().to_string(),
                debit_account_id: balance.clone(),
                credit_account_id: payable.clone(),
                amount: Some(proto::Money {
                    amount: "0.01".into(),
                }),
                category: TransferCategory::SupportPayment as i32,
                reference: format!("round {round} line {n}"),
                note: String::new(),
                pending: false,
            })
            .collect();
        let ids: Vec<Uuid> = batch.iter().map(|t| t.id.parse().unwrap()).collect();
        let channel = tonic::transport::Channel::from_shared(format!("http://{}", server.addr()))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let request = bearer(
            &finance,
            proto::CreateTransfersRequest {
                transfers: batch.clone(),
            },
        );
        let call = tokio::spawn(async move {
            LedgerServiceClient::new(channel)
                .create_transfers(request)
                .await
        });
        // Kill as soon as the ledger is seen working on the batch in a transaction (or, if
        // the batch is quicker than the look, once it has answered).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let seen_busy = loop {
            let busy: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = 'sds-ledger' \
                   AND state IN ('active', 'idle in transaction') \
                   AND (query ILIKE '%account%' OR query ILIKE '%transfer%' \
                        OR query ILIKE '%chain%' OR query ILIKE '%entry%')",
            )
            .fetch_one(&observer)
            .await
            .unwrap();
            if busy > 0 {
                break true;
            }
            if call.is_finished() || std::time::Instant::now() > deadline {
                break false;
            }
        };
        killed_mid_batch += usize::from(seen_busy);
        // `Child::kill` is SIGKILL: no drain, no rollback by the process itself.
        server.child.kill().expect("SIGKILL sds serve");
        server.child.wait().expect("reap sds serve");
        let _ = call.await;
        restart(&mut server).await;

        let recorded: i64 =
            sqlx::query_scalar("SELECT count(*) FROM ledger.transfer WHERE id = ANY($1)")
                .bind(&ids)
                .fetch_one(&observer)
                .await
                .unwrap();
        eprintln!("round {round}: killed while busy: {seen_busy}; {recorded} recorded");
        assert!(
            recorded == 0 || recorded == i64::try_from(BATCH).unwrap(),
            "round {round}: {recorded} of {BATCH} transfers survived the kill"
        );
        let audit = server.run(&["ledger", "audit"], None);
        assert!(
            audit.status.success(),
            "round {round}: {}{}",
            stdout_of(&audit),
            stderr_of(&audit)
        );

        // Sent again after the restart, the batch is recorded exactly once.
        let answered = LedgerServiceClient::new(
            tonic::transport::Channel::from_shared(format!("http://{}", server.addr()))
                .unwrap()
                .connect()
                .await
                .unwrap(),
        )
        .create_transfers(bearer(
            &finance,
            proto::CreateTransfersRequest { transfers: batch },
        ))
        .await
        .expect("the batch is recorded after the restart");
        assert_eq!(answered.into_inner().transfers.len(), BATCH);
    }
    // Without this the test could pass having only ever killed an idle server.
    assert!(
        killed_mid_batch > 0,
        "no kill landed while a batch was in flight"
    );
    let audit = server.run(&["ledger", "audit"], None);
    assert!(audit.status.success(), "{}", stderr_of(&audit));
    let report = last_line_json(&audit);
    assert_eq!(report["transfers"], 1 + 3 * BATCH);
    observer.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_stream_cut_off_by_sigkill_keeps_whole_chunks_and_a_resent_stream_completes_it() {
    const CHUNKS: usize = 6;
    const CHUNK: usize = 5000;
    let mut server = ServerProcess::start().await;
    let (balance, payable) = funded(&server);
    let finance = server.staff_token("finance");
    let observer = sqlx::PgPool::connect(&database_url(&server)).await.unwrap();
    let chunks: Vec<Vec<proto::NewTransfer>> = (0..CHUNKS)
        .map(|chunk| {
            (0..CHUNK)
                .map(|n| proto::NewTransfer {
                    id: Uuid::now_v7().to_string(),
                    debit_account_id: balance.clone(),
                    credit_account_id: payable.clone(),
                    amount: Some(proto::Money {
                        amount: "0.01".into(),
                    }),
                    category: TransferCategory::SupportPayment as i32,
                    reference: format!("run 1 chunk {chunk} line {n}"),
                    note: String::new(),
                    pending: false,
                })
                .collect()
        })
        .collect();
    let stream = |chunks: &[Vec<proto::NewTransfer>]| {
        futures::stream::iter(
            chunks
                .iter()
                .map(|transfers| proto::PostBulkChunk {
                    transfers: transfers.clone(),
                })
                .collect::<Vec<_>>(),
        )
    };
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", server.addr()))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let request = bearer(&finance, stream(&chunks));
    let call =
        tokio::spawn(async move { LedgerServiceClient::new(channel).post_bulk(request).await });
    // Kill once some chunk has committed and the stream is still going.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let recorded: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM ledger.transfer WHERE reference LIKE 'run 1 chunk %'",
        )
        .fetch_one(&observer)
        .await
        .unwrap();
        if recorded > 0 || call.is_finished() || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let finished_first = call.is_finished();
    server.child.kill().expect("SIGKILL sds serve");
    server.child.wait().expect("reap sds serve");
    let _ = call.await;
    restart(&mut server).await;

    // Each chunk is all there or not at all.
    let mut survived = 0;
    for (index, chunk) in chunks.iter().enumerate() {
        let ids: Vec<Uuid> = chunk.iter().map(|t| t.id.parse().unwrap()).collect();
        let recorded: i64 =
            sqlx::query_scalar("SELECT count(*) FROM ledger.transfer WHERE id = ANY($1)")
                .bind(&ids)
                .fetch_one(&observer)
                .await
                .unwrap();
        assert!(
            recorded == 0 || recorded == i64::try_from(CHUNK).unwrap(),
            "chunk {index}: {recorded} of {CHUNK} transfers survived the kill"
        );
        survived += usize::try_from(recorded).unwrap();
    }
    eprintln!("killed with {survived} transfers recorded");
    assert!(
        finished_first || survived < CHUNKS * CHUNK,
        "the kill should land while the stream was still going"
    );
    let audit = server.run(&["ledger", "audit"], None);
    assert!(audit.status.success(), "{}", stdout_of(&audit));

    // The whole stream again: the chunks that survived are answered as retries.
    let answer = LedgerServiceClient::new(
        tonic::transport::Channel::from_shared(format!("http://{}", server.addr()))
            .unwrap()
            .connect()
            .await
            .unwrap(),
    )
    .post_bulk(bearer(&finance, stream(&chunks)))
    .await
    .expect("the stream is recorded after the restart")
    .into_inner();
    assert_eq!(
        (
            usize::try_from(answer.chunks).unwrap(),
            usize::try_from(answer.recorded).unwrap(),
            usize::try_from(answer.already_recorded).unwrap()
        ),
        (CHUNKS, CHUNKS * CHUNK - survived, survived)
    );
    let audit = server.run(&["ledger", "audit"], None);
    assert!(audit.status.success(), "{}", stderr_of(&audit));
    let report = last_line_json(&audit);
    assert_eq!(report["transfers"], 1 + CHUNKS * CHUNK);
    observer.close().await;
}
