//! What the bank files of a run ([`super::bacs`], [`super::pain001`]) are made of: the
//! authority's own account the money leaves from, and one credit per payee paid by the run
//! (the sum of that payee's instalments; its remittance lists them one by one).
//!
//! Values arrive here already checked (bank details when they were entered, names by the
//! writers' own cleaning), so the writers only lay them out.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// The authority's account a run pays from, and its Bacs identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Originator {
    /// The authority's name as payees see it (the Bacs service user name, the pain.001
    /// debtor and initiating party).
    pub name: String,
    /// Six digits.
    pub sort_code: String,
    /// Eight digits.
    pub account_number: String,
    pub account_name: String,
    /// The six-digit Bacs service user number (SUN) the bank issued to the authority.
    pub service_user_number: String,
}

/// One payment to one payee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub payee_id: Uuid,
    /// Six digits.
    pub sort_code: String,
    /// Eight digits.
    pub account_number: String,
    /// The name on the payee's account, as the finance staff entered it.
    pub account_name: String,
    /// Whole pence, above zero.
    pub amount_pence: i64,
    /// What the payee sees on its statement: the remittance's number, so that the money
    /// and its remittance meet (letters, digits, spaces and `-`, at most 18).
    pub reference: String,
}

/// The run a bank file belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunHeader {
    pub run_id: Uuid,
    /// When the run started: the file's creation time, so a run finished again writes the
    /// same bytes.
    pub created_at: DateTime<Utc>,
    /// The Bacs processing day (UHL1).
    pub processing_date: NaiveDate,
    /// The day payees' banks credit them, the working day after (pain.001's requested
    /// execution date, so both files pay on the same day).
    pub credit_date: NaiveDate,
}

/// What the bank file writers' tests share: an authority and a credit of their making.
#[cfg(test)]
pub(crate) mod fixtures {
    use uuid::Uuid;

    use super::{Credit, Originator};

    pub fn originator() -> Originator {
        Originator {
            name: "Highland Council".to_owned(),
            sort_code: "401234".to_owned(),
            account_number: "12345678".to_owned(),
            account_name: "Highland Council SDS Account".to_owned(),
            service_user_number: "654321".to_owned(),
        }
    }

    pub fn credit(n: u128, sort_code: &str, account: &str, name: &str, pence: i64) -> Credit {
        Credit {
            payee_id: Uuid::from_u128(n),
            sort_code: sort_code.to_owned(),
            account_number: account.to_owned(),
            account_name: name.to_owned(),
            amount_pence: pence,
            reference: format!("REM-2026-{:06}", 100 + n),
        }
    }
}
