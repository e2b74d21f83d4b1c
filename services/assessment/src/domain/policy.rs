//! An authority's assessment policy, effective-dated: its eligibility threshold, how it
//! works out budgets (a RAS and a standard hourly rate), its devolved approval limits, how
//! far back a variation may be dated, how often plans are reviewed, and its sending
//! location code for the PHS return.
//!
//! What must stay true: a policy is valid as a whole before any rule relies on it (every
//! fault named by its field path); an authority's versions have distinct effective dates;
//! the policy in effect on a date is the version with the latest effective date on or
//! before it, and there is none before the first.

use std::fmt;

use chrono::NaiveDate;
use sds_money::Money;
use sds_vocabulary::{AuthorityId, Invalid, shown};

use super::eligibility::EligibilityThreshold;
use super::limits::DevolvedLimits;
use super::ras::ResourceAllocationSystem;
use super::review::ReviewInterval;

/// At most ten years of backdating: older corrections are a matter for finance, not a
/// variation.
pub const MAX_BACKDATING_DAYS: u32 = 3650;

/// An authority's code in the PHS social care return (`sending_location`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SendingLocation(String);

impl SendingLocation {
    pub const MAX_CHARS: usize = 10;

    /// One to ten ASCII letters or digits, such as `100`: it stands unquoted in a CSV file.
    pub fn parse(field: &str, raw: &str) -> Result<SendingLocation, Invalid> {
        let text = raw.trim();
        if text.is_empty()
            || text.len() > Self::MAX_CHARS
            || !text.bytes().all(|byte| byte.is_ascii_alphanumeric())
        {
            return Err(Invalid::new(
                field,
                format!(
                    "is {}; a sending location is the authority's PHS code, 1 to {} letters or digits such as 100",
                    shown(raw),
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(SendingLocation(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SendingLocation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// One version of an authority's policy, in effect from `effective_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityPolicy {
    pub authority: AuthorityId,
    pub effective_from: NaiveDate,
    pub eligibility_threshold: EligibilityThreshold,
    /// The authority's RAS, when it uses one.
    pub ras: Option<ResourceAllocationSystem>,
    /// The standard hourly rate for budgets worked out as hours at rates, when it has one.
    pub standard_hourly_rate: Option<Money>,
    pub approval_limits: DevolvedLimits,
    /// How many days before the day it is recorded a variation may take effect.
    pub backdating_window_days: u32,
    pub review_interval: ReviewInterval,
    pub sending_location: SendingLocation,
}

impl AuthorityPolicy {
    /// Checks the whole policy; field names are relative to it (`ras.bands[1]`,
    /// `approval_limits.team_manager.adult`).
    pub fn validate(&self) -> Result<(), Invalid> {
        if let Some(ras) = &self.ras {
            ras.validate().map_err(|error| error.within("ras"))?;
        }
        // A rate of nothing would make every budget from hours nothing; leave the rate out
        // when the authority does not budget from hours.
        if let Some(rate) = self.standard_hourly_rate
            && (rate.is_negative() || rate.is_zero())
        {
            return Err(Invalid::new(
                "standard_hourly_rate",
                format!(
                    "is {rate}; a rate is above 0.00 (leave it out if budgets are not set from hours)"
                ),
            ));
        }
        self.approval_limits
            .validate()
            .map_err(|error| error.within("approval_limits"))?;
        if self.backdating_window_days > MAX_BACKDATING_DAYS {
            return Err(Invalid::new(
                "backdating_window_days",
                format!(
                    "is {}; a variation may be dated back at most {MAX_BACKDATING_DAYS} days",
                    self.backdating_window_days
                ),
            ));
        }
        self.review_interval.validate()?;
        Ok(())
    }
}

/// Checks every version of one authority's policy: each valid (`versions[2].ras...`), all
/// of the same authority, no two from the same date.
pub fn validate_policy_versions(versions: &[AuthorityPolicy]) -> Result<(), Invalid> {
    for (index, version) in versions.iter().enumerate() {
        let field = format!("versions[{index}]");
        version.validate().map_err(|error| error.within(&field))?;
        if let Some(first) = versions.first()
            && first.authority != version.authority
        {
            return Err(Invalid::new(
                format!("{field}.authority"),
                format!(
                    "is {}, but versions[0] is {}; give one authority's versions at a time",
                    version.authority, first.authority
                ),
            ));
        }
        if let Some(earlier) = versions[..index]
            .iter()
            .position(|earlier| earlier.effective_from == version.effective_from)
        {
            return Err(Invalid::new(
                format!("{field}.effective_from"),
                format!(
                    "is {}, the same as versions[{earlier}]; each version needs its own effective date",
                    version.effective_from
                ),
            ));
        }
    }
    Ok(())
}

/// The version in effect on `on`: the latest effective on or before it.
pub fn policy_in_effect(versions: &[AuthorityPolicy], on: NaiveDate) -> Option<&AuthorityPolicy> {
    versions
        .iter()
        .filter(|version| version.effective_from <= on)
        .max_by_key(|version| version.effective_from)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::limits::{Limit, LimitsByAge};
    use crate::domain::ras::tests::example_ras;

    fn money(text: &str) -> Money {
        Money::parse(text).expect("test amounts are valid")
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
    }

    /// Practitioners 275.00 (children) / 375.00 (adults), team managers 600.00 / 800.00,
    /// the panel unlimited; 90 days of backdating; reviews after 12 months.
    pub(crate) fn example_policy(effective_from: &str) -> AuthorityPolicy {
        AuthorityPolicy {
            authority: AuthorityId::parse("authority", "east-ayrshire").expect("valid id"),
            effective_from: date(effective_from),
            eligibility_threshold: EligibilityThreshold::Substantial,
            ras: Some(example_ras()),
            standard_hourly_rate: Some(money("23.50")),
            approval_limits: DevolvedLimits {
                practitioner: LimitsByAge {
                    child: Limit::UpTo(money("275.00")),
                    adult: Limit::UpTo(money("375.00")),
                },
                team_manager: LimitsByAge {
                    child: Limit::UpTo(money("600.00")),
                    adult: Limit::UpTo(money("800.00")),
                },
                panel: LimitsByAge {
                    child: Limit::Unlimited,
                    adult: Limit::Unlimited,
                },
            },
            backdating_window_days: 90,
            review_interval: ReviewInterval::Months(12),
            sending_location: SendingLocation::parse("sending_location", "100")
                .expect("valid code"),
        }
    }

    #[test]
    fn the_policy_in_effect_is_the_latest_that_started_on_or_before_the_date() {
        let versions = [
            example_policy("2026-04-01"),
            example_policy("2025-04-01"),
            example_policy("2027-04-01"),
        ];
        let cases = [
            ("2025-03-31", None),
            ("2025-04-01", Some("2025-04-01")),
            ("2026-03-31", Some("2025-04-01")),
            ("2026-04-01", Some("2026-04-01")),
            ("2030-01-01", Some("2027-04-01")),
        ];
        for (on, expected) in cases {
            assert_eq!(
                policy_in_effect(&versions, date(on)).map(|policy| policy.effective_from),
                expected.map(date),
                "on {on}"
            );
        }
    }

    #[test]
    fn a_faulty_policy_is_refused_with_the_path_of_the_field_at_fault() {
        let mut bad_band = example_policy("2026-04-01");
        if let Some(ras) = &mut bad_band.ras {
            ras.bands[1].from_points = 5;
        }
        let mut bad_limits = example_policy("2026-04-01");
        bad_limits.approval_limits.team_manager.child = Limit::UpTo(money("275.00"));
        let mut bad_rate = example_policy("2026-04-01");
        bad_rate.standard_hourly_rate = Some(money("-1.00"));
        let mut zero_rate = example_policy("2026-04-01");
        zero_rate.standard_hourly_rate = Some(money("0.00"));
        let mut bad_window = example_policy("2026-04-01");
        bad_window.backdating_window_days = 4000;
        let mut bad_review = example_policy("2026-04-01");
        bad_review.review_interval = ReviewInterval::Days(0);
        let cases = [
            (bad_band, "ras.bands[1]"),
            (bad_limits, "approval_limits.team_manager.child"),
            (bad_rate, "standard_hourly_rate"),
            (zero_rate, "standard_hourly_rate"),
            (bad_window, "backdating_window_days"),
            (bad_review, "review_interval"),
        ];
        for (policy, field) in cases {
            assert_eq!(policy.validate().unwrap_err().field(), field);
        }
        assert!(example_policy("2026-04-01").validate().is_ok());
    }

    #[test]
    fn versions_of_one_authority_need_their_own_effective_dates() {
        let same_date = [example_policy("2026-04-01"), example_policy("2026-04-01")];
        assert_eq!(
            validate_policy_versions(&same_date).unwrap_err().field(),
            "versions[1].effective_from"
        );
        let mut other = example_policy("2027-04-01");
        other.authority = AuthorityId::parse("authority", "fife").unwrap();
        let mixed = [example_policy("2026-04-01"), other];
        assert_eq!(
            validate_policy_versions(&mixed).unwrap_err().field(),
            "versions[1].authority"
        );
        let mut faulty = example_policy("2027-04-01");
        faulty.review_interval = ReviewInterval::Months(0);
        let with_fault = [example_policy("2026-04-01"), faulty];
        assert_eq!(
            validate_policy_versions(&with_fault).unwrap_err().field(),
            "versions[1].review_interval"
        );
    }

    #[test]
    fn a_sending_location_is_a_short_code_of_letters_or_digits() {
        assert_eq!(
            SendingLocation::parse("sending_location", " 100 ")
                .unwrap()
                .as_str(),
            "100"
        );
        for bad in ["", "10 0", "100,", "12345678901"] {
            assert!(
                SendingLocation::parse("sending_location", bad).is_err(),
                "{bad:?}"
            );
        }
    }
}
