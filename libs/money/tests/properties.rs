//! Property tests of the money rules: rounding, calendars tiling time, and the schedule
//! rule never creating or losing a penny over random plan histories.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use sds_money::{
    AccrualLine, Calendar, Money, PlanVersion, ScheduleRequest, Timing, accrued_sevenths,
    compute_schedule, round_to_penny, sevenths_to_pence,
};

const CASES: u32 = 256;

fn base_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).expect("2020-01-01 is a date")
}

fn day(offset: u64) -> NaiveDate {
    base_date()
        .checked_add_days(Days::new(offset))
        .expect("test offsets stay near 2020")
}

fn calendar_strategy() -> impl Strategy<Value = Calendar> {
    prop_oneof![
        (0_u64..4000).prop_map(|offset| Calendar::FourWeekly {
            anchor: day(offset)
        }),
        Just(Calendar::Quarterly),
        Just(Calendar::Monthly),
    ]
}

fn timing_strategy() -> impl Strategy<Value = Timing> {
    prop_oneof![Just(Timing::Advance), Just(Timing::Arrears)]
}

/// A line starting within about five years of 2020, up to 10,000.00 a week, ending
/// within about three years of its start or open-ended.
fn line_strategy() -> impl Strategy<Value = AccrualLine> {
    (
        0_i64..=1_000_000,
        0_u64..1800,
        proptest::option::of(0_u64..1100),
    )
        .prop_map(|(weekly_pence, start_offset, length)| {
            let start = day(start_offset);
            let end = length.map(|days| day(start_offset + days));
            AccrualLine::new(
                Money::from_pence(weekly_pence).expect("in range"),
                start,
                end,
            )
            .expect("non-negative amount and end on or after start")
        })
}

/// A line as above, one time in four the person's contribution (taken off what is owed).
fn line_or_contribution_strategy() -> impl Strategy<Value = AccrualLine> {
    (line_strategy(), 0_u8..4).prop_map(
        |(line, pick)| {
            if pick == 0 { line.contribution() } else { line }
        },
    )
}

