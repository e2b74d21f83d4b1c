//! Devolved approval limits: the weekly cost of a plan each approving role may approve on
//! its own, separately for children and adults (for example 375.00 a week for adults and
//! 275.00 for children for a practitioner).
//!
//! What must stay true: only the practitioner, team manager and panel roles approve; for
//! each age group a more senior role always has a higher limit than the one below it (so
//! "the least senior role that can approve" is well defined); no limit is negative.

use std::fmt;

use sds_money::Money;
use sds_vocabulary::{Invalid, NamedEnum, Role};

use super::person::AgeGroup;

/// The roles that approve plans, least senior first.
pub const APPROVING_ROLES: [Role; 3] = [Role::Practitioner, Role::TeamManager, Role::Panel];

/// The most a role may approve on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Limit {
    /// Plans costing at most this much a week.
    UpTo(Money),
    /// Plans of any cost (typically the panel).
    Unlimited,
}

impl Limit {
    pub fn covers(self, weekly_cost: Money) -> bool {
        match self {
            Limit::UpTo(most) => weekly_cost <= most,
            Limit::Unlimited => true,
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::UpTo(most) => write!(formatter, "{most} a week"),
            Limit::Unlimited => formatter.write_str("no limit"),
        }
    }
}

/// One role's limits for children and for adults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LimitsByAge {
    pub child: Limit,
    pub adult: Limit,
}

impl LimitsByAge {
    pub fn for_age(&self, age_group: AgeGroup) -> Limit {
        match age_group {
            AgeGroup::Child => self.child,
            AgeGroup::Adult => self.adult,
        }
    }
}

/// The limits of every approving role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DevolvedLimits {
    pub practitioner: LimitsByAge,
    pub team_manager: LimitsByAge,
    pub panel: LimitsByAge,
}

impl DevolvedLimits {
    /// The limit of `role` for `age_group`; `None` for roles that do not approve plans.
    pub fn limit(&self, role: Role, age_group: AgeGroup) -> Option<Limit> {
        let by_age = match role {
            Role::Practitioner => self.practitioner,
            Role::TeamManager => self.team_manager,
            Role::Panel => self.panel,
            _ => return None,
        };
        Some(by_age.for_age(age_group))
    }

    /// Checks the limits; field names are relative to the limits (`team_manager.adult`).
    pub fn validate(&self) -> Result<(), Invalid> {
        for age_group in AgeGroup::ALL.iter().copied() {
            let mut below: Option<(Role, Limit)> = None;
            for role in APPROVING_ROLES {
                let limit = self.limit(role, age_group).unwrap_or(Limit::Unlimited);
                let field = format!("{}.{}", field_name(role), age_group.name());
                if let Limit::UpTo(most) = limit
                    && most.is_negative()
                {
                    return Err(Invalid::new(
                        field,
                        format!("is {most}; a limit must be 0.00 or more"),
                    ));
                }
                if let Some((lower_role, lower_limit)) = below
                    && limit <= lower_limit
                {
                    return Err(Invalid::new(
                        field,
                        format!(
                            "is {limit}, which is not more than the {} limit of {lower_limit}; each more senior role needs a higher limit",
                            role_words(lower_role)
                        ),
                    ));
                }
                below = Some((role, limit));
            }
        }
        Ok(())
    }
}

/// The role as a field name: `team_manager`.
fn field_name(role: Role) -> String {
    role.name().replace('-', "_")
}

/// The role as people say it: `team manager`.
pub fn role_words(role: Role) -> String {
    role.name().replace('-', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up_to(text: &str) -> Limit {
        Limit::UpTo(Money::parse(text).expect("test amounts are valid"))
    }

    fn limits() -> DevolvedLimits {
        DevolvedLimits {
            practitioner: LimitsByAge {
                child: up_to("275.00"),
                adult: up_to("375.00"),
            },
            team_manager: LimitsByAge {
                child: up_to("600.00"),
                adult: up_to("800.00"),
            },
            panel: LimitsByAge {
                child: Limit::Unlimited,
                adult: Limit::Unlimited,
            },
        }
    }

    #[test]
    fn each_approving_role_has_a_limit_per_age_group_and_others_have_none() {
        let limits = limits();
        assert!(limits.validate().is_ok());
        assert_eq!(
            limits.limit(Role::Practitioner, AgeGroup::Child),
            Some(up_to("275.00"))
        );
        assert_eq!(
            limits.limit(Role::TeamManager, AgeGroup::Adult),
            Some(up_to("800.00"))
        );
        assert_eq!(limits.limit(Role::Finance, AgeGroup::Adult), None);
    }

    #[test]
    fn a_limit_covers_costs_up_to_and_including_itself() {
        assert!(up_to("375.00").covers(Money::parse("375.00").unwrap()));
        assert!(!up_to("375.00").covers(Money::parse("375.01").unwrap()));
        assert!(Limit::Unlimited.covers(Money::parse("99999.00").unwrap()));
    }

    #[test]
    fn limits_that_do_not_rise_with_seniority_or_are_negative_are_refused() {
        let mut equal = limits();
        equal.team_manager.adult = up_to("375.00");
        let mut unlimited_practitioner = limits();
        unlimited_practitioner.practitioner.child = Limit::Unlimited;
        let mut capped_panel_below_manager = limits();
        capped_panel_below_manager.panel.child = up_to("500.00");
        let mut negative = limits();
        negative.practitioner.adult = up_to("-1.00");
        let cases = [
            (
                equal,
                "team_manager.adult",
                "not more than the practitioner limit of 375.00 a week",
            ),
            (
                unlimited_practitioner,
                "team_manager.child",
                "not more than the practitioner limit of no limit",
            ),
            (
                capped_panel_below_manager,
                "panel.child",
                "team manager limit of 600.00 a week",
            ),
            (negative, "practitioner.adult", "0.00 or more"),
        ];
        for (limits, field, problem) in cases {
            let error = limits.validate().unwrap_err();
            assert_eq!(error.field(), field);
            assert!(error.problem().contains(problem), "{error}");
        }
    }
}
