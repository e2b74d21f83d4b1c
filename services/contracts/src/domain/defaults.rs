//! An authority's default terms: what its agreements are drafted with until someone
//! agrees otherwise. They carry no dates of their own, only the review interval, so one
//! set of defaults turns into the terms of any agreement through [`DefaultTerms::terms_for`].

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use sds_vocabulary::Invalid;

use super::fee::ManagementFee;
use super::terms::{Frequency, PaymentBasis, PaymentTiming, Terms, TermsDraft, payment_rules};

/// The longest first review interval, in months: five years.
pub const MAX_REVIEW_AFTER_MONTHS: u32 = 60;

/// The defaults as they arrive, before they are known to fit together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultTermsDraft {
    pub frequency: Frequency,
    pub timing: PaymentTiming,
    pub basis: PaymentBasis,
    pub flex_tolerance_percent: Decimal,
    pub fee: ManagementFee,
    pub notice_days: u32,
    pub review_after_months: u32,
}

/// Default terms that fit together; only [`DefaultTerms::new`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultTerms(DefaultTermsDraft);

impl DefaultTerms {
    /// Checks the draft, naming a field at fault by its path within `field`. The rules are
    /// those of agreed [`Terms`], so defaults never draft terms that would be refused.
    pub fn new(field: &str, draft: DefaultTermsDraft) -> Result<DefaultTerms, Invalid> {
        let within = |invalid: Invalid| invalid.within(field);
        let fee = payment_rules(
            draft.timing,
            draft.basis,
            draft.flex_tolerance_percent,
            draft.fee,
            draft.notice_days,
        )
        .map_err(within)?;
        if draft.review_after_months == 0 || draft.review_after_months > MAX_REVIEW_AFTER_MONTHS {
            return Err(within(Invalid::new(
                "review_after_months",
                format!(
                    "is {}; the first review is 1 to {MAX_REVIEW_AFTER_MONTHS} months after the start",
                    draft.review_after_months
                ),
            )));
        }
        Ok(DefaultTerms(DefaultTermsDraft { fee, ..draft }))
    }

    pub fn draft(&self) -> &DefaultTermsDraft {
        &self.0
    }

    /// The terms of an agreement from `start` (to `end`, if it has one) drafted with these
    /// defaults. The first review falls `review_after_months` after the start, or on the
    /// last day of a shorter agreement, so that it is reviewed before it ends.
    pub fn terms_for(&self, start: NaiveDate, end: Option<NaiveDate>) -> Result<Terms, Invalid> {
        let after = start
            .checked_add_months(Months::new(self.0.review_after_months))
            .ok_or_else(|| {
                Invalid::new(
                    "start",
                    format!("{start} is too late for a review to follow it"),
                )
            })?;
        let review_on = end.map_or(after, |end| after.min(end));
        Terms::new(
            "terms",
            TermsDraft {
                frequency: self.0.frequency,
                timing: self.0.timing,
                basis: self.0.basis,
                flex_tolerance_percent: self.0.flex_tolerance_percent,
                fee: self.0.fee,
                notice_days: self.0.notice_days,
                review_on,
                start,
                end,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fee::FeePlacement;
    use rust_decimal_macros::dec;
    use sds_money::Money;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn draft() -> DefaultTermsDraft {
        DefaultTermsDraft {
            frequency: Frequency::FourWeekly,
            timing: PaymentTiming::Arrears { lag_days: 14 },
            basis: PaymentBasis::Actuals,
            flex_tolerance_percent: dec!(10),
            fee: ManagementFee::Percentage {
                percent: dec!(7.5),
                placement: FeePlacement::WithinBudget,
            },
            notice_days: 28,
            review_after_months: 6,
        }
    }

    #[test]
    fn defaults_that_fit_together_are_kept_as_given() {
        let defaults = DefaultTerms::new("terms", draft()).expect("defaults");
        assert_eq!(defaults.draft(), &draft());
        let edges = DefaultTermsDraft {
            timing: PaymentTiming::Arrears { lag_days: 90 },
            flex_tolerance_percent: dec!(100),
            notice_days: 365,
            review_after_months: 60,
            fee: ManagementFee::None,
            ..draft()
        };
        assert!(DefaultTerms::new("terms", edges).is_ok());
        let advance = DefaultTermsDraft {
            timing: PaymentTiming::Advance,
            basis: PaymentBasis::Scheduled,
            flex_tolerance_percent: dec!(0),
            notice_days: 0,
            review_after_months: 1,
            ..draft()
        };
        assert!(DefaultTerms::new("terms", advance).is_ok());
    }

    #[test]
    fn defaults_out_of_range_are_refused_by_field() {
        let cases = [
            (
                DefaultTermsDraft {
                    timing: PaymentTiming::Arrears { lag_days: 91 },
                    ..draft()
                },
                "terms.timing.arrears.lag_days",
            ),
            (
                DefaultTermsDraft {
                    timing: PaymentTiming::Advance,
                    ..draft()
                },
                "terms.basis",
            ),
            (
                DefaultTermsDraft {
                    flex_tolerance_percent: dec!(100.01),
                    ..draft()
                },
                "terms.flex_tolerance_percent",
            ),
            (
                DefaultTermsDraft {
                    flex_tolerance_percent: dec!(2.125),
                    ..draft()
                },
                "terms.flex_tolerance_percent",
            ),
            (
                DefaultTermsDraft {
                    fee: ManagementFee::FlatWeekly {
                        per_week: Money::zero(),
                    },
                    ..draft()
                },
                "terms.fee.per_week",
            ),
            (
                DefaultTermsDraft {
                    notice_days: 366,
                    ..draft()
                },
                "terms.notice_days",
            ),
            (
                DefaultTermsDraft {
                    review_after_months: 0,
                    ..draft()
                },
                "terms.review_after_months",
            ),
            (
                DefaultTermsDraft {
                    review_after_months: 61,
                    ..draft()
                },
                "terms.review_after_months",
            ),
        ];
        for (given, field) in cases {
            let refusal = DefaultTerms::new("terms", given).expect_err("refused");
            assert_eq!(refusal.field(), field, "{given:?}");
        }
    }

    #[test]
    fn the_first_review_falls_the_given_months_after_the_start_or_at_the_end() {
        let defaults = DefaultTerms::new("terms", draft()).expect("defaults");
        let open = defaults.terms_for(day("2026-10-01"), None).expect("terms");
        assert_eq!(open.review_on(), day("2027-04-01"));
        assert_eq!(open.notice_days(), 28);
        assert_eq!(open.fee(), draft().fee);
        let month_end = defaults.terms_for(day("2026-08-31"), None).expect("terms");
        assert_eq!(
            month_end.review_on(),
            day("2027-02-28"),
            "a month without the start's day ends the interval on its last day"
        );
        let short = defaults
            .terms_for(day("2026-10-01"), Some(day("2026-12-31")))
            .expect("terms");
        assert_eq!(short.review_on(), day("2026-12-31"));
        let longer = defaults
            .terms_for(day("2026-10-01"), Some(day("2028-03-31")))
            .expect("terms");
        assert_eq!(longer.review_on(), day("2027-04-01"));
    }

    #[test]
    fn an_agreement_of_one_day_leaves_no_room_for_a_review_and_is_refused() {
        let defaults = DefaultTerms::new("terms", draft()).expect("defaults");
        let refusal = defaults
            .terms_for(day("2026-10-01"), Some(day("2026-10-01")))
            .expect_err("refused");
        assert_eq!(refusal.field(), "terms.review_on");
    }
}
