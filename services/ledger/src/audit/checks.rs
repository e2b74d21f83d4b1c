//! The audit's checks over rows already loaded (and aggregated by SQL where that saves
//! reading every entry): pure functions, so each can be shown to catch its violation
//! without a database.

use uuid::Uuid;

use super::Violation;

/// One transfer with the totals of its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct TransferTotals {
    pub id: Uuid,
    pub amount: i64,
    pub pending: bool,
    /// Whether a pending transfer was posted (its entries are written then).
    pub posted_later: bool,
    pub entries: i64,
    pub entries_sum: i64,
    /// The sum of its entries on its debit account, and on its credit account.
    pub debit_sum: i64,
    pub credit_sum: i64,
}

/// A transfer balances: its entries sum to zero, and it has exactly its two entries (debit
/// less the amount, credit plus it) when it has moved money, and none when it has not.
pub fn check_transfer(totals: &TransferTotals) -> Option<Violation> {
    let moved = !totals.pending || totals.posted_later;
    let balanced = if moved {
        totals.entries == 2
            && totals.entries_sum == 0
            && totals.debit_sum == -totals.amount
            && totals.credit_sum == totals.amount
    } else {
        totals.entries == 0
    };
    (!balanced).then(|| {
        Violation::new(
            "transfer_unbalanced",
            format!(
                "transfer {} of {} pence ({}) has {} entries summing to {} (debit {}, credit {})",
                totals.id,
                totals.amount,
                if moved { "posted" } else { "not posted" },
                totals.entries,
                totals.entries_sum,
                totals.debit_sum,
                totals.credit_sum
            ),
        )
    })
}

/// One account's stored sums beside what its entries and its unresolved pending transfers
/// add up to, with its fund's limit when it is the fund's balance account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountTotals {
    pub id: Uuid,
    pub fund_id: Uuid,
    /// The fund's overdraft limit, for the fund's balance account; none for counterparts,
    /// which have no limit.
    pub overdraft_limit: Option<i64>,
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
    pub entry_debits: i64,
    pub entry_credits: i64,
    pub pending_debits: i64,
    pub pending_credits: i64,
}

/// The stored posted sums equal the account's entries (debits are the negative ones).
pub fn check_posted(account: &AccountTotals) -> Option<Violation> {
    (account.debits_posted != account.entry_debits
        || account.credits_posted != account.entry_credits)
        .then(|| {
            Violation::new(
                "balance_mismatch",
                format!(
                    "account {} of fund {} stores debits {} and credits {} posted, but its \
                     entries sum to debits {} and credits {}",
                    account.id,
                    account.fund_id,
                    account.debits_posted,
                    account.credits_posted,
                    account.entry_debits,
                    account.entry_credits
                ),
            )
        })
}

/// The stored pending sums equal the amounts of the pending transfers not yet posted or
/// voided.
pub fn check_pending(account: &AccountTotals) -> Option<Violation> {
    (account.debits_pending != account.pending_debits
        || account.credits_pending != account.pending_credits)
        .then(|| {
            Violation::new(
                "pending_mismatch",
                format!(
                    "account {} of fund {} stores debits {} and credits {} pending, but its \
                     unresolved pending transfers sum to debits {} and credits {}",
                    account.id,
                    account.fund_id,
                    account.debits_pending,
                    account.credits_pending,
                    account.pending_debits,
                    account.pending_credits
                ),
            )
        })
}

