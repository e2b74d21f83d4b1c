use super::*;
use proptest::prelude::*;
use sds_money::{Calendar, ScheduleRequest, Timing, compute_schedule};

fn day(iso: &str) -> NaiveDate {
    iso.parse().expect("a date")
}

fn support(weekly: &str, start: &str, end: Option<&str>) -> Line {
    Line {
        kind: LineKind::Support,
        plan_line: 1,
        support_type: "personal_care".to_owned(),
        weekly: Money::parse(weekly).expect("an amount"),
        start: day(start),
        end: end.map(day),
        hours_per_week: None,
    }
}

fn version(
    number: u32,
    effective_from: &str,
    recorded_on: &str,
    lines: Vec<Line>,
) -> AgreedVersion {
    AgreedVersion {
        version: number,
        effective_from: day(effective_from),
        recorded_on: day(recorded_on),
        lines,
    }
}

/// (weekly, start, end) of each line, as text, for readable assertions.
fn shown(lines: &[AccrualLine]) -> Vec<(String, String, Option<String>)> {
    lines
        .iter()
        .map(|line| {
            (
                line.weekly_amount().to_string(),
                line.start().to_string(),
                line.end().map(|end| end.to_string()),
            )
        })
        .collect()
}

fn line_text(weekly: &str, start: &str, end: Option<&str>) -> (String, String, Option<String>) {
    (weekly.to_owned(), start.to_owned(), end.map(str::to_owned))
}

#[test]
fn a_signed_agreement_is_one_plan_version_whose_lines_start_no_earlier_than_it() {
    let history = History {
        versions: vec![version(
            1,
            "2026-04-20",
            "2026-04-01",
            vec![support("210.00", "2026-04-13", None)],
        )],
        endings: vec![],
        actuals: vec![],
        contributions: vec![],
    };
    let versions = history.plan_versions();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].recorded_on, day("2026-04-01"));
    assert_eq!(
        shown(&versions[0].lines),
        vec![line_text("210.00", "2026-04-20", None)]
    );
}

#[test]
fn a_backdated_variation_replaces_the_earlier_version_from_its_effective_date_only_once_known() {
    let history = History {
        versions: vec![
            version(
                1,
                "2026-04-20",
                "2026-04-01",
                vec![support("210.00", "2026-04-20", None)],
            ),
            version(
                2,
                "2026-05-18",
                "2026-06-10",
                vec![support("280.00", "2026-04-20", None)],
            ),
        ],
        endings: vec![],
        actuals: vec![],
        contributions: vec![],
    };
    assert_eq!(
        shown(&history.lines_known_on(day("2026-06-09"))),
        vec![line_text("210.00", "2026-04-20", None)]
    );
    assert_eq!(
        shown(&history.lines_known_on(day("2026-06-10"))),
        vec![
            line_text("210.00", "2026-04-20", Some("2026-05-17")),
            line_text("280.00", "2026-05-18", None),
        ]
    );
}

#[test]
fn the_worked_four_weekly_example_of_domain_md_follows_from_the_agreement_history() {
    let history = History {
        versions: vec![
            version(
                1,
                "2026-04-20",
                "2026-04-01",
                vec![support("210.00", "2026-04-20", None)],
            ),
            version(
                2,
                "2026-05-18",
                "2026-06-10",
                vec![support("280.00", "2026-04-20", None)],
            ),
        ],
        endings: vec![],
        actuals: vec![],
        contributions: vec![],
    };
    let schedule = compute_schedule(&ScheduleRequest {
        calendar: Calendar::FourWeekly {
            anchor: day("2026-04-06"),
        },
        timing: Timing::Advance,
        payment_lag_days: 0,
        until: day("2026-07-27"),
        versions: history.plan_versions(),
    })
    .expect("a schedule");
    let amounts: Vec<String> = schedule
        .instalments
        .iter()
        .map(|instalment| {
            format!(
                "{} {} {}",
                instalment.due_date, instalment.adjustment, instalment.amount
            )
        })
        .collect();
    assert_eq!(
        amounts,
        vec![
            "2026-04-06 0.00 420.00",
            "2026-05-04 0.00 840.00",
            "2026-06-01 0.00 840.00",
            "2026-06-29 420.00 1540.00",
            "2026-07-27 0.00 1120.00",
        ]
    );
}

