//! Many callers on one fund at once: every balance ends exact, and no deadlock or
//! serialization failure reaches a caller (accounts are locked in id order).

use sds_proto::v1::{self as proto, LedgerAccountKind, TransferCategory};

use crate::support::*;

const TASKS: usize = 8;
const ROUNDS: usize = 15;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_tasks_posting_on_one_fund_leave_exact_balances_and_no_deadlock() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "1000.00").await;
    let funding = account(&fund, LedgerAccountKind::AuthorityFunding);
    let balance = account(&fund, LedgerAccountKind::FundBalance);
    let payable = account(&fund, LedgerAccountKind::Payable);
    let fee = account(&fund, LedgerAccountKind::ManagementFee);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let app = app.clone();
        let (funding, balance, payable, fee) = (
            funding.clone(),
            balance.clone(),
            payable.clone(),
            fee.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                // Batches name their accounts in different orders, so a service that
                // locked them as named would deadlock.
                let batch = if (task + round) % 2 == 0 {
                    vec![
                        new_transfer(
                            balance.clone(),
                            payable.clone(),
                            "1.25",
                            TransferCategory::SupportPayment,
                        ),
                        new_transfer(
                            funding.clone(),
                            balance.clone(),
                            "2.00",
                            TransferCategory::Funding,
                        ),
                    ]
                } else {
                    vec![
                        new_transfer(
                            payable.clone(),
                            fee.clone(),
                            "0.50",
                            TransferCategory::Adjustment,
                        ),
                        new_transfer(
                            balance.clone(),
                            fee.clone(),
                            "0.75",
                            TransferCategory::ManagementFee,
                        ),
                        new_transfer(
                            funding.clone(),
                            balance.clone(),
                            "0.25",
                            TransferCategory::Funding,
                        ),
                    ]
                };
                app.create(&finance(AUTHORITY), batch)
                    .await
                    .unwrap_or_else(|status| panic!("task {task} round {round}: {status:?}"));
            }
        }));
    }
    for task in tasks {
        task.await.expect("a task finished");
    }
    // Per round pair: the first batch nets +0.75 on the balance, the second -0.50.
    let rounds_of = |parity: usize| {
        (0..TASKS)
            .flat_map(|task| (0..ROUNDS).map(move |round| (task + round) % 2))
            .filter(|kind| *kind == parity)
            .count() as i64
    };
    let (first, second) = (rounds_of(0), rounds_of(1));
    let expected_balance = 100_000 + first * 75 - second * 50;
    let expected_payable = first * 125 - second * 50;
    let expected_fee = second * 125;
    let pence = |amount: String| -> i64 {
        let (pounds, pennies) = amount.split_once('.').expect("pounds and pence");
        let sign = if pounds.starts_with('-') { -1 } else { 1 };
        pounds.parse::<i64>().unwrap() * 100 + sign * pennies.parse::<i64>().unwrap()
    };
    assert_eq!(pence(app.fund_balance(&fund).await.0), expected_balance);
    assert_eq!(
        pence(amount_of(&app.balance(&payable, None).await.balance)),
        expected_payable
    );
    assert_eq!(
        pence(amount_of(&app.balance(&fee, None).await.balance)),
        expected_fee
    );
    let counts = app.row_counts().await;
    assert_eq!(counts.transfers, 1 + first * 2 + second * 3);
    assert_eq!(counts.entries, counts.transfers * 2);
    assert_eq!(counts.events, 1 + (TASKS * ROUNDS) as i64);
    app.assert_entries_match_balances().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_transfer_sent_by_eight_tasks_at_once_is_recorded_once() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let fund = app.open_fund(PERSON, "").await;
    // Exactly what the transfer spends: a retry that saw the first one's effect on the
    // balance, rather than the first one itself, would be refused as overdrawing.
    app.fund(&fund, "10.00").await;
    let spend = TestApp::spend(&fund, "10.00");
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (app, spend) = (app.clone(), spend.clone());
        tasks.push(tokio::spawn(async move {
            app.create(&finance(AUTHORITY), vec![spend]).await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(
            task.await
                .expect("a task finished")
                .expect("each is answered"),
        );
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );
    assert_eq!(app.fund_balance(&fund).await.0, "0.00");
    assert_eq!(app.row_counts().await.transfers, 2);
    app.assert_entries_match_balances().await;
}

/// Opens a fund with 1000.00 and closes it to its recovery account while [`TASKS`] tasks
/// each try [`ROUNDS`] transfers of 1.00 made by `transfer`; once closed, the only refusal
/// allowed is that the fund is closed. Then checks the fund is empty, its recovery account
/// holds 1000.00 plus `sign` times what the tasks moved, and every balance matches its
/// entries.
async fn close_while_moving(transfer: fn(&proto::Fund) -> proto::NewTransfer, sign: i64) {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "1000.00").await;
    let recovery = account(&fund, LedgerAccountKind::Recovery);
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (app, fund) = (app.clone(), fund.clone());
        tasks.push(tokio::spawn(async move {
            let mut moved = 0;
            for _ in 0..ROUNDS {
                match app.create(&finance(AUTHORITY), vec![transfer(&fund)]).await {
                    Ok(_) => moved += 100,
                    Err(status) => {
                        assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}");
                        assert!(status.message().contains("is closed"), "{status:?}");
                    }
                }
            }
            moved
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let closed = app
        .client()
        .close_fund(sds_testkit::bearer(
            &finance(AUTHORITY),
            proto::CloseFundRequest {
                fund_id: fund.id.clone(),
                destination_account_id: recovery.clone(),
                transfer_id: uuid::Uuid::now_v7().to_string(),
                note: String::new(),
            },
        ))
        .await
        .expect("the fund closes while others move money");
    assert_eq!(closed.into_inner().status, proto::FundStatus::Closed as i32);
    let mut moved = 0;
    for task in tasks {
        moved += task.await.expect("a task finished");
    }
    assert_eq!(app.fund_balance(&fund).await.0, "0.00");
    let recovered = amount_of(&app.balance(&recovery, None).await.balance);
    let expected = sds_money::Money::from_pence(100_000 + sign * moved)
        .unwrap()
        .to_string();
    assert_eq!(recovered, expected);
    app.assert_entries_match_balances().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn closing_a_fund_while_tasks_spend_from_it_never_deadlocks_and_keeps_every_penny() {
    close_while_moving(|fund| TestApp::spend(fund, "1.00"), -1).await;
}

/// Money paid in while the fund closes: a payment whose accounts' lock waited for the
/// closing must see the fund closed, though it read the fund before the wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paying_into_a_fund_while_it_closes_never_leaves_money_in_the_closed_fund() {
    close_while_moving(
        |fund| {
            new_transfer(
                account(fund, LedgerAccountKind::AuthorityFunding),
                account(fund, LedgerAccountKind::FundBalance),
                "1.00",
                TransferCategory::Funding,
            )
        },
        1,
    )
    .await;
}