/// A fund's balance less what its pending transfers reserve is not below minus its
/// overdraft limit (the rule every posting enforces).
pub fn check_limit(account: &AccountTotals) -> Option<Violation> {
    let limit = account.overdraft_limit?;
    let available = account.credits_posted - account.debits_posted - account.debits_pending;
    (available < -limit).then(|| {
        Violation::new(
            "below_limit",
            format!(
                "fund {} has {} pence available (account {}), below its overdraft limit of {} pence",
                account.fund_id, available, account.id, limit
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(amount: i64) -> TransferTotals {
        TransferTotals {
            id: Uuid::from_u128(1),
            amount,
            pending: false,
            posted_later: false,
            entries: 2,
            entries_sum: 0,
            debit_sum: -amount,
            credit_sum: amount,
        }
    }

    fn account() -> AccountTotals {
        AccountTotals {
            id: Uuid::from_u128(2),
            fund_id: Uuid::from_u128(3),
            overdraft_limit: Some(1_000),
            debits_posted: 500,
            credits_posted: 2_000,
            debits_pending: 300,
            credits_pending: 0,
            entry_debits: 500,
            entry_credits: 2_000,
            pending_debits: 300,
            pending_credits: 0,
        }
    }

    fn kind(violation: Option<Violation>) -> Option<&'static str> {
        violation.map(|violation| violation.kind)
    }

    #[test]
    fn a_posted_transfer_with_its_two_entries_balances() {
        assert_eq!(check_transfer(&posted(500)), None);
    }

    #[test]
    fn an_entry_changed_unbalances_its_transfer() {
        let changed = TransferTotals {
            entries_sum: 1,
            credit_sum: 501,
            ..posted(500)
        };
        assert_eq!(kind(check_transfer(&changed)), Some("transfer_unbalanced"));
    }

    #[test]
    fn entries_that_sum_to_zero_but_not_to_the_amount_do_not_balance() {
        let changed = TransferTotals {
            debit_sum: -400,
            credit_sum: 400,
            ..posted(500)
        };
        assert_eq!(kind(check_transfer(&changed)), Some("transfer_unbalanced"));
    }

    #[test]
    fn a_missing_entry_unbalances_its_transfer() {
        let changed = TransferTotals {
            entries: 1,
            entries_sum: -500,
            credit_sum: 0,
            ..posted(500)
        };
        assert_eq!(kind(check_transfer(&changed)), Some("transfer_unbalanced"));
    }

    #[test]
    fn a_pending_transfer_has_entries_only_once_posted() {
        let waiting = TransferTotals {
            pending: true,
            entries: 0,
            entries_sum: 0,
            debit_sum: 0,
            credit_sum: 0,
            ..posted(500)
        };
        assert_eq!(check_transfer(&waiting), None);
        let with_entries = TransferTotals {
            pending: true,
            ..posted(500)
        };
        assert_eq!(
            kind(check_transfer(&with_entries)),
            Some("transfer_unbalanced")
        );
        let posted_later = TransferTotals {
            pending: true,
            posted_later: true,
            ..posted(500)
        };
        assert_eq!(check_transfer(&posted_later), None);
    }

    #[test]
    fn sums_that_match_their_entries_and_pendings_pass() {
        assert_eq!(check_posted(&account()), None);
        assert_eq!(check_pending(&account()), None);
        assert_eq!(check_limit(&account()), None);
    }

    #[test]
    fn a_stored_balance_changed_behind_its_entries_is_a_mismatch() {
        let changed = AccountTotals {
            credits_posted: 2_100,
            ..account()
        };
        assert_eq!(kind(check_posted(&changed)), Some("balance_mismatch"));
    }

    #[test]
    fn a_stored_pending_sum_unlike_the_unresolved_transfers_is_a_mismatch() {
        let changed = AccountTotals {
            debits_pending: 0,
            ..account()
        };
        assert_eq!(kind(check_pending(&changed)), Some("pending_mismatch"));
    }

    #[test]
    fn a_fund_below_its_overdraft_limit_is_reported() {
        // 2,000 in, 500 out, 300 held: 1,200 available; 2,300 more out is 1,100 below zero.
        let overdrawn = AccountTotals {
            debits_posted: 2_800,
            ..account()
        };
        assert_eq!(kind(check_limit(&overdrawn)), Some("below_limit"));
        let at_the_limit = AccountTotals {
            debits_posted: 2_700,
            ..account()
        };
        assert_eq!(check_limit(&at_the_limit), None);
    }

    #[test]
    fn counterpart_accounts_have_no_limit() {
        let counterpart = AccountTotals {
            overdraft_limit: None,
            debits_posted: 1_000_000,
            ..account()
        };
        assert_eq!(check_limit(&counterpart), None);
    }
}
