//! Whether a provider may start work under an agreement: the off-framework checks made
//! before activation, from what the directory holds about the provider on the day.
//!
//! A provider on the authority's framework (or its open list) was checked when it joined.
//! One that is not needs, instead: a current Care Inspectorate registration (an active
//! registered service, or a recorded registration check in date), or for a self-employed
//! personal assistant PVG membership and proof of self-employment; and in every such case
//! current public liability insurance.
//!
//! What must stay true: every shortfall is listed at once, each saying what is missing or
//! on which date it expired, so one refusal tells the office manager everything to fix; a
//! check in date on the day of activation (expiring that day included) is current.

use std::fmt;

use chrono::NaiveDate;
use sds_directory::domain::{CareServiceStatus, CheckKind, FrameworkStatus, ProviderKind};
use sds_vocabulary::NamedEnum as _;

/// A check as the directory records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFact {
    pub kind: CheckKind,
    /// The last day it is valid; `None` when it does not expire.
    pub expires_on: Option<NaiveDate>,
}

/// What the directory holds about a provider that matters for activation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderStanding {
    pub kind: ProviderKind,
    /// Its status with the agreement's authority, when it has one.
    pub framework: Option<FrameworkStatus>,
    /// Its Care Inspectorate registration, when it has a service number.
    pub care_service: Option<CareServiceStatus>,
    pub checks: Vec<CheckFact>,
}

/// One thing that stands in the way of activation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shortfall {
    /// Nothing of this kind is recorded.
    Missing(Requirement),
    /// The latest of this kind expired on this date.
    Expired(Requirement, NaiveDate),
}

/// What an off-framework provider must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    CareInspectorateRegistration,
    PvgMembership,
    ProofOfSelfEmployment,
    PublicLiabilityInsurance,
}

impl fmt::Display for Requirement {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Requirement::CareInspectorateRegistration => "a current Care Inspectorate registration",
            Requirement::PvgMembership => "PVG scheme membership",
            Requirement::ProofOfSelfEmployment => "proof of self-employment",
            Requirement::PublicLiabilityInsurance => "public liability insurance",
        })
    }
}

impl fmt::Display for Shortfall {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shortfall::Missing(requirement) => write!(formatter, "{requirement}: none recorded"),
            Shortfall::Expired(requirement, on) => {
                write!(formatter, "{requirement}: expired on {on}")
            }
        }
    }
}

impl ProviderStanding {
    /// Whether the provider is on the authority's framework (or its open list).
    pub fn on_framework(&self) -> bool {
        matches!(
            self.framework,
            Some(FrameworkStatus::OnFramework | FrameworkStatus::OpenList)
        )
    }

    /// Everything that stands in the way of activation on `on`; empty when nothing does.
    pub fn shortfalls(&self, on: NaiveDate) -> Vec<Shortfall> {
        if self.on_framework() {
            return Vec::new();
        }
        let mut shortfalls = Vec::new();
        if self.kind == ProviderKind::SelfEmployedPersonalAssistant {
            shortfalls.extend(self.check(CheckKind::PvgMembership, Requirement::PvgMembership, on));
            shortfalls.extend(self.check(
                CheckKind::ProofOfSelfEmployment,
                Requirement::ProofOfSelfEmployment,
                on,
            ));
        } else if self.care_service != Some(CareServiceStatus::Active) {
            // An active registered service is registered today; otherwise a recorded
            // registration check in date will do.
            shortfalls.extend(self.check(
                CheckKind::Registration,
                Requirement::CareInspectorateRegistration,
                on,
            ));
        }
        shortfalls.extend(self.check(
            CheckKind::PublicLiabilityInsurance,
            Requirement::PublicLiabilityInsurance,
            on,
        ));
        shortfalls
    }

    /// The shortfall of one kind of check on `on`: none when one is current, else the
    /// latest expiry, else missing.
    fn check(&self, kind: CheckKind, requirement: Requirement, on: NaiveDate) -> Option<Shortfall> {
        let of_kind = self.checks.iter().filter(|check| check.kind == kind);
        let mut latest_expiry: Option<NaiveDate> = None;
        for check in of_kind {
            match check.expires_on {
                None => return None,
                Some(expires) if expires >= on => return None,
                Some(expires) => latest_expiry = latest_expiry.max(Some(expires)),
            }
        }
        Some(match latest_expiry {
            Some(expired) => Shortfall::Expired(requirement, expired),
            None => Shortfall::Missing(requirement),
        })
    }
}