#[test]
fn an_end_cuts_every_line_from_the_day_it_is_recorded_and_an_earlier_end_brings_it_forward() {
    let history = History {
        versions: vec![version(
            1,
            "2026-04-01",
            "2026-03-20",
            vec![support("100.00", "2026-04-01", None)],
        )],
        endings: vec![
            Ending {
                last_day: day("2026-10-31"),
                recorded_on: day("2026-09-01"),
            },
            Ending {
                last_day: day("2026-08-31"),
                recorded_on: day("2026-11-20"),
            },
        ],
        actuals: vec![],
        contributions: vec![],
    };
    assert_eq!(
        shown(&history.lines_known_on(day("2026-08-31"))),
        vec![line_text("100.00", "2026-04-01", None)]
    );
    assert_eq!(
        shown(&history.lines_known_on(day("2026-09-01"))),
        vec![line_text("100.00", "2026-04-01", Some("2026-10-31"))]
    );
    assert_eq!(
        shown(&history.lines_known_on(day("2026-11-20"))),
        vec![line_text("100.00", "2026-04-01", Some("2026-08-31"))]
    );
    assert_eq!(history.plan_versions().len(), 3);
}

#[test]
fn a_higher_numbered_version_agreed_first_governs_from_its_date_even_after_a_lower_one_is_agreed() {
    // Version 2 (a variation) awaited signatures while version 3 (a rate change agreed in
    // advance) was agreed; version 2 is signed later and governs only until version 3.
    let history = History {
        versions: vec![
            version(
                1,
                "2026-04-01",
                "2026-03-01",
                vec![support("100.00", "2026-04-01", None)],
            ),
            version(
                3,
                "2027-04-01",
                "2026-05-01",
                vec![support("130.00", "2026-04-01", None)],
            ),
            version(
                2,
                "2026-06-01",
                "2026-06-15",
                vec![support("120.00", "2026-04-01", None)],
            ),
        ],
        endings: vec![],
        actuals: vec![],
        contributions: vec![],
    };
    assert_eq!(
        shown(&history.lines_known_on(day("2026-06-15"))),
        vec![
            line_text("100.00", "2026-04-01", Some("2026-05-31")),
            line_text("120.00", "2026-06-01", Some("2027-03-31")),
            line_text("130.00", "2027-04-01", None),
        ]
    );
}

#[test]
fn a_version_superseded_from_its_own_effective_date_contributes_nothing() {
    let history = History {
        versions: vec![
            version(
                1,
                "2026-04-01",
                "2026-03-01",
                vec![support("100.00", "2026-04-01", None)],
            ),
            version(
                2,
                "2026-04-01",
                "2026-03-02",
                vec![support("150.00", "2026-04-01", None)],
            ),
        ],
        endings: vec![],
        actuals: vec![],
        contributions: vec![],
    };
    assert_eq!(
        shown(&history.lines_known_on(day("2026-03-02"))),
        vec![line_text("150.00", "2026-04-01", None)]
    );
}

