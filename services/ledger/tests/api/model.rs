//! Model-based: four tasks apply seeded random sequences of transfers, batches, bulk
//! streams, pendings, posts, voids, reversals and retries through the real gRPC API at once. The test keeps
//! its own model of every account, applied only for operations that succeeded; at the end
//! every balance read through the API equals the model and the audit is clean.
//!
//! The seed is fixed so a failure repeats; set `SDS_MODEL_SEED` to try others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sds_proto::v1::{self as proto, TransferCategory};
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

const TASKS: u64 = 4;
const OPERATIONS_PER_TASK: usize = 50;

/// splitmix64: small, seeded and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
}

/// What the test believes each account holds, in pence.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sums {
    balance: i64,
    pending_debits: i64,
    pending_credits: i64,
}

#[derive(Debug, Clone)]
struct Moved {
    id: String,
    debit: String,
    credit: String,
    amount: i64,
}

#[derive(Default)]
struct Model {
    accounts: HashMap<String, Sums>,
    /// Pending transfers no task has claimed to post or void.
    pending: Vec<Moved>,
    /// Posted transfers no task has claimed to reverse.
    reversible: Vec<Moved>,
    /// Transfers recorded, as sent, for retries.
    sent: Vec<proto::NewTransfer>,
    /// How many operations of each kind ended how, to show the run covered them all.
    outcomes: HashMap<&'static str, usize>,
}

impl Model {
    fn count(&mut self, outcome: &'static str) {
        *self.outcomes.entry(outcome).or_default() += 1;
    }

    fn account(&mut self, id: &str) -> &mut Sums {
        self.accounts.entry(id.to_owned()).or_default()
    }

    fn post(&mut self, moved: &Moved) {
        self.account(&moved.debit).balance -= moved.amount;
        self.account(&moved.credit).balance += moved.amount;
    }

    fn hold(&mut self, moved: &Moved, sign: i64) {
        self.account(&moved.debit).pending_debits += sign * moved.amount;
        self.account(&moved.credit).pending_credits += sign * moved.amount;
    }

    fn recorded(&mut self, sent: &proto::NewTransfer) {
        let moved = moved_of(sent);
        if sent.pending {
            self.hold(&moved, 1);
            self.pending.push(moved);
        } else {
            self.post(&moved);
            self.reversible.push(moved);
        }
        self.sent.push(sent.clone());
    }
}

fn moved_of(sent: &proto::NewTransfer) -> Moved {
    Moved {
        id: sent.id.clone(),
        debit: sent.debit_account_id.clone(),
        credit: sent.credit_account_id.clone(),
        amount: pence(&amount_of(&sent.amount)),
    }
}

