//! Funds: one per person per holder, with the holding model, the authority, the weekly
//! budget it is meant to receive and how far below zero it may go; and the accounts each
//! fund has of its own, so that one person's money is never pooled with another's.

use chrono::NaiveDate;
use sds_vocabulary::{AuthorityId, Invalid};
use uuid::Uuid;

sds_vocabulary::wire_enum! {
    /// Who holds the fund and pays from it on the person's behalf.
    pub enum HoldingModel("holding model") => sds_proto::v1::FundHoldingModel {
        ThirdParty = "third_party",
        Provider = "provider",
        Authority = "authority",
    }
}

sds_vocabulary::wire_enum! {
    /// What an account of a fund is for. Only [`AccountKind::FundBalance`] is held to the
    /// fund's overdraft limit; the others are its counterparts.
    pub enum AccountKind("account kind") => sds_proto::v1::LedgerAccountKind {
        FundBalance = "fund_balance",
        AuthorityFunding = "authority_funding",
        Payable = "payable",
        ManagementFee = "management_fee",
        TopUp = "top_up",
        OneOffPurchase = "one_off_purchase",
        Recovery = "recovery",
        Contribution = "contribution",
        ContributionDue = "contribution_due",
    }
}

sds_vocabulary::wire_enum! {
    pub enum FundStatus("fund status") => sds_proto::v1::FundStatus {
        Open = "open",
        Closed = "closed",
    }
}

/// The accounts every fund has from the day it opens; payables come one per payee.
pub const STANDING_ACCOUNTS: [AccountKind; 8] = [
    AccountKind::FundBalance,
    AccountKind::AuthorityFunding,
    AccountKind::ManagementFee,
    AccountKind::TopUp,
    AccountKind::OneOffPurchase,
    AccountKind::Recovery,
    AccountKind::Contribution,
    AccountKind::ContributionDue,
];

/// A fund as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fund {
    pub id: Uuid,
    pub authority: AuthorityId,
    pub person_id: Uuid,
    pub holding_model: HoldingModel,
    /// The provider or third party's id, or the authority's own id when it holds the fund.
    pub holder_id: String,
    pub weekly_budget: i64,
    pub overdraft_limit: i64,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
}

impl Fund {
    pub fn status(&self) -> FundStatus {
        if self.closed_on.is_some() {
            FundStatus::Closed
        } else {
            FundStatus::Open
        }
    }
}

/// A fund to open, checked: amounts never negative, a holder that fits the model, payees
/// named once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFund {
    pub id: Uuid,
    pub authority: AuthorityId,
    pub person_id: Uuid,
    pub holding_model: HoldingModel,
    pub holder_id: String,
    pub weekly_budget: i64,
    pub overdraft_limit: i64,
    pub payees: Vec<Uuid>,
}

/// What [`new_fund`] reads.
#[derive(Debug, Clone)]
pub struct FundDraft {
    pub id: Uuid,
    pub authority: AuthorityId,
    pub person_id: Uuid,
    pub holding_model: HoldingModel,
    pub holder_id: Option<Uuid>,
    pub weekly_budget: i64,
    pub overdraft_limit: i64,
    pub payees: Vec<Uuid>,
}

/// The most payees (each with its payable account) one fund takes. A person's support comes
/// from a handful of providers; the bound keeps a fund, and every answer that lists its
/// accounts, far inside what a gRPC client takes in one message (4 MiB by default).
pub const MAX_PAYEES: usize = 100;

