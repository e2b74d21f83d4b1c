//! Who may do what with funds. Pure decisions over the verified [`Principal`]:
//!
//! - Opening and closing a fund: staff of the fund's authority (practitioners, team
//!   managers, panel, commissioning or finance).
//! - Posting transfers, settling or releasing pending ones and reversing: the authority's
//!   finance staff. The holder of a fund (the provider holding it, or the third party)
//!   also posts what it pays out of the fund: from the fund's balance to a payee, a one-off
//!   purchase or its management fee, posted at once. Money into a fund, pending amounts
//!   and corrections stay with the authority's finance staff.
//! - Giving a fund a payee: its authority's managing staff, and the fund's holder.
//! - Reading: any staff of the authority; the provider or third party holding the fund; a
//!   provider paid from it (it has a payable account there); the person. Anyone else is
//!   told the fund is not recorded.

use sds_platform::{OrgKind, Principal, Role};
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

use super::fund::{AccountKind, Fund, HoldingModel};
use super::transfer::Category;

/// Why a caller may not do what it asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(String);

const MANAGING_ROLES: [Role; 5] = [
    Role::Practitioner,
    Role::TeamManager,
    Role::Panel,
    Role::Commissioning,
    Role::Finance,
];

pub fn is_staff_of(principal: &Principal, authority: &AuthorityId) -> bool {
    principal.org_kind == OrgKind::Authority && principal.may_act_for(authority)
}

pub fn ensure_may_manage(principal: &Principal, authority: &AuthorityId) -> Result<(), Denied> {
    if is_staff_of(principal, authority)
        && MANAGING_ROLES.iter().any(|role| principal.has_role(*role))
    {
        Ok(())
    } else {
        Err(Denied(format!(
            "funds of {authority} are opened and closed by its practitioners, team managers, panel, commissioning or finance staff"
        )))
    }
}

pub fn ensure_may_post(principal: &Principal, authority: &AuthorityId) -> Result<(), Denied> {
    if is_staff_of(principal, authority) && principal.has_role(Role::Finance) {
        Ok(())
    } else {
        Err(Denied(format!(
            "transfers on funds of {authority} are posted by its finance staff"
        )))
    }
}

/// Whether the caller holds `fund` on the person's behalf: the provider a provider-held
/// fund names as holder, or the third-party holder a third-party fund names (an
/// authority-held fund has no holder but the authority).
pub fn holds(principal: &Principal, fund: &Fund) -> bool {
    let kind = match fund.holding_model {
        HoldingModel::Provider => OrgKind::Provider,
        HoldingModel::ThirdParty => OrgKind::Holder,
        HoldingModel::Authority => return false,
    };
    principal.org_kind == kind
        && Uuid::parse_str(&principal.org_id).is_ok_and(|org| org.to_string() == fund.holder_id)
}

/// What one transfer moves, as far as who may post it goes.
#[derive(Debug, Clone, Copy)]
pub struct Moved<'a> {
    pub fund: &'a Fund,
    pub debit: AccountKind,
    pub credit: AccountKind,
    pub category: Category,
    pub pending: bool,
}

/// The accounts a holder pays into out of a fund's balance, each with the one category such
/// a payment is (so the person's statement says what the money went on).
const HOLDERS_PAY_TO: [(AccountKind, Category); 3] = [
    (AccountKind::Payable, Category::SupportPayment),
    (AccountKind::OneOffPurchase, Category::OneOffPurchase),
    (AccountKind::ManagementFee, Category::ManagementFee),
];

/// Whether the caller may post `movement`: the authority's finance staff anything; the
/// fund's holder a payment out of the fund's balance to a payee, a one-off purchase or its
/// management fee, posted at once.
pub fn ensure_may_post_movement(principal: &Principal, movement: Moved<'_>) -> Result<(), Denied> {
    if !holds(principal, movement.fund) {
        return ensure_may_post(principal, &movement.fund.authority);
    }
    if movement.debit == AccountKind::FundBalance
        && HOLDERS_PAY_TO.contains(&(movement.credit, movement.category))
        && !movement.pending
    {
        Ok(())
    } else {
        Err(Denied(format!(
            "the holder of a fund posts what it pays out of it only, posted at once: from the fund's fund_balance account to one of its payable accounts (category support_payment), its one_off_purchase account (one_off_purchase) or its management_fee account (management_fee); this one is {}{} from {} to {}. Anything else on funds of {} is posted by its finance staff",
            movement.category,
            if movement.pending { ", pending," } else { "" },
            movement.debit,
            movement.credit,
            movement.fund.authority
        )))
    }
}