/// The refusal's text: why the provider cannot start and everything to fix.
pub fn shortfall_message(
    provider: &str,
    authority: &str,
    kind: ProviderKind,
    shortfalls: &[Shortfall],
) -> String {
    let listed: Vec<String> = shortfalls.iter().map(ToString::to_string).collect();
    format!(
        "provider {provider} ({}) is not on {authority}'s framework, so before the agreement starts it needs: {}",
        kind.name(),
        listed.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn check(kind: CheckKind, expires: Option<&str>) -> CheckFact {
        CheckFact {
            kind,
            expires_on: expires.map(day),
        }
    }

    fn assistant(checks: Vec<CheckFact>) -> ProviderStanding {
        ProviderStanding {
            kind: ProviderKind::SelfEmployedPersonalAssistant,
            framework: None,
            care_service: None,
            checks,
        }
    }

    const TODAY: &str = "2026-11-28";

    #[test]
    fn a_provider_on_the_framework_or_its_open_list_needs_nothing_more() {
        for status in [FrameworkStatus::OnFramework, FrameworkStatus::OpenList] {
            let standing = ProviderStanding {
                framework: Some(status),
                ..assistant(vec![])
            };
            assert_eq!(standing.shortfalls(day(TODAY)), vec![]);
        }
    }

    #[test]
    fn an_assistant_with_pvg_but_expired_insurance_is_told_the_expiry_date() {
        let standing = assistant(vec![
            check(CheckKind::PvgMembership, None),
            check(CheckKind::ProofOfSelfEmployment, Some("2027-04-05")),
            check(CheckKind::PublicLiabilityInsurance, Some("2026-10-31")),
            check(CheckKind::PublicLiabilityInsurance, Some("2025-10-31")),
        ]);
        let shortfalls = standing.shortfalls(day(TODAY));
        assert_eq!(
            shortfalls,
            vec![Shortfall::Expired(
                Requirement::PublicLiabilityInsurance,
                day("2026-10-31")
            )]
        );
        assert_eq!(
            shortfall_message("Jane Doe", "demo-shire", standing.kind, &shortfalls),
            "provider Jane Doe (self_employed_personal_assistant) is not on demo-shire's framework, so before the agreement starts it needs: public liability insurance: expired on 2026-10-31"
        );
        let renewed = assistant(vec![
            check(CheckKind::PvgMembership, None),
            check(CheckKind::ProofOfSelfEmployment, Some("2027-04-05")),
            check(CheckKind::PublicLiabilityInsurance, Some("2026-10-31")),
            check(CheckKind::PublicLiabilityInsurance, Some(TODAY)),
        ]);
        assert_eq!(
            renewed.shortfalls(day(TODAY)),
            vec![],
            "valid through today"
        );
    }

    #[test]
    fn every_shortfall_is_listed_at_once() {
        assert_eq!(
            assistant(vec![]).shortfalls(day(TODAY)),
            vec![
                Shortfall::Missing(Requirement::PvgMembership),
                Shortfall::Missing(Requirement::ProofOfSelfEmployment),
                Shortfall::Missing(Requirement::PublicLiabilityInsurance),
            ]
        );
    }

    #[test]
    fn an_off_framework_service_needs_an_active_registration_or_a_registration_check() {
        let insured = check(CheckKind::PublicLiabilityInsurance, Some("2027-06-30"));
        let registered = ProviderStanding {
            kind: ProviderKind::RegisteredCareService,
            framework: Some(FrameworkStatus::OffFramework),
            care_service: Some(CareServiceStatus::Active),
            checks: vec![insured.clone()],
        };
        assert_eq!(registered.shortfalls(day(TODAY)), vec![]);
        let cancelled = ProviderStanding {
            care_service: Some(CareServiceStatus::Inactive),
            ..registered.clone()
        };
        assert_eq!(
            cancelled.shortfalls(day(TODAY)),
            vec![Shortfall::Missing(
                Requirement::CareInspectorateRegistration
            )]
        );
        let micro = ProviderStanding {
            kind: ProviderKind::MicroProvider,
            framework: None,
            care_service: None,
            checks: vec![insured, check(CheckKind::Registration, Some("2026-11-27"))],
        };
        assert_eq!(
            micro.shortfalls(day(TODAY)),
            vec![Shortfall::Expired(
                Requirement::CareInspectorateRegistration,
                day("2026-11-27")
            )]
        );
    }
}