fn arbitrary_history() -> impl Strategy<Value = History> {
    let versions = prop::collection::vec((0u32..400, 0u32..400, 0u32..400, 0u32..50_000), 1..5)
        .prop_map(|raw| {
            raw.into_iter()
                .enumerate()
                .map(|(index, (effective, recorded, start, pence))| {
                    let base = day("2026-01-01");
                    AgreedVersion {
                        version: u32::try_from(index).expect("small") + 1,
                        effective_from: base + chrono::Days::new(u64::from(effective)),
                        recorded_on: base + chrono::Days::new(u64::from(recorded)),
                        lines: vec![Line {
                            kind: LineKind::Support,
                            plan_line: 1,
                            support_type: "personal_care".to_owned(),
                            weekly: Money::from_pence(i64::from(pence)).expect("small"),
                            start: base + chrono::Days::new(u64::from(start)),
                            end: None,
                            hours_per_week: None,
                        }],
                    }
                })
                .collect::<Vec<_>>()
        });
    let endings = prop::collection::vec((0u32..500, 0u32..500), 0..3).prop_map(|raw| {
        raw.into_iter()
            .map(|(last, recorded)| Ending {
                last_day: day("2026-01-01") + chrono::Days::new(u64::from(last)),
                recorded_on: day("2026-01-01") + chrono::Days::new(u64::from(recorded)),
            })
            .collect::<Vec<_>>()
    });
    let contributions =
        prop::collection::vec((0u32..400, 0u32..400, 0u32..5_000), 0..4).prop_map(|raw| {
            raw.into_iter()
                .enumerate()
                .map(|(index, (effective, recorded, pence))| {
                    let base = day("2026-01-01");
                    ContributionVersion {
                        version: u32::try_from(index).expect("small") + 1,
                        effective_from: base + chrono::Days::new(u64::from(effective)),
                        recorded_on: base + chrono::Days::new(u64::from(recorded)),
                        weekly: Money::from_pence(i64::from(pence)).expect("small"),
                    }
                })
                .collect::<Vec<_>>()
        });
    (versions, endings, contributions).prop_map(|(versions, endings, contributions)| History {
        versions,
        endings,
        actuals: vec![],
        contributions,
    })
}

proptest! {
    #[test]
    fn what_is_known_on_a_day_never_depends_on_what_was_recorded_after_it(
        history in arbitrary_history(),
        on in 0u64..500,
    ) {
        let on = day("2026-01-01") + chrono::Days::new(on);
        let earlier_only = History {
            versions: history.versions.iter().filter(|version| version.recorded_on <= on).cloned().collect(),
            endings: history.endings.iter().filter(|ending| ending.recorded_on <= on).copied().collect(),
            actuals: vec![],
            contributions: history.contributions.iter().filter(|change| change.recorded_on <= on).cloned().collect(),
        };
        prop_assert_eq!(history.lines_known_on(on), earlier_only.lines_known_on(on));
    }

    #[test]
    fn no_two_known_lines_overlap_and_none_runs_past_the_known_last_day(
        history in arbitrary_history(),
        on in 0u64..500,
    ) {
        let on = day("2026-01-01") + chrono::Days::new(on);
        let all = history.lines_known_on(on);
        let (contributions, lines): (Vec<AccrualLine>, Vec<AccrualLine>) =
            all.into_iter().partition(AccrualLine::is_contribution);
        let funded: Vec<&AccrualLine> =
            lines.iter().filter(|line| !line.weekly_amount().is_zero()).collect();
        // A contribution is asked only while support is funded, and once a day at most.
        prop_assert!(funded.is_empty() <= contributions.is_empty());
        for (index, first) in contributions.iter().enumerate() {
            // Every day of it has some funded support line.
            let last = first.end().unwrap_or(day("2027-12-31"));
            let mut each = first.start();
            while each <= last {
                prop_assert!(
                    funded.iter().any(|line| line.active_days_between(each, each) == 1),
                    "{:?} asked on {} with no support funded", first, each
                );
                each = each + chrono::Days::new(1);
            }
            prop_assert!(!first.weekly_amount().is_zero());
            if let Some(last_day) = history.last_day_known_on(on) {
                prop_assert!(first.end().is_some_and(|end| end <= last_day));
            }
            for second in &contributions[index + 1..] {
                let first_end = first.end().unwrap_or(NaiveDate::MAX);
                let second_end = second.end().unwrap_or(NaiveDate::MAX);
                prop_assert!(first_end < second.start() || second_end < first.start());
            }
        }
        // Every test version has one line, so any two known lines overlapping would pay a
        // day twice.
        for (index, first) in lines.iter().enumerate() {
            for second in &lines[index + 1..] {
                let first_end = first.end().unwrap_or(NaiveDate::MAX);
                let second_end = second.end().unwrap_or(NaiveDate::MAX);
                prop_assert!(first_end < second.start() || second_end < first.start());
            }
            if let Some(last_day) = history.last_day_known_on(on) {
                prop_assert!(first.end().is_some_and(|end| end <= last_day));
            }
        }
    }
}

