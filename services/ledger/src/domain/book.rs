//! The accounts a transaction has locked, held in memory while its transfers are applied,
//! and the one balance rule: a fund's balance, less what pending transfers reserve, may not
//! go below minus its overdraft limit. Counterpart accounts have no limit: they record
//! where money came from and went.
//!
//! Each account keeps four sums, as TigerBeetle does: debits and credits posted, and
//! debits and credits pending. Its balance is credits less debits posted; what may still be
//! spent is that less the pending debits (a hold counts at once, so six holds of 1,000 on
//! 5,000 are not all accepted).

use std::collections::{BTreeMap, HashMap};

use sds_money::Money;
use uuid::Uuid;

use super::fund::AccountKind;

/// One account's sums, in pence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    pub id: Uuid,
    pub fund_id: Uuid,
    pub kind: AccountKind,
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
}

impl AccountState {
    pub fn opened(id: Uuid, fund_id: Uuid, kind: AccountKind) -> AccountState {
        AccountState {
            id,
            fund_id,
            kind,
            debits_posted: 0,
            credits_posted: 0,
            debits_pending: 0,
            credits_pending: 0,
        }
    }

    /// Credits less debits posted.
    pub fn balance(&self) -> i64 {
        self.credits_posted - self.debits_posted
    }

    /// The balance less what pending transfers out of the account reserve.
    pub fn available(&self) -> i64 {
        self.balance() - self.debits_pending
    }
}

/// What a fund allows its balance account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundLimits {
    pub overdraft_limit: i64,
    pub open: bool,
}

/// What a transfer does to its two accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    /// Moves the amount now.
    Post,
    /// Reserves the amount until it is posted or voided.
    Reserve,
    /// Moves an amount reserved earlier.
    PostPending,
    /// Frees an amount reserved earlier.
    VoidPending,
}

/// Why a transfer cannot be applied. The messages name the fund, its balance and the
/// shortfall, so the caller knows how much is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "fund {fund} would be overdrawn: its available balance is {}, {} is asked, and its overdraft limit is {}, so it is short by {}; nothing was recorded",
        money(*available), money(*amount), money(*limit), money(*shortfall)
    )]
    Overdrawn {
        fund: Uuid,
        available: i64,
        amount: i64,
        limit: i64,
        shortfall: i64,
    },
    #[error("fund {0} is closed; nothing moves in or out of it")]
    FundClosed(Uuid),
    #[error("an account's sums would be too large to record; nothing was recorded")]
    TooLarge,
    /// A transfer named an account the transaction did not lock (a mistake of the caller's
    /// code, not of the request).
    #[error("an account of the transfer was not locked; nothing was recorded")]
    NotLocked,
}

fn money(pence: i64) -> String {
    Money::from_pence(pence).map_or_else(|_| format!("{pence} pence"), |money| money.to_string())
}

/// Locked accounts and the limits of their funds.
#[derive(Debug, Clone, Default)]
pub struct Book {
    accounts: BTreeMap<Uuid, AccountState>,
    funds: HashMap<Uuid, FundLimits>,
}

impl Book {
    pub fn new(accounts: Vec<AccountState>, funds: HashMap<Uuid, FundLimits>) -> Book {
        Book {
            accounts: accounts
                .into_iter()
                .map(|account| (account.id, account))
                .collect(),
            funds,
        }
    }

    pub fn account(&self, id: Uuid) -> Option<&AccountState> {
        self.accounts.get(&id)
    }

    pub fn accounts(&self) -> impl Iterator<Item = &AccountState> {
        self.accounts.values()
    }

    pub fn limits(&self, fund: Uuid) -> Option<FundLimits> {
        self.funds.get(&fund).copied()
    }

    /// Applies one transfer of `amount` from `debit` to `credit`, or refuses it and changes
    /// nothing. Both accounts must be in the book (the caller locked them).
    pub fn apply(
        &mut self,
        debit: Uuid,
        credit: Uuid,
        amount: i64,
        movement: Movement,
    ) -> Result<(), Refused> {
        let (Some(from), Some(to)) = (self.accounts.get(&debit), self.accounts.get(&credit)) else {
            // The caller locks every account it names; a missing one is its mistake.
            return Err(Refused::NotLocked);
        };
        let (mut from, mut to) = (*from, *to);
        if matches!(movement, Movement::Post | Movement::Reserve) {
            for fund in [from.fund_id, to.fund_id] {
                if !self.limits(fund).is_some_and(|limits| limits.open) {
                    return Err(Refused::FundClosed(fund));
                }
            }
            self.check_limit(&from, amount)?;
        }
        let add = |sum: i64| sum.checked_add(amount).ok_or(Refused::TooLarge);
        let sub = |sum: i64| sum.checked_sub(amount).ok_or(Refused::TooLarge);
        match movement {
            Movement::Post => {
                from.debits_posted = add(from.debits_posted)?;
                to.credits_posted = add(to.credits_posted)?;
            }
            Movement::Reserve => {
                from.debits_pending = add(from.debits_pending)?;
                to.credits_pending = add(to.credits_pending)?;
            }
            Movement::PostPending => {
                from.debits_pending = sub(from.debits_pending)?;
                to.credits_pending = sub(to.credits_pending)?;
                from.debits_posted = add(from.debits_posted)?;
                to.credits_posted = add(to.credits_posted)?;
            }
            Movement::VoidPending => {
                from.debits_pending = sub(from.debits_pending)?;
                to.credits_pending = sub(to.credits_pending)?;
            }
        }
        // Sums past what a balance can show are refused rather than wrapped.
        for account in [&from, &to] {
            account
                .credits_posted
                .checked_sub(account.debits_posted)
                .and_then(|balance| balance.checked_sub(account.debits_pending))
                .ok_or(Refused::TooLarge)?;
        }
        self.accounts.insert(from.id, from);
        self.accounts.insert(to.id, to);
        Ok(())
    }

    /// The balance rule, for money leaving a fund's balance account.
    fn check_limit(&self, from: &AccountState, amount: i64) -> Result<(), Refused> {
        if from.kind != AccountKind::FundBalance {
            return Ok(());
        }
        let limit = self
            .limits(from.fund_id)
            .map_or(0, |limits| limits.overdraft_limit);
        let available = from.available();
        let after = available.checked_sub(amount).ok_or(Refused::TooLarge)?;
        if after >= -limit {
            return Ok(());
        }
        Err(Refused::Overdrawn {
            fund: from.fund_id,
            available,
            amount,
            limit,
            shortfall: -limit - after,
        })
    }
}

#[cfg(test)]
mod tests;
