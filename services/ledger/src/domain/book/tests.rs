//! The balance rule by example, and by property: any sequence of transfers, holds, posts
//! and voids keeps debits equal to credits, each balance equal to the sum of its entries,
//! and the fund never below its limit.

use std::collections::HashMap;

use proptest::prelude::*;
use uuid::Uuid;

use super::*;

const FUND: Uuid = Uuid::from_u128(100);
const BALANCE: Uuid = Uuid::from_u128(1);
const FUNDING: Uuid = Uuid::from_u128(2);
const PAYABLE: Uuid = Uuid::from_u128(3);

fn book(limit: i64) -> Book {
    Book::new(
        vec![
            AccountState::opened(BALANCE, FUND, AccountKind::FundBalance),
            AccountState::opened(FUNDING, FUND, AccountKind::AuthorityFunding),
            AccountState::opened(PAYABLE, FUND, AccountKind::Payable),
        ],
        HashMap::from([(
            FUND,
            FundLimits {
                overdraft_limit: limit,
                open: true,
            },
        )]),
    )
}

#[test]
fn spending_past_the_balance_is_refused_naming_the_balance_and_the_shortfall() {
    let mut book = book(0);
    book.apply(FUNDING, BALANCE, 10_000, Movement::Post)
        .unwrap();
    let refused = book
        .apply(BALANCE, PAYABLE, 12_500, Movement::Post)
        .unwrap_err();
    assert_eq!(
        refused,
        Refused::Overdrawn {
            fund: FUND,
            available: 10_000,
            amount: 12_500,
            limit: 0,
            shortfall: 2_500
        }
    );
    let message = refused.to_string();
    assert!(message.contains("available balance is 100.00"), "{message}");
    assert!(message.contains("short by 25.00"), "{message}");
    assert_eq!(book.account(BALANCE).unwrap().balance(), 10_000);
}

#[test]
fn holds_count_at_once_and_an_overdraft_limit_allows_its_amount() {
    let mut book = book(1_000);
    book.apply(FUNDING, BALANCE, 5_000, Movement::Post).unwrap();
    for _ in 0..6 {
        let _ = book.apply(BALANCE, PAYABLE, 1_000, Movement::Reserve);
    }
    // 5,000 plus a 1,000 overdraft: six holds of 1,000 fit, a seventh does not.
    assert_eq!(book.account(BALANCE).unwrap().debits_pending, 6_000);
    assert!(book.apply(BALANCE, PAYABLE, 1, Movement::Reserve).is_err());
    book.apply(BALANCE, PAYABLE, 1_000, Movement::VoidPending)
        .unwrap();
    book.apply(BALANCE, PAYABLE, 1_000, Movement::PostPending)
        .unwrap();
    let balance = book.account(BALANCE).unwrap();
    assert_eq!(
        (
            balance.balance(),
            balance.debits_pending,
            balance.available()
        ),
        (4_000, 4_000, 0)
    );
}

#[test]
fn a_closed_fund_moves_nothing() {
    let mut book = book(0);
    book.funds.insert(
        FUND,
        FundLimits {
            overdraft_limit: 0,
            open: false,
        },
    );
    assert_eq!(
        book.apply(FUNDING, BALANCE, 1, Movement::Post),
        Err(Refused::FundClosed(FUND))
    );
}

#[derive(Debug, Clone)]
enum Op {
    Post(usize, usize, i64),
    Reserve(usize, usize, i64),
    Settle(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..3usize, 1..5_000i64).prop_map(|(a, b, n)| Op::Post(a, b, n)),
        (0..3usize, 0..3usize, 1..5_000i64).prop_map(|(a, b, n)| Op::Reserve(a, b, n)),
        (0..8usize, any::<bool>()).prop_map(|(i, post)| Op::Settle(i, post)),
    ]
}

proptest! {
    #[test]
    fn any_sequence_keeps_the_books_balanced(limit in 0..3_000i64, ops in prop::collection::vec(op(), 1..60)) {
        let accounts = [BALANCE, FUNDING, PAYABLE];
        let mut book = book(limit);
        let mut entries: HashMap<Uuid, i64> = HashMap::new();
        let mut holds: Vec<(Uuid, Uuid, i64)> = Vec::new();
        for op in ops {
            match op {
                Op::Post(a, b, amount) if a != b => {
                    let (from, to) = (accounts[a], accounts[b]);
                    if book.apply(from, to, amount, Movement::Post).is_ok() {
                        *entries.entry(from).or_default() -= amount;
                        *entries.entry(to).or_default() += amount;
                    }
                }
                Op::Reserve(a, b, amount) if a != b => {
                    let (from, to) = (accounts[a], accounts[b]);
                    if book.apply(from, to, amount, Movement::Reserve).is_ok() {
                        holds.push((from, to, amount));
                    }
                }
                Op::Settle(index, post) if index < holds.len() => {
                    let (from, to, amount) = holds.remove(index);
                    let movement = if post { Movement::PostPending } else { Movement::VoidPending };
                    book.apply(from, to, amount, movement).expect("a hold always settles");
                    if post {
                        *entries.entry(from).or_default() -= amount;
                        *entries.entry(to).or_default() += amount;
                    }
                }
                _ => {}
            }
            let total: i64 = book.accounts().map(AccountState::balance).sum();
            prop_assert_eq!(total, 0);
            let debits: i64 = book.accounts().map(|a| a.debits_pending).sum();
            let credits: i64 = book.accounts().map(|a| a.credits_pending).sum();
            prop_assert_eq!(debits, credits);
            prop_assert_eq!(debits, holds.iter().map(|hold| hold.2).sum::<i64>());
            for account in book.accounts() {
                prop_assert_eq!(account.balance(), entries.get(&account.id).copied().unwrap_or(0));
            }
            prop_assert!(book.account(BALANCE).unwrap().available() >= -limit);
        }
    }
}