#[test]
fn a_contribution_is_taken_off_from_its_effective_date_until_a_later_version_changes_it() {
    let history = History {
        versions: vec![version(
            1,
            "2026-04-06",
            "2026-04-01",
            vec![support("300.00", "2026-04-06", None)],
        )],
        endings: vec![Ending {
            last_day: day("2026-12-31"),
            recorded_on: day("2026-06-01"),
        }],
        actuals: vec![],
        contributions: vec![
            // Before support starts: asked only from the first funded day.
            ContributionVersion {
                version: 1,
                effective_from: day("2026-03-01"),
                recorded_on: day("2026-04-02"),
                weekly: Money::parse("20.00").expect("an amount"),
            },
            ContributionVersion {
                version: 2,
                effective_from: day("2026-05-04"),
                recorded_on: day("2026-05-10"),
                weekly: Money::parse("35.00").expect("an amount"),
            },
            // Waived from 1 September: nothing is taken off after it.
            ContributionVersion {
                version: 3,
                effective_from: day("2026-09-01"),
                recorded_on: day("2026-08-20"),
                weekly: Money::zero(),
            },
        ],
    };
    let contributions = |on: &str| {
        let lines: Vec<AccrualLine> = history
            .lines_known_on(day(on))
            .into_iter()
            .filter(AccrualLine::is_contribution)
            .collect();
        shown(&lines)
    };
    assert_eq!(contributions("2026-04-01"), vec![]);
    assert_eq!(
        contributions("2026-04-02"),
        vec![line_text("20.00", "2026-04-06", None)]
    );
    assert_eq!(
        contributions("2026-05-10"),
        vec![
            line_text("20.00", "2026-04-06", Some("2026-05-03")),
            line_text("35.00", "2026-05-04", None)
        ]
    );
    assert_eq!(
        contributions("2026-08-20"),
        vec![
            line_text("20.00", "2026-04-06", Some("2026-05-03")),
            line_text("35.00", "2026-05-04", Some("2026-08-31"))
        ]
    );
    let recorded: Vec<NaiveDate> = history
        .plan_versions()
        .iter()
        .map(|version| version.recorded_on)
        .collect();
    assert_eq!(
        recorded,
        [
            "2026-04-01",
            "2026-04-02",
            "2026-05-10",
            "2026-06-01",
            "2026-08-20"
        ]
        .map(day)
    );
}

#[test]
fn a_contribution_ends_with_the_support_it_pays_towards() {
    let history = History {
        versions: vec![version(
            1,
            "2026-04-06",
            "2026-04-01",
            vec![
                support("300.00", "2026-04-06", Some("2026-06-30")),
                support("100.00", "2026-08-01", Some("2026-08-31")),
            ],
        )],
        endings: vec![],
        actuals: vec![],
        contributions: vec![ContributionVersion {
            version: 1,
            effective_from: day("2026-04-06"),
            recorded_on: day("2026-04-02"),
            weekly: Money::parse("25.00").expect("an amount"),
        }],
    };
    let contributions: Vec<AccrualLine> = history
        .lines_known_on(day("2026-04-02"))
        .into_iter()
        .filter(AccrualLine::is_contribution)
        .collect();
    assert_eq!(
        shown(&contributions),
        vec![
            line_text("25.00", "2026-04-06", Some("2026-06-30")),
            line_text("25.00", "2026-08-01", Some("2026-08-31"))
        ]
    );
}
