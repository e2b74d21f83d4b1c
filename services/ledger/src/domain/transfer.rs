//! Transfers: double entry between two accounts, an amount above zero, a category, a
//! reference and a note. The transfer id is the idempotency key: asking again with the
//! same id and the same content is answered with the original; other content under a used
//! id is refused, and nothing moves.

use chrono::NaiveDate;
use sds_vocabulary::{AuthorityId, Invalid};
use uuid::Uuid;

sds_vocabulary::wire_enum! {
    /// What a transfer is, for statements (money in by source, out by category).
    pub enum Category("transfer category") => sds_proto::v1::TransferCategory {
        Funding = "funding",
        SupportPayment = "support_payment",
        ManagementFee = "management_fee",
        TopUp = "top_up",
        OneOffPurchase = "one_off_purchase",
        Recovery = "recovery",
        Adjustment = "adjustment",
        Closure = "closure",
        Contribution = "contribution",
        ContributionDue = "contribution_due",
    }
}

sds_vocabulary::wire_enum! {
    /// A pending transfer has exactly one end: posted or voided, once.
    pub enum TransferStatus("transfer status") => sds_proto::v1::TransferStatus {
        Pending = "pending",
        Posted = "posted",
        Voided = "voided",
    }
}

/// What a caller asks to be recorded under a transfer id: everything that must match when
/// the same id is asked again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferContent {
    pub id: Uuid,
    pub debit: Uuid,
    pub credit: Uuid,
    /// Whole pence, above zero.
    pub amount: i64,
    pub category: Category,
    pub reference: String,
    pub note: String,
    pub pending: bool,
    /// For a reversal: the transfer it reverses.
    pub reverses: Option<Uuid>,
}

/// What [`transfer_content`] reads; the field names are the wire's, for refusals.
#[derive(Debug, Clone)]
pub struct TransferDraft {
    pub id: Uuid,
    pub debit: Uuid,
    pub credit: Uuid,
    pub amount: i64,
    pub category: Category,
    pub reference: String,
    pub note: String,
    pub pending: bool,
}

pub fn transfer_content(draft: TransferDraft) -> Result<TransferContent, Invalid> {
    if draft.amount <= 0 {
        return Err(Invalid::new(
            "amount",
            "is not above zero; a transfer moves 0.01 or more (correct a mistake with ReverseTransfer)",
        ));
    }
    if draft.debit == draft.credit {
        return Err(Invalid::new(
            "credit_account_id",
            "is the debit account too; a transfer moves money between two accounts",
        ));
    }
    // A closure is the one move CloseFund makes as the fund closes; one made by hand would
    // read on the statement as the fund closing while it stays open.
    if draft.category == Category::Closure {
        return Err(Invalid::new(
            "category",
            "is closure, which only closing a fund records (CloseFund); move money by hand as adjustment or recovery",
        ));
    }
    Ok(TransferContent {
        id: draft.id,
        debit: draft.debit,
        credit: draft.credit,
        amount: draft.amount,
        category: draft.category,
        reference: draft.reference,
        note: draft.note,
        pending: draft.pending,
        reverses: None,
    })
}

/// A transfer as recorded, with where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    pub content: TransferContent,
    /// The debit account's fund.
    pub fund_id: Uuid,
    pub authority: AuthorityId,
    pub status: TransferStatus,
    pub created_on: NaiveDate,
}

/// What a transfer id asked again means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The same content: answer with the original and move nothing.
    Same,
    /// Other content under a used id: refuse.
    Conflict,
}

/// Compares what is asked under `asked.id` with what that id already recorded.
pub fn compare(recorded: &TransferContent, asked: &TransferContent) -> Retry {
    if recorded == asked {
        Retry::Same
    } else {
        Retry::Conflict
    }
}

/// The transfer that reverses `original` under the new id `reversal_id`: the same amount,
/// category and reference the other way round, pointing at the original.
pub fn reversal_of(original: &TransferContent, reversal_id: Uuid, note: String) -> TransferContent {
    TransferContent {
        id: reversal_id,
        debit: original.credit,
        credit: original.debit,
        amount: original.amount,
        category: original.category,
        reference: original.reference.clone(),
        note,
        pending: false,
        reverses: Some(original.id),
    }
}

/// Refuses a batch naming one id twice: each transfer is one id.
pub fn distinct_ids(contents: &[TransferContent]) -> Result<(), Invalid> {
    // A set, not a scan of the earlier ones: a bulk chunk has 10,000 transfers.
    let mut seen = std::collections::HashSet::with_capacity(contents.len());
    for (index, content) in contents.iter().enumerate() {
        if !seen.insert(content.id) {
            return Err(Invalid::new(
                format!("transfers[{index}].id"),
                format!(
                    "is {}, which an earlier transfer of this batch has; each transfer has its own id",
                    content.id
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sds_vocabulary::named_enum::assert_names_follow_the_wire;

    fn draft(amount: i64) -> TransferDraft {
        TransferDraft {
            id: Uuid::from_u128(1),
            debit: Uuid::from_u128(2),
            credit: Uuid::from_u128(3),
            amount,
            category: Category::Funding,
            reference: "instalment 1".into(),
            note: String::new(),
            pending: false,
        }
    }

    #[test]
    fn names_follow_the_wire() {
        assert_names_follow_the_wire::<Category>();
        assert_names_follow_the_wire::<TransferStatus>();
    }

    #[test]
    fn a_transfer_by_hand_moves_above_zero_between_two_accounts_and_is_no_closure() {
        assert_eq!(transfer_content(draft(0)).unwrap_err().field(), "amount");
        assert_eq!(transfer_content(draft(-5)).unwrap_err().field(), "amount");
        let closure = TransferDraft {
            category: Category::Closure,
            ..draft(100)
        };
        assert_eq!(transfer_content(closure).unwrap_err().field(), "category");
        let mut same = draft(5);
        same.credit = same.debit;
        assert_eq!(
            transfer_content(same).unwrap_err().field(),
            "credit_account_id"
        );
    }

    #[test]
    fn the_same_id_with_the_same_content_is_a_retry_and_with_other_content_a_conflict() {
        let first = transfer_content(draft(100)).unwrap();
        assert_eq!(compare(&first, &first.clone()), Retry::Same);
        let other = transfer_content(draft(101)).unwrap();
        assert_eq!(compare(&first, &other), Retry::Conflict);
        let mut noted = first.clone();
        noted.note = "changed".into();
        assert_eq!(compare(&first, &noted), Retry::Conflict);
        let reversal = reversal_of(&first, Uuid::from_u128(9), String::new());
        assert_eq!(
            (reversal.debit, reversal.credit, reversal.reverses),
            (first.credit, first.debit, Some(first.id))
        );
        assert_eq!(
            distinct_ids(&[first.clone(), first]).unwrap_err().field(),
            "transfers[1].id"
        );
    }
}
