//! Eligibility against the authority's threshold (National Eligibility Framework risk
//! levels).
//!
//! What must stay true: a person is eligible exactly when their assessed risk is at or above
//! the authority's threshold; `no_risk` is never eligible whatever the threshold (which is
//! why a threshold cannot be `no_risk`); every decision carries a reason a person can read.

use sds_vocabulary::NamedEnum;

sds_vocabulary::wire_enum! {
    /// The risk to independence and wellbeing found at assessment, most serious first.
    pub enum EligibilityLevel("eligibility level") => sds_proto::v1::EligibilityLevel {
        Critical = "critical",
        Substantial = "substantial",
        Moderate = "moderate",
        Low = "low",
        NoRisk = "no_risk",
    }
}

sds_vocabulary::named_enum! {
    /// The least serious risk level an authority funds support for. It has no `no_risk`:
    /// an authority cannot fund people it has found to be at no risk.
    pub enum EligibilityThreshold("eligibility threshold") {
        Critical = "critical",
        Substantial = "substantial",
        Moderate = "moderate",
        Low = "low",
    }
}

impl EligibilityThreshold {
    /// The risk level this threshold admits last.
    pub fn level(self) -> EligibilityLevel {
        match self {
            EligibilityThreshold::Critical => EligibilityLevel::Critical,
            EligibilityThreshold::Substantial => EligibilityLevel::Substantial,
            EligibilityThreshold::Moderate => EligibilityLevel::Moderate,
            EligibilityThreshold::Low => EligibilityLevel::Low,
        }
    }
}

impl EligibilityLevel {
    /// 0 for the most serious risk; the declaration order of the enum.
    fn seriousness_rank(self) -> usize {
        EligibilityLevel::ALL
            .iter()
            .position(|level| *level == self)
            .unwrap_or(usize::MAX)
    }

    /// Whether this risk is as serious as `other` or more.
    pub fn is_at_least(self, other: EligibilityLevel) -> bool {
        self.seriousness_rank() <= other.seriousness_rank()
    }
}

/// The outcome of checking a level against a threshold, with the reason shown to the person
/// and recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityDecision {
    pub level: EligibilityLevel,
    pub threshold: EligibilityThreshold,
    pub eligible: bool,
    pub reason: String,
}

/// Decides eligibility: eligible when `level` is at or above `threshold`; `no_risk` never.
pub fn decide_eligibility(
    level: EligibilityLevel,
    threshold: EligibilityThreshold,
) -> EligibilityDecision {
    let threshold_level = threshold.level();
    let (eligible, reason) = if level == EligibilityLevel::NoRisk {
        (
            false,
            "The assessment found no risk to independence or wellbeing, so funded support is not available; community resources may still help.".to_owned(),
        )
    } else if level.is_at_least(threshold_level) {
        (
            true,
            format!(
                "The assessed risk is {level}; this authority funds support for risks that are {threshold_level} or more serious, so the person is eligible."
            ),
        )
    } else {
        (
            false,
            format!(
                "The assessed risk is {level}; this authority funds support only for risks that are {threshold_level} or more serious, so the person is not eligible for funded support; community resources may still help."
            ),
        )
    };
    EligibilityDecision {
        level,
        threshold,
        eligible,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_at_or_above_the_threshold_is_eligible_and_no_risk_never_is() {
        use EligibilityLevel as L;
        use EligibilityThreshold as T;
        let cases = [
            (L::Critical, T::Critical, true),
            (L::Substantial, T::Critical, false),
            (L::Critical, T::Substantial, true),
            (L::Substantial, T::Substantial, true),
            (L::Moderate, T::Substantial, false),
            (L::Low, T::Substantial, false),
            (L::Moderate, T::Moderate, true),
            (L::Low, T::Moderate, false),
            (L::Low, T::Low, true),
            (L::Critical, T::Low, true),
            (L::NoRisk, T::Low, false),
            (L::NoRisk, T::Critical, false),
        ];
        for (level, threshold, eligible) in cases {
            let decision = decide_eligibility(level, threshold);
            assert_eq!(decision.eligible, eligible, "{level} against {threshold}");
        }
    }

    #[test]
    fn the_reason_names_the_level_and_the_threshold() {
        let refused = decide_eligibility(
            EligibilityLevel::Moderate,
            EligibilityThreshold::Substantial,
        );
        assert_eq!(
            refused.reason,
            "The assessed risk is moderate; this authority funds support only for risks that are substantial or more serious, so the person is not eligible for funded support; community resources may still help."
        );
        let granted = decide_eligibility(
            EligibilityLevel::Critical,
            EligibilityThreshold::Substantial,
        );
        assert!(granted.reason.contains("is eligible"), "{}", granted.reason);
        let no_risk = decide_eligibility(EligibilityLevel::NoRisk, EligibilityThreshold::Low);
        assert!(no_risk.reason.contains("no risk"), "{}", no_risk.reason);
    }
}