fn money_text(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// "-12.34" as -1234.
fn pence(text: &str) -> i64 {
    let (negative, digits) = text
        .strip_prefix('-')
        .map_or((false, text), |rest| (true, rest));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let fraction = format!("{fraction:0<2}");
    let value = whole.parse::<i64>().unwrap() * 100 + fraction[..2].parse::<i64>().unwrap();
    if negative { -value } else { value }
}

/// The chunk a refusal names: `chunks[N]...`.
fn refused_chunk(message: &str) -> usize {
    message
        .strip_prefix("chunks[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(number, _)| number.parse().ok())
        .unwrap_or_else(|| panic!("a bulk refusal names its chunk: {message}"))
}

fn random_transfer(rng: &mut Rng, funds: &[proto::Fund]) -> proto::NewTransfer {
    let fund = &funds[rng.below(funds.len())];
    let debit = rng.below(fund.accounts.len());
    let credit = (debit + 1 + rng.below(fund.accounts.len() - 1)) % fund.accounts.len();
    // Funding moves more than anything spends, so most spending fits and some does not.
    let amount = if rng.below(3) == 0 {
        2_000 + rng.below(20_000)
    } else {
        1 + rng.below(6_000)
    };
    let mut transfer = new_transfer(
        fund.accounts[debit].id.clone(),
        fund.accounts[credit].id.clone(),
        &money_text(i64::try_from(amount).unwrap()),
        TransferCategory::Adjustment,
    );
    transfer.pending = rng.below(3) == 0;
    transfer
}

/// One task's operations; every failure must be a refusal for want of funds.
async fn run_task(app: Arc<TestApp>, funds: Vec<proto::Fund>, model: Arc<Mutex<Model>>, seed: u64) {
    let mut rng = Rng(seed);
    let token = finance(AUTHORITY);
    for _ in 0..OPERATIONS_PER_TASK {
        match rng.below(9) {
            0..=2 => {
                let size = if rng.below(2) == 0 {
                    1
                } else {
                    2 + rng.below(4)
                };
                let batch: Vec<_> = (0..size)
                    .map(|_| random_transfer(&mut rng, &funds))
                    .collect();
                match app.create(&token, batch.clone()).await {
                    Ok(recorded) => {
                        assert_eq!(recorded.len(), batch.len());
                        let mut model = model.lock().unwrap();
                        batch.iter().for_each(|sent| model.recorded(sent));
                        model.count("batch recorded");
                    }
                    Err(status) => {
                        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                        model.lock().unwrap().count("batch refused");
                    }
                }
            }
            3 | 4 => {
                let claimed = {
                    let mut model = model.lock().unwrap();
                    let count = model.pending.len();
                    (count > 0).then(|| model.pending.swap_remove(rng.below(count)))
                };
                let Some(held) = claimed else { continue };
                let request = bearer(
                    &token,
                    proto::ResolvePendingRequest {
                        transfer_id: held.id.clone(),
                    },
                );
                let post = rng.below(2) == 0;
                let result = if post {
                    app.client().post_pending(request).await
                } else {
                    app.client().void_pending(request).await
                };
                result.unwrap_or_else(|status| panic!("a claimed pending ends: {status:?}"));
                let mut model = model.lock().unwrap();
                model.hold(&held, -1);
                model.count(if post { "posted" } else { "voided" });
                if post {
                    model.post(&held);
                    model.reversible.push(held);
                }
            }
            5 | 6 => {
                let claimed = {
                    let mut model = model.lock().unwrap();
                    let count = model.reversible.len();
                    (count > 0).then(|| model.reversible.swap_remove(rng.below(count)))
                };
                let Some(original) = claimed else { continue };
                let result = app
                    .client()
                    .reverse_transfer(bearer(
                        &token,
                        proto::ReverseTransferRequest {
                            transfer_id: original.id.clone(),
                            reversal_id: Uuid::now_v7().to_string(),
                            note: "model".into(),
                        },
                    ))
                    .await;
                let mut model = model.lock().unwrap();
                match result {
                    Ok(_) => {
                        model.post(&Moved {
                            debit: original.credit.clone(),
                            credit: original.debit.clone(),
                            ..original
                        });
                        model.count("reversed");
                    }
                    Err(status) => {
                        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                        model.reversible.push(original);
                        model.count("reversal refused");
                    }
                }
            }
            7 => {
                // A bulk stream of a few small chunks: those before a refused one stay.
                let chunks: Vec<Vec<_>> = (0..1 + rng.below(3))
                    .map(|_| {
                        (0..1 + rng.below(5))
                            .map(|_| random_transfer(&mut rng, &funds))
                            .collect()
                    })
                    .collect();
                let committed = match app.post_bulk(&token, chunks.clone()).await {
                    Ok(answer) => {
                        assert_eq!(usize::try_from(answer.chunks).unwrap(), chunks.len());
                        chunks.len()
                    }
                    Err(status) => {
                        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                        refused_chunk(status.message())
                    }
                };
                let mut model = model.lock().unwrap();
                for sent in chunks[..committed].iter().flatten() {
                    model.recorded(sent);
                }
                model.count(if committed == chunks.len() {
                    "bulk recorded"
                } else {
                    "bulk chunk refused"
                });
            }
            _ => {
                // A retry of something recorded moves nothing again.
                let sent = {
                    let model = model.lock().unwrap();
                    let count = model.sent.len();
                    (count > 0).then(|| model.sent[rng.below(count)].clone())
                };
                let Some(sent) = sent else { continue };
                app.create(&token, vec![sent])
                    .await
                    .unwrap_or_else(|status| panic!("a retry is answered: {status:?}"));
                model.lock().unwrap().count("retried");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_concurrent_operations_match_the_model_and_pass_the_audit() {
    let seed: u64 = std::env::var("SDS_MODEL_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x5d5_1edc);
    let app = Arc::new(TestApp::spawn().await);
    let mut funds = vec![
        app.open_fund(PERSON, "").await,
        app.open_fund(OTHER_PERSON, "25.00").await,
    ];
    let model = Arc::new(Mutex::new(Model::default()));
    for fund in &mut funds {
        let funding = app.fund(fund, "100.00").await;
        let mut model = model.lock().unwrap();
        model.post(&Moved {
            id: funding.id,
            debit: funding.debit_account_id,
            credit: funding.credit_account_id,
            amount: 10_000,
        });
    }
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            tokio::spawn(run_task(
                app.clone(),
                funds.clone(),
                model.clone(),
                seed ^ (task << 32),
            ))
        })
        .collect();
    for task in tasks {
        task.await
            .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
    }

    let (model, outcomes) = {
        let model = model.lock().unwrap();
        (model.accounts.clone(), model.outcomes.clone())
    };
    for outcome in [
        "batch recorded",
        "batch refused",
        "bulk recorded",
        "bulk chunk refused",
        "posted",
        "voided",
        "reversed",
        "retried",
    ] {
        assert!(
            outcomes.contains_key(outcome),
            "seed {seed}: no {outcome} in {outcomes:?}"
        );
    }
    for fund in &funds {
        for account in &fund.accounts {
            let read = app.balance(&account.id, None).await;
            let actual = Sums {
                balance: pence(&amount_of(&read.balance)),
                pending_debits: pence(&amount_of(&read.pending_debits)),
                pending_credits: pence(&amount_of(&read.pending_credits)),
            };
            let expected = model.get(&account.id).copied().unwrap_or_default();
            assert_eq!(actual, expected, "seed {seed}, account {}", account.id);
        }
    }
    let report = sds_ledger::audit::run(&app.pool)
        .await
        .expect("the audit runs");
    assert_eq!(report.violations, vec![], "seed {seed}");
    assert!(report.transfers > 100, "seed {seed}: {report:?}");
}