pub fn new_fund(draft: FundDraft) -> Result<NewFund, Invalid> {
    let holder_id = match (draft.holding_model, draft.holder_id) {
        (HoldingModel::Authority, None) => draft.authority.as_str().to_owned(),
        (HoldingModel::Authority, Some(_)) => {
            return Err(Invalid::new(
                "holder_id",
                "is given, but the authority holds this fund; leave it empty",
            ));
        }
        (_, Some(holder)) => holder.to_string(),
        (model, None) => {
            return Err(Invalid::new(
                "holder_id",
                format!("is missing; a fund held by a {model} names its holder's id"),
            ));
        }
    };
    for (field, pence) in [
        ("weekly_budget", draft.weekly_budget),
        ("overdraft_limit", draft.overdraft_limit),
    ] {
        if pence < 0 {
            return Err(Invalid::new(
                field,
                "is below zero; it must be 0.00 or more",
            ));
        }
    }
    if draft.payees.len() > MAX_PAYEES {
        return Err(Invalid::new(
            "payee_ids",
            format!(
                "names {} payees; a fund takes at most {MAX_PAYEES}",
                draft.payees.len()
            ),
        ));
    }
    for (index, payee) in draft.payees.iter().enumerate() {
        if draft.payees[..index].contains(payee) {
            return Err(Invalid::new(
                format!("payee_ids[{index}]"),
                format!("names {payee} again; each payee has one payable account"),
            ));
        }
    }
    Ok(NewFund {
        id: draft.id,
        authority: draft.authority,
        person_id: draft.person_id,
        holding_model: draft.holding_model,
        holder_id,
        weekly_budget: draft.weekly_budget,
        overdraft_limit: draft.overdraft_limit,
        payees: draft.payees,
    })
}

impl NewFund {
    /// Whether `fund` (with its payees) is this fund as asked: an open retried.
    pub fn is_same_as(&self, fund: &Fund, payees: &[Uuid]) -> bool {
        let mut asked = self.payees.clone();
        asked.sort();
        let mut held = payees.to_vec();
        held.sort();
        fund.id == self.id
            && fund.authority == self.authority
            && fund.person_id == self.person_id
            && fund.holding_model == self.holding_model
            && fund.holder_id == self.holder_id
            && fund.weekly_budget == self.weekly_budget
            && fund.overdraft_limit == self.overdraft_limit
            && asked == held
    }

    /// Every account the fund opens with: the standing ones, then a payable per payee.
    pub fn accounts(&self) -> Vec<(AccountKind, Option<Uuid>)> {
        STANDING_ACCOUNTS
            .iter()
            .map(|kind| (*kind, None))
            .chain(
                self.payees
                    .iter()
                    .map(|payee| (AccountKind::Payable, Some(*payee))),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sds_vocabulary::named_enum::assert_names_follow_the_wire;

    fn draft(model: HoldingModel, holder: Option<Uuid>) -> FundDraft {
        FundDraft {
            id: Uuid::from_u128(1),
            authority: AuthorityId::parse("authority", "fife").unwrap(),
            person_id: Uuid::from_u128(2),
            holding_model: model,
            holder_id: holder,
            weekly_budget: 37_500,
            overdraft_limit: 0,
            payees: vec![Uuid::from_u128(3)],
        }
    }

    #[test]
    fn names_follow_the_wire() {
        assert_names_follow_the_wire::<HoldingModel>();
        assert_names_follow_the_wire::<AccountKind>();
        assert_names_follow_the_wire::<FundStatus>();
    }

    #[test]
    fn the_holder_fits_the_holding_model() {
        let fund = new_fund(draft(HoldingModel::Authority, None)).unwrap();
        assert_eq!(fund.holder_id, "fife");
        assert_eq!(fund.accounts().len(), 9);
        let refused = new_fund(draft(HoldingModel::Provider, None)).unwrap_err();
        assert_eq!(refused.field(), "holder_id");
        let refused =
            new_fund(draft(HoldingModel::Authority, Some(Uuid::from_u128(9)))).unwrap_err();
        assert_eq!(refused.field(), "holder_id");
        let mut twice = draft(HoldingModel::ThirdParty, Some(Uuid::from_u128(9)));
        twice.payees.push(Uuid::from_u128(3));
        assert_eq!(new_fund(twice).unwrap_err().field(), "payee_ids[1]");
    }
}