/// Pence of the rounded accrual of `lines` over the whole listed span.
fn rounded_span_accrual(lines: &[AccrualLine], from: NaiveDate, to: NaiveDate) -> i128 {
    sevenths_to_pence(accrued_sevenths(lines, from, to))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn with_one_version_known_from_the_start_instalments_add_up_to_the_rounded_accrual_of_the_span(
        calendar in calendar_strategy(),
        timing in timing_strategy(),
        payment_lag_days in 0_u32..60,
        lines in proptest::collection::vec(line_strategy(), 1..4),
        until_after_start in 0_u64..1500,
    ) {
        let earliest_start = lines.iter().map(AccrualLine::start).min().expect("at least one line");
        let span_start = calendar.period_containing(earliest_start).start;
        let until = earliest_start.checked_add_days(Days::new(until_after_start)).expect("near 2020");
        let request = ScheduleRequest {
            calendar,
            timing,
            payment_lag_days,
            until,
            versions: vec![PlanVersion { recorded_on: span_start, lines: lines.clone() }],
        };
        let schedule = compute_schedule(&request).expect("valid request");
        let last_end = schedule.instalments.last().expect("at least one period").period.end;
        let total: i128 = schedule.instalments.iter().map(|i| i128::from(i.amount.pence())).sum();
        prop_assert_eq!(total, rounded_span_accrual(&lines, span_start, last_end));
        prop_assert_eq!(schedule.closing_settlement, Money::zero());
        for instalment in &schedule.instalments {
            prop_assert_eq!(instalment.amount, instalment.base);
            prop_assert!(instalment.adjustment.is_zero());
        }
    }

    #[test]
    fn periods_of_every_calendar_tile_time_without_gaps_or_overlaps(
        calendar in calendar_strategy(),
        offset in 0_u64..40_000,
        count in 1_usize..40,
    ) {
        let date = day(offset);
        let first = calendar.period_containing(date);
        prop_assert!(first.contains(date));
        let mut previous = first;
        for _ in 0..count {
            let next = calendar.period_after(&previous).expect("far from the end of time");
            prop_assert_eq!(Some(next.start), previous.end.succ_opt());
            prop_assert!(next.start <= next.end);
            let allowed_lengths = match calendar {
                Calendar::FourWeekly { .. } => 28..=28,
                Calendar::Quarterly => 90..=92,
                Calendar::Monthly => 28..=31,
            };
            prop_assert!(allowed_lengths.contains(&next.days()), "{:?}", next);
            prop_assert_eq!(calendar.period_containing(next.start), next);
            prop_assert_eq!(calendar.period_containing(next.end), next);
            previous = next;
        }
        let listed: Vec<_> = calendar.periods(date, previous.end).collect();
        prop_assert_eq!(listed.len(), count + 1);
    }

    #[test]
    fn for_any_history_no_instalment_is_negative_and_paid_plus_settlement_is_the_final_accrual(
        calendar in calendar_strategy(),
        timing in timing_strategy(),
        payment_lag_days in 0_u32..60,
        histories in proptest::collection::btree_map(
            0_u64..2500,
            proptest::collection::vec(line_or_contribution_strategy(), 0..4),
            1..5,
        ),
        first_lines in proptest::collection::vec(line_strategy(), 1..3),
        until_after_start in 0_u64..2000,
    ) {
        // Distinct recorded_on dates come from the map keys; the first version always
        // has a line so the history accrues something.
        let mut versions: Vec<PlanVersion> = histories
            .into_iter()
            .map(|(offset, lines)| PlanVersion { recorded_on: day(offset), lines })
            .collect();
        versions[0].lines.extend(first_lines);
        let earliest_start = versions
            .iter()
            .flat_map(|version| version.lines.iter().map(AccrualLine::start))
            .min()
            .expect("the first version has lines");
        let until = earliest_start.checked_add_days(Days::new(until_after_start)).expect("near 2020");
        let final_lines = versions.last().expect("at least one version").lines.clone();
        let request = ScheduleRequest { calendar, timing, payment_lag_days, until, versions };
        let schedule = compute_schedule(&request).expect("valid request");

        let span_start = calendar.period_containing(earliest_start).start;
        let last_end = schedule.instalments.last().expect("at least one period").period.end;
        let mut total_paid = 0_i128;
        for instalment in &schedule.instalments {
            prop_assert!(!instalment.amount.is_negative(), "{:?}", instalment);
            prop_assert_eq!(
                instalment.adjustment.pence(),
                instalment.amount.pence() - instalment.base.pence()
            );
            total_paid += i128::from(instalment.amount.pence());
        }
        prop_assert_eq!(
            total_paid + i128::from(schedule.closing_settlement.pence()),
            rounded_span_accrual(&final_lines, span_start, last_end)
        );
    }

    #[test]
    fn money_display_and_parse_round_trip(pence in -99_999_999_999_999_i64..=99_999_999_999_999) {
        let money = Money::from_pence(pence).expect("in range");
        let shown = money.to_string();
        let decimals = shown.rsplit_once('.').map(|(_, fraction)| fraction.len());
        prop_assert_eq!(decimals, Some(2));
        let parsed = Money::parse(&shown).expect("displayed money parses");
        prop_assert_eq!(parsed, money);
        prop_assert_eq!(parsed.pence(), pence);
        let json = serde_json::to_string(&money).expect("serializes");
        prop_assert_eq!(serde_json::from_str::<Money>(&json).expect("deserializes"), money);
    }

    #[test]
    fn parsing_one_or_no_decimal_places_reads_the_same_amount(
        pounds in 0_i64..1_000_000_000_000,
        tenths in 0_i64..10,
        negative in any::<bool>(),
    ) {
        let sign = if negative { "-" } else { "" };
        let one_place = Money::parse(&format!("{sign}{pounds}.{tenths}")).expect("valid");
        let expected_pence = (pounds * 100 + tenths * 10) * if negative { -1 } else { 1 };
        prop_assert_eq!(one_place.pence(), expected_pence);
        let whole = Money::parse(&format!("{sign}{pounds}")).expect("valid");
        prop_assert_eq!(whole.pence(), pounds * 100 * if negative { -1 } else { 1 });
    }

    #[test]
    fn rounding_a_half_penny_goes_away_from_zero(pence in 0_i64..1_000_000_000_000) {
        // pence + 0.5 of a penny, as pounds with three decimal places.
        let half_above = Decimal::new(pence * 10 + 5, 3);
        prop_assert_eq!(round_to_penny(half_above), Decimal::new(pence + 1, 2));
        prop_assert_eq!(round_to_penny(-half_above), Decimal::new(-(pence + 1), 2));
        let just_below = Decimal::new(pence * 10_000 + 4_999, 6);
        prop_assert_eq!(round_to_penny(just_below), Decimal::new(pence, 2));
    }
}
