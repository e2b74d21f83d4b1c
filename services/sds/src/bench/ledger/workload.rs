//! What the benchmark posts: the funds it seeds (each with the four accounts a fund
//! usually has) and the transfers it plans on them. Both sides of every phase post the
//! same planned transfers, so the service and the raw SQL write the same rows.
//!
//! Transfers pick funds at random over the whole ledger (a fixed seed, so runs compare),
//! so the ledger's size shows in the indexes each posting walks, and concurrent clients
//! meet on the same accounts now and then, as the locks in id order must handle.

use sds_proto::v1 as proto;
use uuid::Uuid;

/// The authority every seeded fund belongs to.
pub const AUTHORITY: &str = "bench-shire";

/// Accounts per fund: its balance, authority funding, one payable, management fee.
pub const ACCOUNTS_PER_FUND: usize = 4;

/// What each fund is funded with before anything is measured: far more than any run
/// spends from one fund (a fund is picked about once per `funds` transfers and spends at
/// most [`PAYMENT`] each time), so no measured posting is refused for want of money.
pub const OPENING_FUNDING: i64 = 5_000_000;

/// A payment to the fund's payee, in pence.
const PAYMENT: i64 = 2_500;
/// The holder's fee, in pence.
const FEE: i64 = 250;
/// A week's funding from the authority, in pence.
const FUNDING: i64 = 10_000;

/// One seeded fund's accounts.
#[derive(Debug, Clone, Copy)]
pub struct FundAccounts {
    pub fund: Uuid,
    pub person: Uuid,
    pub payee: Uuid,
    pub balance: Uuid,
    pub funding: Uuid,
    pub payable: Uuid,
    pub fee: Uuid,
}

impl FundAccounts {
    fn new() -> FundAccounts {
        // Time-ordered ids, as the service gives accounts it opens.
        FundAccounts {
            fund: Uuid::now_v7(),
            person: Uuid::now_v7(),
            payee: Uuid::now_v7(),
            balance: Uuid::now_v7(),
            funding: Uuid::now_v7(),
            payable: Uuid::now_v7(),
            fee: Uuid::now_v7(),
        }
    }
}

/// Enough funds for `accounts` accounts (at least one).
pub fn fleet(accounts: usize) -> Vec<FundAccounts> {
    (0..(accounts / ACCOUNTS_PER_FUND).max(1))
        .map(|_| FundAccounts::new())
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Funding,
    SupportPayment,
    ManagementFee,
}

impl Category {
    /// As the `transfer.category` column spells it.
    pub fn name(self) -> &'static str {
        match self {
            Category::Funding => "funding",
            Category::SupportPayment => "support_payment",
            Category::ManagementFee => "management_fee",
        }
    }

    fn wire(self) -> proto::TransferCategory {
        match self {
            Category::Funding => proto::TransferCategory::Funding,
            Category::SupportPayment => proto::TransferCategory::SupportPayment,
            Category::ManagementFee => proto::TransferCategory::ManagementFee,
        }
    }
}

/// One transfer to post, on one fund's accounts.
#[derive(Debug, Clone)]
pub struct Planned {
    pub id: Uuid,
    pub fund: Uuid,
    pub debit: Uuid,
    pub credit: Uuid,
    pub amount: i64,
    pub category: Category,
    pub reference: String,
}

impl Planned {
    pub fn message(&self) -> proto::NewTransfer {
        proto::NewTransfer {
            id: self.id.to_string(),
            debit_account_id: self.debit.to_string(),
            credit_account_id: self.credit.to_string(),
            amount: Some(proto::Money {
                amount: pounds(self.amount),
            }),
            category: self.category.wire().into(),
            reference: self.reference.clone(),
            note: String::new(),
            pending: false,
        }
    }
}

/// Whole pence (above zero) as `123.45`.
pub fn pounds(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// One funding transfer per fund, from its authority funding into its balance.
pub fn opening_funding(fleet: &[FundAccounts]) -> Vec<Planned> {
    fleet
        .iter()
        .enumerate()
        .map(|(index, fund)| Planned {
            id: Uuid::now_v7(),
            fund: fund.fund,
            debit: fund.funding,
            credit: fund.balance,
            amount: OPENING_FUNDING,
            category: Category::Funding,
            reference: format!("OPEN-{index:07}"),
        })
        .collect()
}

/// A small, seeded pseudo-random sequence (splitmix64): the same funds every run.
#[derive(Debug, Clone)]
pub struct Picker(u64);

impl Picker {
    pub fn seeded(seed: u64) -> Picker {
        Picker(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// An index below `bound` (above zero).
    fn below(&mut self, bound: usize) -> usize {
        let bound = u64::try_from(bound).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next() % bound).unwrap_or(0)
    }
}

/// `count` transfers on funds picked at random: of every eight, two fund the balance, five
/// pay the payee and one pays the holder's fee, as a fund's month goes.
pub fn transfers(
    fleet: &[FundAccounts],
    picker: &mut Picker,
    phase: &str,
    count: usize,
) -> Vec<Planned> {
    (0..count)
        .map(|index| {
            let fund = &fleet[picker.below(fleet.len())];
            let (debit, credit, amount, category) = match index % 8 {
                0 | 4 => (fund.funding, fund.balance, FUNDING, Category::Funding),
                7 => (fund.balance, fund.fee, FEE, Category::ManagementFee),
                _ => (
                    fund.balance,
                    fund.payable,
                    PAYMENT,
                    Category::SupportPayment,
                ),
            };
            Planned {
                id: Uuid::now_v7(),
                fund: fund.fund,
                debit,
                credit,
                amount,
                category,
                reference: format!("{phase}-{index:07}"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pence_print_as_pounds_with_two_places() {
        assert_eq!(pounds(2_500), "25.00");
        assert_eq!(pounds(5), "0.05");
        assert_eq!(pounds(5_000_000), "50000.00");
    }

    #[test]
    fn a_fund_has_four_accounts_and_the_plan_stays_on_one_fund() {
        let fleet = fleet(40);
        assert_eq!(fleet.len(), 10);
        let planned = transfers(&fleet, &mut Picker::seeded(1), "single", 16);
        assert_eq!(planned.len(), 16);
        for transfer in &planned {
            let fund = fleet.iter().find(|f| f.fund == transfer.fund).unwrap();
            let accounts = [fund.balance, fund.funding, fund.payable, fund.fee];
            assert!(accounts.contains(&transfer.debit) && accounts.contains(&transfer.credit));
            assert_ne!(transfer.debit, transfer.credit);
        }
        let funding = planned
            .iter()
            .filter(|t| t.category == Category::Funding)
            .count();
        assert_eq!(funding, 4);
    }
}
