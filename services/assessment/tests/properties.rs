//! Property tests of line amounts: whatever form an amount is given in (weekly, annual, or
//! hours a week at a rate), a budget year of 364 days accrues exactly the annual figure, and
//! over any span the rounded accrual is within half a penny of the exact one, worked out
//! here independently from the figures as given.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use sds_assessment::domain::amount::{GivenAmount, LineAmount};
use sds_assessment::domain::line::{LineSpan, PlanLine, SupportType};
use sds_assessment::domain::option::Arrangement;
use sds_money::{AccrualLine, Money, rounded_accrual};

const CASES: u32 = 512;

fn base_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 4, 1).expect("2026-04-01 is a date")
}

fn day(offset: u64) -> NaiveDate {
    base_date()
        .checked_add_days(Days::new(offset))
        .expect("test offsets stay near 2026")
}

fn money(pence: i64) -> Money {
    Money::from_pence(pence).expect("test amounts are in range")
}

/// A given amount and, independently of the crate, its exact annual figure as a fraction
/// `numerator / denominator` pence (a 364-day year).
#[derive(Debug, Clone, Copy)]
struct Case {
    given: GivenAmount,
    annual_numerator: i128,
    annual_denominator: i128,
}

fn given_strategy() -> impl Strategy<Value = Case> {
    prop_oneof![
        // Up to 100,000.00 a week.
        (0_i64..=10_000_000).prop_map(|weekly| Case {
            given: GivenAmount::Weekly {
                per_week: money(weekly)
            },
            annual_numerator: 52 * i128::from(weekly),
            annual_denominator: 1,
        }),
        // Up to 5,000,000.00 a year.
        (0_i64..=500_000_000).prop_map(|annual| Case {
            given: GivenAmount::Annual {
                per_year: money(annual)
            },
            annual_numerator: i128::from(annual),
            annual_denominator: 1,
        }),
        // 0.01 to 168.00 hours a week at up to 500.00 an hour: 52 x h x r pence a year.
        (1_i64..=16_800, 0_i64..=50_000).prop_map(|(hundredths, rate)| Case {
            given: GivenAmount::HoursAtRate {
                hours_per_week: Decimal::new(hundredths, 2),
                hourly_rate: money(rate),
            },
            annual_numerator: 52 * i128::from(hundredths) * i128::from(rate),
            annual_denominator: 100,
        }),
    ]
}

fn line(case: Case, start: NaiveDate, end: Option<NaiveDate>) -> PlanLine {
    PlanLine {
        number: 1,
        support_type: SupportType::PersonalCare,
        amount: LineAmount::new(case.given).expect("the strategy gives valid amounts"),
        arrangement: Arrangement::DirectPayment,
        span: LineSpan::new(start, end).expect("the strategy ends lines after they start"),
    }
}

/// `numerator / denominator` rounded half away from zero, for non-negative numerators.
fn rounded(numerator: i128, denominator: i128) -> i128 {
    (2 * numerator + denominator) / (2 * denominator)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn a_year_of_364_days_accrues_the_annual_figure_to_the_penny(
        case in given_strategy(),
        start_offset in 0_u64..2000,
    ) {
        let start = day(start_offset);
        let last_day = day(start_offset + 363);
        let open = line(case, start, None);
        let accrued = open.accrued_between(start, last_day).rounded_pence();
        prop_assert_eq!(accrued, rounded(case.annual_numerator, case.annual_denominator));
        // A line ending on the last day of the year accrues the same.
        let closed = line(case, start, Some(last_day));
        prop_assert_eq!(closed.accrued_between(day(0), day(4000)).rounded_pence(), accrued);
    }

    #[test]
    fn over_any_span_the_accrual_is_within_half_a_penny_of_the_exact_figure(
        case in given_strategy(),
        start_offset in 0_u64..1000,
        length in proptest::option::of(0_u64..1500),
        from_offset in 0_u64..2500,
        span_days in 0_u64..2500,
    ) {
        let line = line(case, day(start_offset), length.map(|days| day(start_offset + days)));
        let from = day(from_offset);
        let to = day(from_offset + span_days);
        let active_days = i128::from(line.span.active_days_between(from, to));
        let pence = line.accrued_between(from, to).rounded_pence();
        // Exact accrual = annual x days / 364; compare without dividing:
        // |pence - N x days / (D x 364)| <= 1/2.
        let scale = case.annual_denominator * 364;
        let exact_scaled = case.annual_numerator * active_days;
        prop_assert!(
            (pence * scale - exact_scaled).abs() * 2 <= scale,
            "{} pence for {} days of {:?}", pence, active_days, case.given
        );
    }

    #[test]
    fn a_weekly_line_accrues_exactly_what_the_payment_schedule_accrues(
        weekly in 0_i64..=10_000_000,
        start_offset in 0_u64..1000,
        length in proptest::option::of(0_u64..1500),
        from_offset in 0_u64..2500,
        span_days in 0_u64..2500,
    ) {
        let start = day(start_offset);
        let end = length.map(|days| day(start_offset + days));
        let case = Case {
            given: GivenAmount::Weekly { per_week: money(weekly) },
            annual_numerator: 0,
            annual_denominator: 1,
        };
        let plan_line = line(case, start, end);
        let payment_line = AccrualLine::new(money(weekly), start, end).expect("valid line");
        let from = day(from_offset);
        let to = day(from_offset + span_days);
        let ours = plan_line.accrued_between(from, to).rounded();
        let theirs = rounded_accrual(&[payment_line], from, to).ok();
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn splitting_a_span_loses_or_creates_at_most_a_penny_and_exact_sums_lose_nothing(
        case in given_strategy(),
        split in 0_u64..700,
        rest in 0_u64..700,
    ) {
        let line = line(case, day(0), None);
        let first = line.accrued_between(day(0), day(split));
        let second = line.accrued_between(day(split + 1), day(split + 1 + rest));
        let whole = line.accrued_between(day(0), day(split + 1 + rest));
        prop_assert_eq!(first.plus(second), whole);
        let drift = first.rounded_pence() + second.rounded_pence() - whole.rounded_pence();
        prop_assert!(drift.abs() <= 1, "drift {}", drift);
    }
}
