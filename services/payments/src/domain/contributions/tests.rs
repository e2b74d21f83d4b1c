use super::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

use crate::domain::history::{AgreedVersion, ContributionVersion, Line, LineKind};
use crate::domain::terms::{Basis, Frequency, HoldingModel, PayeeKind, PaymentTiming};

fn day(iso: &str) -> NaiveDate {
    iso.parse().expect("a date")
}

fn four_weekly() -> ScheduleTerms {
    ScheduleTerms {
        agreement_id: Uuid::from_u128(1),
        authority: AuthorityId::parse("authority", "fife").unwrap(),
        person_id: Uuid::from_u128(2),
        provider_id: Uuid::from_u128(3),
        holding_model: HoldingModel::Provider,
        holder_id: None,
        payee_kind: PayeeKind::Provider,
        payee_id: Uuid::from_u128(3),
        frequency: Frequency::FourWeekly,
        anchor_date: Some(day("2026-04-06")),
        timing: PaymentTiming::Advance,
        payment_lag_days: 0,
        basis: Basis::Scheduled,
        flex_tolerance_percent: Decimal::TEN,
    }
}

fn contribution(version: u32, from: &str, recorded: &str, weekly: &str) -> ContributionVersion {
    ContributionVersion {
        version,
        effective_from: day(from),
        recorded_on: day(recorded),
        weekly: Money::parse(weekly).expect("an amount"),
    }
}

fn history(contributions: Vec<ContributionVersion>) -> History {
    History {
        versions: vec![AgreedVersion {
            version: 1,
            effective_from: day("2026-04-20"),
            recorded_on: day("2026-04-01"),
            lines: vec![Line {
                kind: LineKind::Support,
                plan_line: 1,
                support_type: "personal_care".to_owned(),
                weekly: Money::parse("210.00").expect("an amount"),
                start: day("2026-04-20"),
                end: None,
                hours_per_week: None,
            }],
        }],
        endings: vec![],
        actuals: vec![],
        contributions,
    }
}

fn shown(dues: &[Due]) -> Vec<String> {
    dues.iter()
        .map(|due| format!("{} {}", due.due_date, due.amount))
        .collect()
}

#[test]
fn each_period_falls_due_once_on_the_schedules_own_calendar() {
    let history = history(vec![contribution(1, "2026-04-20", "2026-04-02", "30.00")]);
    let dues = newly_due(
        &four_weekly(),
        &history,
        day("2026-06-01"),
        &BTreeMap::new(),
    );
    assert_eq!(
        shown(&dues),
        ["2026-04-06 6000", "2026-05-04 12000", "2026-06-01 12000"]
    );
    let already: BTreeMap<NaiveDate, i64> = dues
        .iter()
        .map(|due| (due.period.start, due.amount))
        .collect();
    assert!(newly_due(&four_weekly(), &history, day("2026-06-28"), &already).is_empty());
    assert_eq!(
        shown(&newly_due(
            &four_weekly(),
            &history,
            day("2026-06-29"),
            &already
        )),
        ["2026-06-29 12000"]
    );
}

#[test]
fn a_backdated_change_is_put_right_on_the_next_period_due_even_below_zero() {
    let first = history(vec![contribution(1, "2026-04-20", "2026-04-02", "30.00")]);
    let already: BTreeMap<NaiveDate, i64> =
        newly_due(&four_weekly(), &first, day("2026-06-01"), &BTreeMap::new())
            .iter()
            .map(|due| (due.period.start, due.amount))
            .collect();
    // Waived from the start, learnt on 20 June: 300.00 asked for ten weeks comes back.
    let waived = history(vec![
        contribution(1, "2026-04-20", "2026-04-02", "30.00"),
        contribution(2, "2026-04-20", "2026-06-20", "0.00"),
    ]);
    assert_eq!(
        shown(&newly_due(
            &four_weekly(),
            &waived,
            day("2026-06-29"),
            &already
        )),
        ["2026-06-29 -30000"]
    );
}