/// Whether the caller may give `fund` payee `payee`: its authority's managing staff, or its
/// holder (who pays the payee from it). A third-party holder is paid its fee through the
/// management fee account, never as a payee of the fund it holds; a provider holding the
/// fund draws its own charges as one.
pub fn ensure_may_add_payee(principal: &Principal, fund: &Fund, payee: Uuid) -> Result<(), Denied> {
    if !holds(principal, fund) {
        return ensure_may_manage(principal, &fund.authority);
    }
    if fund.holding_model == HoldingModel::ThirdParty && payee.to_string() == fund.holder_id {
        return Err(Denied(
            "a third-party holder is paid its fee from the fund's management_fee account, not as a payee of the fund it holds".to_owned(),
        ));
    }
    Ok(())
}

/// Whether the caller could post at all (finance staff of some authority), asked before a
/// bulk stream is read; which funds they may post to is checked per transfer.
pub fn ensure_may_post_somewhere(principal: &Principal) -> Result<(), Denied> {
    if principal.org_kind == OrgKind::Authority && principal.has_role(Role::Finance) {
        Ok(())
    } else {
        Err(Denied(
            "bulk posting is for the finance staff of an authority".to_owned(),
        ))
    }
}

/// Whether the caller may read `fund`, whose payable accounts pay `payees`.
pub fn may_read(principal: &Principal, fund: &Fund, payees: &[Uuid]) -> bool {
    let org = Uuid::parse_str(&principal.org_id).ok();
    let holds = holds(principal, fund);
    let paid =
        principal.org_kind == OrgKind::Provider && org.is_some_and(|org| payees.contains(&org));
    let own = principal.org_kind == OrgKind::Person
        && principal
            .person_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
            == Some(fund.person_id);
    is_staff_of(principal, &fund.authority) || holds || paid || own
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fund() -> Fund {
        Fund {
            id: Uuid::from_u128(1),
            authority: AuthorityId::parse("authority", "fife").unwrap(),
            person_id: Uuid::from_u128(2),
            holding_model: HoldingModel::ThirdParty,
            holder_id: Uuid::from_u128(3).to_string(),
            weekly_budget: 0,
            overdraft_limit: 0,
            opened_on: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            closed_on: None,
        }
    }

    fn org(kind: OrgKind, id: u128) -> Principal {
        Principal {
            org_id: Uuid::from_u128(id).to_string(),
            org_kind: kind,
            roles: vec![],
            authorities: vec![],
            person_id: (kind == OrgKind::Person).then(|| Uuid::from_u128(id).to_string()),
        }
    }

    fn staff(of: &str, role: Role) -> Principal {
        Principal {
            org_id: of.into(),
            org_kind: OrgKind::Authority,
            roles: vec![role],
            authorities: vec![AuthorityId::parse("authority", of).unwrap()],
            person_id: None,
        }
    }

    #[test]
    fn each_caller_reads_only_what_is_theirs() {
        let fund = fund();
        let payees = [Uuid::from_u128(4)];
        let cases = [
            (staff("fife", Role::Practitioner), true),
            (staff("angus", Role::Finance), false),
            (org(OrgKind::Holder, 3), true),
            (org(OrgKind::Provider, 4), true),
            (org(OrgKind::Provider, 5), false),
            (org(OrgKind::Person, 2), true),
            (org(OrgKind::Person, 9), false),
        ];
        for (principal, expected) in cases {
            assert_eq!(
                may_read(&principal, &fund, &payees),
                expected,
                "{principal:?}"
            );
        }
        let fife = AuthorityId::parse("authority", "fife").unwrap();
        assert!(ensure_may_post(&staff("fife", Role::Finance), &fife).is_ok());
        assert!(ensure_may_post(&staff("fife", Role::Practitioner), &fife).is_err());
        assert!(ensure_may_post(&staff("angus", Role::Finance), &fife).is_err());
        assert!(ensure_may_manage(&staff("fife", Role::Practitioner), &fife).is_ok());
        assert!(ensure_may_manage(&staff("fife", Role::ProviderAdmin), &fife).is_err());
    }

    /// A payment of the category that goes with `credit` (support_payment when none does).
    fn movement(fund: &Fund, debit: AccountKind, credit: AccountKind) -> Moved<'_> {
        let category = HOLDERS_PAY_TO
            .iter()
            .find(|(kind, _)| *kind == credit)
            .map_or(Category::SupportPayment, |(_, category)| *category);
        Moved {
            fund,
            debit,
            credit,
            category,
            pending: false,
        }
    }

    #[test]
    fn a_holder_posts_only_payments_out_of_the_balance_of_a_fund_it_holds() {
        let held = fund();
        let holder = org(OrgKind::Holder, 3);
        for (to, _) in HOLDERS_PAY_TO {
            assert_eq!(
                ensure_may_post_movement(&holder, movement(&held, AccountKind::FundBalance, to)),
                Ok(())
            );
        }
        for (debit, credit) in [
            (AccountKind::AuthorityFunding, AccountKind::FundBalance),
            (AccountKind::Payable, AccountKind::FundBalance),
            (AccountKind::FundBalance, AccountKind::Recovery),
            (AccountKind::TopUp, AccountKind::FundBalance),
        ] {
            let refused = ensure_may_post_movement(&holder, movement(&held, debit, credit))
                .expect_err("not a payment out");
            assert!(
                refused
                    .to_string()
                    .starts_with("the holder of a fund posts"),
                "{refused}"
            );
        }
        let pending = Moved {
            pending: true,
            ..movement(&held, AccountKind::FundBalance, AccountKind::Payable)
        };
        assert!(ensure_may_post_movement(&holder, pending).is_err());
        // A payment out under a category that says something else (funding, a contribution).
        for category in [
            Category::Funding,
            Category::Contribution,
            Category::ManagementFee,
        ] {
            let mislabelled = Moved {
                category,
                ..movement(&held, AccountKind::FundBalance, AccountKind::Payable)
            };
            assert!(
                ensure_may_post_movement(&holder, mislabelled).is_err(),
                "{category}"
            );
        }
        // Another holder, a provider (even one with the holder's id: the fund is held by a
        // third party), or the person, may not.
        for other in [
            org(OrgKind::Holder, 9),
            org(OrgKind::Provider, 3),
            org(OrgKind::Provider, 4),
            org(OrgKind::Person, 2),
        ] {
            assert!(
                ensure_may_post_movement(
                    &other,
                    movement(&held, AccountKind::FundBalance, AccountKind::Payable)
                )
                .is_err(),
                "{other:?}"
            );
        }
        // A provider-held fund is held by the provider it names, not a holder with that id.
        let provider_held = Fund {
            holding_model: HoldingModel::Provider,
            ..fund()
        };
        let payment = movement(
            &provider_held,
            AccountKind::FundBalance,
            AccountKind::Payable,
        );
        assert!(ensure_may_post_movement(&org(OrgKind::Provider, 3), payment).is_ok());
        assert!(ensure_may_post_movement(&holder, payment).is_err());
        // An authority-held fund has no holder but the authority.
        let ring_fenced = Fund {
            holding_model: HoldingModel::Authority,
            ..fund()
        };
        assert!(
            ensure_may_post_movement(
                &holder,
                movement(&ring_fenced, AccountKind::FundBalance, AccountKind::Payable)
            )
            .is_err()
        );
    }

    #[test]
    fn a_holder_adds_payees_to_its_fund_but_a_third_party_never_itself() {
        let held = fund();
        let holder = org(OrgKind::Holder, 3);
        let provider = Uuid::from_u128(4);
        assert!(ensure_may_add_payee(&holder, &held, provider).is_ok());
        assert!(ensure_may_add_payee(&holder, &held, Uuid::from_u128(3)).is_err());
        assert!(ensure_may_add_payee(&org(OrgKind::Holder, 9), &held, provider).is_err());
        let provider_held = Fund {
            holding_model: HoldingModel::Provider,
            ..fund()
        };
        // The provider holding the fund draws its own charges as a payee of it.
        assert!(
            ensure_may_add_payee(
                &org(OrgKind::Provider, 3),
                &provider_held,
                Uuid::from_u128(3)
            )
            .is_ok()
        );
        let ring_fenced = Fund {
            holding_model: HoldingModel::Authority,
            ..fund()
        };
        assert!(ensure_may_add_payee(&holder, &ring_fenced, provider).is_err());
    }
}
