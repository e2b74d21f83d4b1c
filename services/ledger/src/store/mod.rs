//! The ledger's SQL: small functions over an open connection or transaction, so the caller
//! decides what commits together. What leaves this module is domain types; stored values
//! are read back through the same names that admitted them, and one the domain does not
//! know is an internal error (the database was changed behind the service).

mod copy;
mod funds;
mod posting;
mod statements;
mod transfers;

pub use copy::{copy_entries, copy_transfers};
pub use funds::{
    LockedAccount, close_fund, count_closed, insert_fund, insert_payable, load_fund,
    load_fund_for_update, lock_accounts, lock_accounts_reading_funds_before, update_accounts,
};
pub use posting::{COPY_ABOVE, Posting, Written, write_posting};
pub use statements::{balance_before, contribution, movements};
pub use transfers::{
    NewEntry, balance_as_at, count_transfers, insert_entries, insert_resolution, list_transfers,
    load_transfers, reversal_of,
};

use sds_vocabulary::NamedEnum;

/// A stored name read back as its enum.
fn named<E: NamedEnum>(column: &str, name: &str) -> Result<E, anyhow::Error> {
    E::from_name(name)
        .ok_or_else(|| anyhow::anyhow!("stored {column} {name:?} is not a known {}", E::WHAT))
}