#[test]
fn arrears_count_the_latest_periods_what_is_outstanding_covers() {
    let dues = [
        (day("2026-04-06"), 6_000),
        (day("2026-05-04"), 12_000),
        (day("2026-06-01"), 12_000),
    ];
    assert_eq!(arrears(&dues, 30_000), None);
    assert_eq!(arrears(&dues, 40_000), None, "paid ahead");
    assert_eq!(
        arrears(&dues, 18_000),
        Some(Arrears {
            periods: 1,
            since: day("2026-06-01"),
            outstanding: 12_000
        })
    );
    assert_eq!(
        arrears(&dues, 10_000),
        Some(Arrears {
            periods: 2,
            since: day("2026-05-04"),
            outstanding: 20_000
        })
    );
    assert_eq!(arrears(&dues, 0).map(|arrears| arrears.periods), Some(3));
}

proptest! {
    #[test]
    fn dues_of_any_history_add_up_to_the_rounded_accrual_whenever_they_are_worked_out(
        weeklies in prop::collection::vec((0u32..300, 0u32..100, 0u32..5_000), 1..4),
        steps in prop::collection::vec(1u64..120, 1..6),
    ) {
        let contributions: Vec<ContributionVersion> = weeklies
            .iter()
            .enumerate()
            .map(|(index, (from, recorded, pence))| ContributionVersion {
                version: u32::try_from(index).unwrap() + 1,
                effective_from: day("2026-04-01") + chrono::Days::new(u64::from(*from)),
                recorded_on: day("2026-04-01") + chrono::Days::new(u64::from(*recorded)),
                weekly: Money::from_pence(i64::from(*pence)).unwrap(),
            })
            .collect();
        let history = history(contributions);
        let mut already = BTreeMap::new();
        let mut through = day("2026-04-01");
        for step in steps {
            through = through + chrono::Days::new(step);
            for due in newly_due(&four_weekly(), &history, through, &already) {
                prop_assert!(due.due_date <= through);
                prop_assert!(already.insert(due.period.start, due.amount).is_none());
            }
        }
        // Once everything known is due, the total is the final accrual rounded once.
        let lines: Vec<AccrualLine> = history
            .lines_known_on(NaiveDate::MAX)
            .into_iter()
            .filter(AccrualLine::is_contribution)
            .collect();
        if let (Some(first), Some((last_start, _))) = (already.keys().next(), already.iter().next_back()) {
            let last = four_weekly().calendar().period_containing(*last_start);
            // In advance a period falls due on its first day: everything must have been known
            // by the last period's due date for it to have caught everything up.
            let known_by_then = history
                .contributions
                .iter()
                .all(|change| change.recorded_on <= *last_start);
            if known_by_then {
                let expected = -sevenths_to_pence(accrued_sevenths(&lines, *first, last.end));
                prop_assert_eq!(i128::from(already.values().sum::<i64>()), expected);
            }
        }
    }
}

#[test]
fn a_contribution_learnt_late_is_caught_up_on_the_next_period_due_not_asked_of_past_ones() {
    // Assessed on 20 May, from the first day of support: the periods due on 6 April and
    // 4 May were due before it was known; the one due on 1 June asks for all three.
    let history = history(vec![contribution(1, "2026-04-20", "2026-05-20", "30.00")]);
    let dues = newly_due(
        &four_weekly(),
        &history,
        day("2026-06-01"),
        &BTreeMap::new(),
    );
    assert_eq!(
        shown(&dues),
        ["2026-04-06 0", "2026-05-04 0", "2026-06-01 30000"]
    );
    let owed: Vec<(NaiveDate, i64)> = dues
        .iter()
        .map(|due| (due.period.start, due.amount))
        .collect();
    assert_eq!(arrears(&owed, 0).map(|arrears| arrears.periods), Some(1));
}

#[test]
fn a_contribution_waived_from_the_start_asks_nothing_of_later_periods() {
    let history = history(vec![
        contribution(1, "2026-04-20", "2026-04-02", "30.00"),
        contribution(2, "2026-04-20", "2026-04-03", "0.00"),
    ]);
    assert!(
        newly_due(
            &four_weekly(),
            &history,
            day("2026-09-01"),
            &BTreeMap::new()
        )
        .is_empty()
    );
}
