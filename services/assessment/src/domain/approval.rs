//! Approval within devolved limits: whether the approver's own limit covers a plan's weekly
//! cost, and if not, who can approve it.
//!
//! What must stay true: the approver acts under their most senior approving role (the
//! highest limit they hold); the limits are those of the policy in effect on the plan's
//! effective date, for the person's age group on that date; the cost is the plan's peak
//! weekly cost from that date; a refusal names the approver's limit and the least senior
//! role whose limit covers the cost. An [`ApprovalGranted`] can only be made here, so a plan
//! cannot be approved without this check.

use chrono::NaiveDate;
use sds_money::Money;
use sds_vocabulary::Role;

use super::limits::{APPROVING_ROLES, DevolvedLimits, Limit, role_words};
use super::person::{AgeGroup, age_group_on};
use super::plan::{PlanError, PlanVersion};
use super::policy::{AuthorityPolicy, policy_in_effect};

/// Proof that an approver may approve a plan of `weekly_cost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalGranted {
    approved_as: Role,
    limit: Limit,
    age_group: AgeGroup,
    weekly_cost: Money,
}

impl ApprovalGranted {
    pub fn approved_as(&self) -> Role {
        self.approved_as
    }

    pub fn limit(&self) -> Limit {
        self.limit
    }

    pub fn age_group(&self) -> AgeGroup {
        self.age_group
    }

    pub fn weekly_cost(&self) -> Money {
        self.weekly_cost
    }
}

/// Why an approver may not approve a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalRefusal {
    #[error(
        "you hold no role that approves plans; a practitioner, team manager or the panel approves"
    )]
    NotAnApprover,
    #[error(
        "the plan costs {weekly_cost} a week, above your {} limit of {limit} for {}; {} ({}) can approve it",
        role_words(*approver),
        age_words(*age_group),
        with_article(*needed_role),
        limit_words(*needed_limit)
    )]
    AboveLimit {
        weekly_cost: Money,
        approver: Role,
        limit: Limit,
        age_group: AgeGroup,
        needed_role: Role,
        needed_limit: Limit,
    },
    #[error(
        "the plan costs {weekly_cost} a week, above every devolved limit for {} (the panel's is {panel_limit}); reduce the plan or ask for the policy to be reviewed",
        age_words(*age_group)
    )]
    AboveEveryLimit {
        weekly_cost: Money,
        age_group: AgeGroup,
        panel_limit: Limit,
    },
    #[error(
        "no policy of the authority is in effect on {on}, the plan's effective date; record the policy first"
    )]
    NoPolicyInEffect { on: NaiveDate },
    #[error("{0}")]
    Plan(#[from] PlanError),
}

/// Decides whether an approver holding `roles` may approve a plan of `weekly_cost` for a
/// person in `age_group` under `limits`.
pub fn decide_approval(
    limits: &DevolvedLimits,
    roles: &[Role],
    age_group: AgeGroup,
    weekly_cost: Money,
) -> Result<ApprovalGranted, ApprovalRefusal> {
    // The most senior approving role held: the limits rise with seniority.
    let approver = APPROVING_ROLES
        .iter()
        .rev()
        .copied()
        .find(|role| roles.contains(role))
        .ok_or(ApprovalRefusal::NotAnApprover)?;
    let limit = limits
        .limit(approver, age_group)
        .unwrap_or(Limit::UpTo(Money::zero()));
    if limit.covers(weekly_cost) {
        return Ok(ApprovalGranted {
            approved_as: approver,
            limit,
            age_group,
            weekly_cost,
        });
    }
    let needed = APPROVING_ROLES.iter().copied().find_map(|role| {
        let role_limit = limits.limit(role, age_group)?;
        role_limit.covers(weekly_cost).then_some((role, role_limit))
    });
    match needed {
        Some((needed_role, needed_limit)) => Err(ApprovalRefusal::AboveLimit {
            weekly_cost,
            approver,
            limit,
            age_group,
            needed_role,
            needed_limit,
        }),
        None => Err(ApprovalRefusal::AboveEveryLimit {
            weekly_cost,
            age_group,
            panel_limit: limits.panel.for_age(age_group),
        }),
    }
}

/// Decides approval of `plan` under the authority's policy in effect on its effective
/// date, for the person's age group on that date.
pub fn decide_plan_approval(
    plan: &PlanVersion,
    policies: &[AuthorityPolicy],
    roles: &[Role],
    date_of_birth: NaiveDate,
) -> Result<ApprovalGranted, ApprovalRefusal> {
    let on = plan.effective_from();
    let policy = policy_in_effect(policies, on).ok_or(ApprovalRefusal::NoPolicyInEffect { on })?;
    let weekly_cost = plan.peak_weekly_cost_from(on)?;
    decide_approval(
        &policy.approval_limits,
        roles,
        age_group_on(date_of_birth, on),
        weekly_cost,
    )
}

fn age_words(age_group: AgeGroup) -> &'static str {
    match age_group {
        AgeGroup::Child => "children",
        AgeGroup::Adult => "adults",
    }
}

fn limit_words(limit: Limit) -> String {
    match limit {
        Limit::UpTo(_) => format!("limit {limit}"),
        Limit::Unlimited => "no limit".to_owned(),
    }
}

