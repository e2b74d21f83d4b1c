//! The terms of an agreement that payments follows: how often and when money is paid,
//! whether on the schedule or on reported delivery, how far delivery may differ without
//! query, the management fee, notice, review, the span of the agreement and who is paid.
//!
//! What must stay true: terms that exist are consistent (an actuals-based agreement is
//! paid in arrears, since delivery is known only after a period; a review falls within the
//! agreement; the end is not before the start); the payee follows from who holds the fund,
//! never from a free choice.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::{Calendar, Timing};
use sds_vocabulary::{Invalid, shown};
use uuid::Uuid;

use super::fee::ManagementFee;

/// The longest payment lag after a period in arrears: a quarter.
pub const MAX_LAG_DAYS: u32 = 90;
/// The longest notice period: a year.
pub const MAX_NOTICE_DAYS: u32 = 365;

sds_vocabulary::wire_enum! {
    /// How often an agreement is paid.
    pub enum Frequency("payment frequency") => sds_proto::v1::PaymentFrequency {
        /// 28-day periods from the authority's anchor date.
        FourWeekly = "four_weekly",
        /// The quarters of the UK financial year.
        Quarterly = "quarterly",
        /// Calendar months.
        Monthly = "monthly",
    }
}

impl Frequency {
    /// The calendar payments cuts periods on; four-weekly periods count from `anchor`.
    pub fn calendar(self, anchor: NaiveDate) -> Calendar {
        match self {
            Frequency::FourWeekly => Calendar::FourWeekly { anchor },
            Frequency::Quarterly => Calendar::Quarterly,
            Frequency::Monthly => Calendar::Monthly,
        }
    }
}

/// When a period's money is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentTiming {
    /// On the first day of the period.
    Advance,
    /// `lag_days` after the period's last day (0 to [`MAX_LAG_DAYS`]).
    Arrears { lag_days: u32 },
}

impl PaymentTiming {
    /// As `sds_money` computes due dates: the timing and its lag.
    pub fn schedule_timing(self) -> (Timing, u32) {
        match self {
            PaymentTiming::Advance => (Timing::Advance, 0),
            PaymentTiming::Arrears { lag_days } => (Timing::Arrears, lag_days),
        }
    }
}

sds_vocabulary::wire_enum! {
    /// What a period's payment follows.
    pub enum PaymentBasis("payment basis") => sds_proto::v1::PaymentBasis {
        /// The planned amounts.
        Scheduled = "scheduled",
        /// The delivery the provider reports for the period (flex).
        Actuals = "actuals",
    }
}

sds_vocabulary::wire_enum! {
    /// Who holds the person's fund (the plan line's holding model).
    pub enum HoldingModel("holding model") => sds_proto::v1::FundHoldingModel {
        ThirdParty = "third_party",
        Provider = "provider",
        Authority = "authority",
    }
}

/// Who receives the money under an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payee {
    /// The provider: into the person's fund it holds, or paid directly by an authority
    /// that holds the fund in its own books.
    Provider { provider_id: Uuid },
    /// The third party holding the fund, who pays providers and purchases from it.
    Holder { holder_id: Uuid },
}

impl Payee {
    /// The payee that follows from the holding model: a third-party holder is paid and
    /// pays the provider; otherwise the provider is paid (into the fund it holds, or
    /// directly from an authority-held fund).
    pub fn follows_from(
        model: HoldingModel,
        provider_id: Uuid,
        holder_id: Option<Uuid>,
    ) -> Result<Payee, Invalid> {
        match (model, holder_id) {
            (HoldingModel::ThirdParty, Some(holder_id)) => Ok(Payee::Holder { holder_id }),
            (HoldingModel::ThirdParty, None) => Err(Invalid::new(
                "holder",
                "is missing; a fund held by a third party names the holder, who is paid",
            )),
            (HoldingModel::Provider | HoldingModel::Authority, _) => {
                Ok(Payee::Provider { provider_id })
            }
        }
    }
}

/// The terms as given, before they are known to fit together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsDraft {
    pub frequency: Frequency,
    pub timing: PaymentTiming,
    pub basis: PaymentBasis,
    /// Percent, 0 to 100 with at most 2 decimal places.
    pub flex_tolerance_percent: Decimal,
    pub fee: ManagementFee,
    pub notice_days: u32,
    pub review_on: NaiveDate,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// Terms that fit together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms(TermsDraft);

