//! The hash chain that makes the ledger's history tamper-evident. Each posting transaction
//! appends one link; the link's hash is `sha256(previous hash || digest)`, where the digest
//! is `sha256` of the canonical content of the rows the transaction wrote (its transfers,
//! pending resolutions and entries). The service computes the digest here and the database
//! chains it under the head's row lock ([`store::append`]); `sds ledger audit` loads the
//! rows back, recomputes both, and names the first link whose rows no longer match.
//!
//! The canonical content is independent of the order rows were written or read in (each
//! kind is sorted by its key) and leaves out timestamps, whose precision the database
//! rounds; the days, ids, amounts and words are what a tamperer would change.

pub mod linker;
pub mod store;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A link's hash.
pub type Hash = [u8; 32];

/// The hash before the first link.
pub const GENESIS: Hash = [0; 32];

/// A transfer as the chain covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTransfer {
    pub id: Uuid,
    pub batch_id: Uuid,
    pub fund_id: Uuid,
    pub credit_fund_id: Uuid,
    pub debit_account_id: Uuid,
    pub credit_account_id: Uuid,
    pub amount: i64,
    pub category: String,
    pub reference: String,
    pub note: String,
    pub pending: bool,
    pub reverses_id: Option<Uuid>,
    pub created_on: NaiveDate,
    pub created_by: String,
}

/// The end of a pending transfer as the chain covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainResolution {
    pub transfer_id: Uuid,
    pub outcome: String,
    pub resolved_on: NaiveDate,
    pub resolved_by: String,
}

/// An entry as the chain covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainEntry {
    pub transfer_id: Uuid,
    pub account_id: Uuid,
    pub amount: i64,
    pub posted_on: NaiveDate,
}

/// Everything one posting transaction wrote to history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkContent {
    pub transfers: Vec<ChainTransfer>,
    pub resolutions: Vec<ChainResolution>,
    pub entries: Vec<ChainEntry>,
}

impl LinkContent {
    /// `sha256` of the canonical bytes.
    pub fn digest(&self) -> Hash {
        Sha256::digest(self.canonical()).into()
    }

    /// One line per row, each kind sorted by its key, every field length-prefixed so no
    /// two contents share bytes.
    pub fn canonical(&self) -> Vec<u8> {
        let mut transfers: Vec<&ChainTransfer> = self.transfers.iter().collect();
        transfers.sort_by_key(|transfer| transfer.id);
        let mut resolutions: Vec<&ChainResolution> = self.resolutions.iter().collect();
        resolutions.sort_by_key(|resolution| resolution.transfer_id);
        let mut entries: Vec<&ChainEntry> = self.entries.iter().collect();
        entries.sort_by_key(|entry| (entry.transfer_id, entry.account_id));
        let mut out = Canonical::default();
        for t in transfers {
            out.row("transfer")
                .uuid(t.id)
                .uuid(t.batch_id)
                .uuid(t.fund_id)
                .uuid(t.credit_fund_id)
                .uuid(t.debit_account_id)
                .uuid(t.credit_account_id)
                .int(t.amount)
                .text(&t.category)
                .text(&t.reference)
                .text(&t.note)
                .text(if t.pending { "pending" } else { "posted" })
                .text(&t.reverses_id.map(|id| id.to_string()).unwrap_or_default())
                .day(t.created_on)
                .text(&t.created_by);
        }
        for r in resolutions {
            out.row("resolution")
                .uuid(r.transfer_id)
                .text(&r.outcome)
                .day(r.resolved_on)
                .text(&r.resolved_by);
        }
        for e in entries {
            out.row("entry")
                .uuid(e.transfer_id)
                .uuid(e.account_id)
                .int(e.amount)
                .day(e.posted_on);
        }
        out.0
    }
}

/// The hash of the link after `previous` whose content has `digest`, as the database
/// computes it: `sha256(previous || digest)`.
pub fn link_hash(previous: &Hash, digest: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(digest);
    hasher.finalize().into()
}

/// Writes canonical rows: a newline, the row's kind, then `len:value;` fields.
#[derive(Default)]
struct Canonical(Vec<u8>);

impl Canonical {
    fn row(&mut self, kind: &str) -> &mut Self {
        self.0.push(b'\n');
        self.text(kind)
    }

    fn text(&mut self, value: &str) -> &mut Self {
        self.0
            .extend_from_slice(format!("{}:{value};", value.len()).as_bytes());
        self
    }

    fn uuid(&mut self, id: Uuid) -> &mut Self {
        self.text(&id.to_string())
    }

    fn int(&mut self, value: i64) -> &mut Self {
        self.text(&value.to_string())
    }

    fn day(&mut self, day: NaiveDate) -> &mut Self {
        self.text(&day.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(transfer: u128, account: u128, amount: i64) -> ChainEntry {
        ChainEntry {
            transfer_id: Uuid::from_u128(transfer),
            account_id: Uuid::from_u128(account),
            amount,
            posted_on: NaiveDate::from_ymd_opt(2026, 11, 28).expect("a day"),
        }
    }

    #[test]
    fn the_digest_does_not_depend_on_row_order() {
        let one = LinkContent {
            entries: vec![entry(1, 2, -5), entry(1, 3, 5)],
            ..LinkContent::default()
        };
        let other = LinkContent {
            entries: vec![entry(1, 3, 5), entry(1, 2, -5)],
            ..LinkContent::default()
        };
        assert_eq!(one.digest(), other.digest());
    }

    #[test]
    fn a_changed_amount_changes_the_digest() {
        let one = LinkContent {
            entries: vec![entry(1, 2, -5), entry(1, 3, 5)],
            ..LinkContent::default()
        };
        let other = LinkContent {
            entries: vec![entry(1, 2, -6), entry(1, 3, 5)],
            ..LinkContent::default()
        };
        assert_ne!(one.digest(), other.digest());
    }

    #[test]
    fn fields_are_length_prefixed_so_text_cannot_shift_between_them() {
        let mut a = Canonical::default();
        a.text("ab").text("c");
        let mut b = Canonical::default();
        b.text("a").text("bc");
        assert_ne!(a.0, b.0);
    }

    #[test]
    fn a_link_hash_chains_the_previous_hash() {
        let digest = LinkContent::default().digest();
        assert_ne!(link_hash(&GENESIS, &digest), link_hash(&[1; 32], &digest));
    }
}