fn with_article(role: Role) -> String {
    match role {
        Role::Panel => "the panel".to_owned(),
        other => format!("a {}", role_words(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::budget::budget_set_by_hand;
    use crate::domain::plan::tests::{date, example_draft, money};
    use crate::domain::policy::tests::example_policy;

    #[test]
    fn the_approvers_most_senior_role_decides_and_a_refusal_names_who_can_approve() {
        use AgeGroup::{Adult, Child};
        let limits = example_policy("2026-04-01").approval_limits;
        let practitioner = [Role::Practitioner];
        let manager = [Role::Practitioner, Role::TeamManager];
        let panel = [Role::Panel];
        // (roles, age group, weekly cost, approved as or the role that is needed)
        type Case<'a> = (&'a [Role], AgeGroup, &'a str, Result<Role, Role>);
        let cases: [Case; 10] = [
            (&practitioner, Adult, "375.00", Ok(Role::Practitioner)),
            (&practitioner, Adult, "375.01", Err(Role::TeamManager)),
            (&practitioner, Child, "275.00", Ok(Role::Practitioner)),
            (&practitioner, Child, "275.01", Err(Role::TeamManager)),
            (&practitioner, Child, "600.01", Err(Role::Panel)),
            (&manager, Adult, "800.00", Ok(Role::TeamManager)),
            (&manager, Adult, "800.01", Err(Role::Panel)),
            (&manager, Child, "600.00", Ok(Role::TeamManager)),
            (&panel, Adult, "5000.00", Ok(Role::Panel)),
            (&panel, Child, "0.00", Ok(Role::Panel)),
        ];
        for (roles, age_group, cost, expected) in cases {
            let decided = decide_approval(&limits, roles, age_group, money(cost));
            let outcome = match decided {
                Ok(granted) => Ok(granted.approved_as()),
                Err(ApprovalRefusal::AboveLimit { needed_role, .. }) => Err(needed_role),
                Err(other) => panic!("{roles:?} {age_group} {cost}: {other}"),
            };
            assert_eq!(outcome, expected, "{roles:?} {age_group} {cost}");
        }
    }

    #[test]
    fn a_refusal_says_the_approvers_limit_and_the_least_senior_role_that_can_approve() {
        let limits = example_policy("2026-04-01").approval_limits;
        let refusal = decide_approval(
            &limits,
            &[Role::Practitioner],
            AgeGroup::Adult,
            money("400.00"),
        )
        .unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the plan costs 400.00 a week, above your practitioner limit of 375.00 a week for adults; a team manager (limit 800.00 a week) can approve it"
        );
        let refusal = decide_approval(
            &limits,
            &[Role::TeamManager],
            AgeGroup::Child,
            money("700.00"),
        )
        .unwrap_err();
        assert!(
            refusal
                .to_string()
                .ends_with("the panel (no limit) can approve it"),
            "{refusal}"
        );
    }

    #[test]
    fn roles_that_do_not_approve_are_refused_and_a_capped_panel_can_be_exceeded() {
        let mut limits = example_policy("2026-04-01").approval_limits;
        assert_eq!(
            decide_approval(
                &limits,
                &[Role::Finance, Role::Commissioning],
                AgeGroup::Adult,
                money("1.00")
            ),
            Err(ApprovalRefusal::NotAnApprover)
        );
        limits.panel.adult = Limit::UpTo(money("2000.00"));
        let refusal = decide_approval(&limits, &[Role::Panel], AgeGroup::Adult, money("2000.01"))
            .unwrap_err();
        assert!(
            matches!(refusal, ApprovalRefusal::AboveEveryLimit { .. }),
            "{refusal}"
        );
        assert!(
            refusal
                .to_string()
                .contains("the panel's is 2000.00 a week"),
            "{refusal}"
        );
    }

    #[test]
    fn a_plan_is_approved_under_the_policy_and_age_group_of_its_effective_date() {
        // The plan peaks at 300.00 a week from 1 June 2026.
        let plan = example_draft()
            .submit(
                date("2026-03-21"),
                &budget_set_by_hand(money("300.00"), "agreed").unwrap(),
                None,
            )
            .unwrap();
        let policies = [example_policy("2025-04-01")];
        // An adult: within the practitioner's 375.00.
        let granted =
            decide_plan_approval(&plan, &policies, &[Role::Practitioner], date("1980-05-05"))
                .unwrap();
        let approved = plan.approve(&granted, date("2026-03-25")).unwrap();
        assert_eq!(approved.status(), crate::domain::plan::PlanStatus::Approved);
        // 18 on 2 April 2026, so a child on the effective date 1 April: above 275.00.
        let refusal =
            decide_plan_approval(&plan, &policies, &[Role::Practitioner], date("2008-04-02"))
                .unwrap_err();
        assert!(
            matches!(
                refusal,
                ApprovalRefusal::AboveLimit {
                    age_group: AgeGroup::Child,
                    ..
                }
            ),
            "{refusal}"
        );
        // No policy yet in effect on 1 April 2026.
        let later = [example_policy("2026-04-02")];
        assert_eq!(
            decide_plan_approval(&plan, &later, &[Role::Practitioner], date("1980-05-05")),
            Err(ApprovalRefusal::NoPolicyInEffect {
                on: date("2026-04-01")
            })
        );
    }

    #[test]
    fn an_approval_decided_for_another_cost_or_an_unsubmitted_plan_is_refused() {
        let limits = example_policy("2026-04-01").approval_limits;
        let granted = decide_approval(
            &limits,
            &[Role::Practitioner],
            AgeGroup::Adult,
            money("100.00"),
        )
        .unwrap();
        let draft = example_draft();
        assert!(matches!(
            draft.approve(&granted, date("2026-03-25")),
            Err(PlanError::NotSubmitted { .. })
        ));
        let submitted = draft
            .submit(
                date("2026-03-21"),
                &budget_set_by_hand(money("300.00"), "agreed").unwrap(),
                None,
            )
            .unwrap();
        assert!(matches!(
            submitted.approve(&granted, date("2026-03-25")),
            Err(PlanError::ApprovalForAnotherCost { .. })
        ));
    }
}
