//! The ledger's rules, pure: funds and their accounts ([`fund`]), transfers and the
//! idempotency of their ids ([`transfer`]), the balance rule applied to accounts held in
//! memory ([`book`]) and who may do what ([`access`]). Amounts are whole pence (`i64`);
//! `Money` appears only at the edges.

pub mod access;
pub mod book;
pub mod fund;
pub mod statement;
pub mod transfer;
pub mod watch;

pub use access::Denied;
pub use book::{AccountState, Book, FundLimits, Movement, Refused};
pub use fund::{AccountKind, Fund, FundStatus, HoldingModel, MAX_PAYEES, NewFund};
pub use transfer::{Category, Retry, TransferContent, TransferRecord, TransferStatus};
pub use watch::{Crossing, Watch};