impl Terms {
    /// Checks the draft; refusals name the field under `field` (`terms.notice_days`).
    pub fn new(field: &str, draft: TermsDraft) -> Result<Terms, Invalid> {
        let within = |invalid: Invalid| invalid.within(field);
        let fee = payment_rules(
            draft.timing,
            draft.basis,
            draft.flex_tolerance_percent,
            draft.fee,
            draft.notice_days,
        )
        .map_err(within)?;
        if let Some(end) = draft.end
            && end < draft.start
        {
            return Err(within(Invalid::new(
                "end",
                format!(
                    "{end} is before the start, {}; an agreement ends on or after it starts",
                    draft.start
                ),
            )));
        }
        if draft.review_on <= draft.start || draft.end.is_some_and(|end| draft.review_on > end) {
            return Err(within(Invalid::new(
                "review_on",
                format!(
                    "{} is not within the agreement ({} to {}); a review falls after the start and by the end",
                    draft.review_on,
                    draft.start,
                    draft
                        .end
                        .map_or_else(|| "open-ended".to_owned(), |end| end.to_string())
                ),
            )));
        }
        Ok(Terms(TermsDraft { fee, ..draft }))
    }

    /// The terms as a draft, to change some and check them again.
    pub fn to_draft(&self) -> TermsDraft {
        self.0.clone()
    }

    pub fn frequency(&self) -> Frequency {
        self.0.frequency
    }
    pub fn timing(&self) -> PaymentTiming {
        self.0.timing
    }
    pub fn basis(&self) -> PaymentBasis {
        self.0.basis
    }
    pub fn flex_tolerance_percent(&self) -> Decimal {
        self.0.flex_tolerance_percent
    }
    pub fn fee(&self) -> ManagementFee {
        self.0.fee
    }
    pub fn notice_days(&self) -> u32 {
        self.0.notice_days
    }
    pub fn review_on(&self) -> NaiveDate {
        self.0.review_on
    }
    pub fn start(&self) -> NaiveDate {
        self.0.start
    }
    pub fn end(&self) -> Option<NaiveDate> {
        self.0.end
    }

    /// The last day of support when notice is given on `given_on`: the notice period's
    /// last day, or the agreement's own end if that comes first.
    pub fn last_day_after_notice(&self, given_on: NaiveDate) -> NaiveDate {
        let notice_ends = given_on
            .checked_add_days(chrono::Days::new(u64::from(self.0.notice_days)))
            .unwrap_or(NaiveDate::MAX);
        match self.0.end {
            Some(end) => end.min(notice_ends),
            None => notice_ends,
        }
    }
}

/// The rules agreed terms and an authority's defaults share: a lag of at most
/// [`MAX_LAG_DAYS`], actuals only in arrears, a tolerance of 0-100 percent to two places, a
/// sound fee and at most [`MAX_NOTICE_DAYS`] of notice. Refusals name the part
/// (`timing.arrears.lag_days`, `basis`, `fee.percent`, ...). Returns the fee as checked.
pub(crate) fn payment_rules(
    timing: PaymentTiming,
    basis: PaymentBasis,
    flex_tolerance_percent: Decimal,
    fee: ManagementFee,
    notice_days: u32,
) -> Result<ManagementFee, Invalid> {
    if let PaymentTiming::Arrears { lag_days } = timing
        && lag_days > MAX_LAG_DAYS
    {
        return Err(Invalid::new(
            "timing.arrears.lag_days",
            format!(
                "is {lag_days}; arrears are paid at most {MAX_LAG_DAYS} days after the period ends"
            ),
        ));
    }
    if basis == PaymentBasis::Actuals && timing == PaymentTiming::Advance {
        return Err(Invalid::new(
            "basis",
            "is actuals, but the timing is advance; payment on reported delivery is made in arrears, once the period's delivery is known",
        ));
    }
    if flex_tolerance_percent < Decimal::ZERO
        || flex_tolerance_percent > Decimal::ONE_HUNDRED
        || flex_tolerance_percent.normalize().scale() > 2
    {
        return Err(Invalid::new(
            "flex_tolerance_percent",
            format!(
                "is {}; a tolerance is 0 to 100 percent with at most 2 decimal places, such as 10",
                shown(&flex_tolerance_percent.to_string())
            ),
        ));
    }
    let fee = fee.checked("fee")?;
    if notice_days > MAX_NOTICE_DAYS {
        return Err(Invalid::new(
            "notice_days",
            format!("is {notice_days}; notice is at most {MAX_NOTICE_DAYS} days"),
        ));
    }
    Ok(fee)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fee::FeePlacement;
    use rust_decimal_macros::dec;
    use sds_money::Money;

    #[test]
    fn names_follow_the_wire() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<Frequency>();
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<PaymentBasis>();
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<HoldingModel>();
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn draft() -> TermsDraft {
        TermsDraft {
            frequency: Frequency::FourWeekly,
            timing: PaymentTiming::Arrears { lag_days: 14 },
            basis: PaymentBasis::Actuals,
            flex_tolerance_percent: dec!(10),
            fee: ManagementFee::Percentage {
                percent: dec!(7.5),
                placement: FeePlacement::WithinBudget,
            },
            notice_days: 28,
            review_on: day("2027-04-01"),
            start: day("2026-10-01"),
            end: None,
        }
    }

    #[test]
    fn terms_that_fit_together_are_kept_as_given() {
        let terms = Terms::new("terms", draft()).expect("terms");
        assert_eq!(terms.frequency(), Frequency::FourWeekly);
        assert_eq!(terms.timing().schedule_timing(), (Timing::Arrears, 14));
        assert_eq!(
            Terms::new(
                "terms",
                TermsDraft {
                    timing: PaymentTiming::Advance,
                    basis: PaymentBasis::Scheduled,
                    end: Some(day("2027-09-30")),
                    review_on: day("2027-09-30"),
                    ..draft()
                }
            )
            .map(|terms| terms.end()),
            Ok(Some(day("2027-09-30"))),
            "a review on the last day is within the agreement"
        );
    }

    #[test]
    fn terms_that_do_not_fit_are_refused_naming_the_field() {
        let cases: Vec<(TermsDraft, &str)> = vec![
            (
                TermsDraft {
                    timing: PaymentTiming::Arrears { lag_days: 91 },
                    ..draft()
                },
                "terms.timing.arrears.lag_days",
            ),
            (
                TermsDraft {
                    timing: PaymentTiming::Advance,
                    ..draft()
                },
                "terms.basis",
            ),
            (
                TermsDraft {
                    flex_tolerance_percent: dec!(-1),
                    ..draft()
                },
                "terms.flex_tolerance_percent",
            ),
            (
                TermsDraft {
                    flex_tolerance_percent: dec!(100.5),
                    ..draft()
                },
                "terms.flex_tolerance_percent",
            ),
            (
                TermsDraft {
                    flex_tolerance_percent: dec!(2.555),
                    ..draft()
                },
                "terms.flex_tolerance_percent",
            ),
            (
                TermsDraft {
                    fee: ManagementFee::FlatWeekly {
                        per_week: Money::zero(),
                    },
                    ..draft()
                },
                "terms.fee.per_week",
            ),
            (
                TermsDraft {
                    notice_days: 366,
                    ..draft()
                },
                "terms.notice_days",
            ),
            (
                TermsDraft {
                    end: Some(day("2026-09-30")),
                    ..draft()
                },
                "terms.end",
            ),
            (
                TermsDraft {
                    review_on: day("2026-10-01"),
                    ..draft()
                },
                "terms.review_on",
            ),
            (
                TermsDraft {
                    end: Some(day("2027-03-31")),
                    ..draft()
                },
                "terms.review_on",
            ),
        ];
        for (given, field) in cases {
            let refusal = Terms::new("terms", given.clone()).expect_err("refused");
            assert_eq!(refusal.field(), field, "{given:?}: {refusal}");
        }
    }

    #[test]
    fn the_payee_follows_from_who_holds_the_fund() {
        let provider = Uuid::from_u128(1);
        let holder = Uuid::from_u128(2);
        assert_eq!(
            Payee::follows_from(HoldingModel::ThirdParty, provider, Some(holder)),
            Ok(Payee::Holder { holder_id: holder })
        );
        assert_eq!(
            Payee::follows_from(HoldingModel::Provider, provider, None),
            Ok(Payee::Provider {
                provider_id: provider
            })
        );
        assert_eq!(
            Payee::follows_from(HoldingModel::Authority, provider, None),
            Ok(Payee::Provider {
                provider_id: provider
            })
        );
        assert_eq!(
            Payee::follows_from(HoldingModel::ThirdParty, provider, None)
                .map_err(|invalid| invalid.field().to_owned()),
            Err("holder".to_owned())
        );
    }

    #[test]
    fn notice_ends_support_after_its_days_or_at_the_agreements_end() {
        let open = Terms::new("terms", draft()).expect("terms");
        assert_eq!(
            open.last_day_after_notice(day("2027-01-10")),
            day("2027-02-07")
        );
        let ending = Terms::new(
            "terms",
            TermsDraft {
                end: Some(day("2027-01-31")),
                review_on: day("2027-01-15"),
                ..draft()
            },
        )
        .expect("terms");
        assert_eq!(
            ending.last_day_after_notice(day("2027-01-10")),
            day("2027-01-31")
        );
    }

    #[test]
    fn each_frequency_cuts_the_calendar_payments_uses() {
        let anchor = day("2026-04-06");
        assert_eq!(
            Frequency::FourWeekly.calendar(anchor),
            Calendar::FourWeekly { anchor }
        );
        assert_eq!(Frequency::Quarterly.calendar(anchor), Calendar::Quarterly);
        assert_eq!(Frequency::Monthly.calendar(anchor), Calendar::Monthly);
    }
}
