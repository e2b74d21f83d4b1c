//! Variations: every change to an approved plan is a new draft version with an effective
//! date, possibly in the past within the authority's backdating window.
//!
//! Each version holds the whole history of lines as known when it was recorded (what the
//! payment schedule needs: it recomputes from the version known on each due date). From the
//! effective date E:
//!
//! - an added line starts on E or later;
//! - a changed line that had started before E ends on E - 1 and is followed, from E, by a
//!   new line (a new number) with the changes and the old end; one that had not yet
//!   started is replaced outright, since it never accrued;
//! - an ended line's last day is E - 1 (one not yet started is removed);
//! - ending the whole plan ends every line that way.
//!
//! What must stay true: an approved version is never changed, only followed; a variation
//! is never dated before `recorded_on - window` and the refusal names the window and the
//! earliest allowed date; days before E are never altered; version numbers only increase.

use chrono::{Days, NaiveDate};

use super::amount::LineAmount;
use super::line::{LineNumber, LineSpan, PlanLine, SupportType};
use super::option::Arrangement;
use super::plan::{NewLine, PlanError, PlanVersion};
use super::policy::{AuthorityPolicy, policy_in_effect};

/// One change to the lines of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineChange {
    Add(NewLine),
    /// New values for the parts given; the rest stay as they were.
    Change {
        number: LineNumber,
        support_type: Option<SupportType>,
        amount: Option<LineAmount>,
        arrangement: Option<Arrangement>,
    },
    End {
        number: LineNumber,
    },
}

/// What a variation does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Variation {
    Lines(Vec<LineChange>),
    /// The whole plan ends: its last day is the day before the effective date.
    EndPlan,
}

/// When and under what window a variation is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariationDates {
    pub effective_from: NaiveDate,
    pub recorded_on: NaiveDate,
    /// The highest version number the plan has, approved or not; the new one follows it.
    pub latest_version: u32,
}

/// The earliest date a variation recorded on `recorded_on` may take effect.
pub fn earliest_effective_date(recorded_on: NaiveDate, window_days: u32) -> NaiveDate {
    recorded_on
        .checked_sub_days(Days::new(u64::from(window_days)))
        .unwrap_or(NaiveDate::MIN)
}

/// Varies `approved` under the backdating window of the policy in effect on the day the
/// variation is recorded (the rule in force when the change is made).
pub fn vary_under_policy(
    approved: &PlanVersion,
    policies: &[AuthorityPolicy],
    dates: VariationDates,
    variation: &Variation,
) -> Result<PlanVersion, PlanError> {
    // With no policy on record, no backdating is allowed.
    let window_days = policy_in_effect(policies, dates.recorded_on)
        .map_or(0, |policy| policy.backdating_window_days);
    vary(approved, window_days, dates, variation)
}

/// The new draft version that `variation` makes of `approved`.
pub fn vary(
    approved: &PlanVersion,
    window_days: u32,
    dates: VariationDates,
    variation: &Variation,
) -> Result<PlanVersion, PlanError> {
    approved.ensure_approved()?;
    let VariationDates {
        effective_from,
        recorded_on,
        latest_version,
    } = dates;
    let earliest_allowed = earliest_effective_date(recorded_on, window_days);
    if effective_from < earliest_allowed {
        return Err(PlanError::BackdatedTooFar {
            effective_from,
            recorded_on,
            window_days,
            earliest_allowed,
        });
    }
    let latest = latest_version.max(approved.version());
    let mut lines: Vec<PlanLine> = approved.lines().to_vec();
    let mut highest_number = lines.iter().map(|line| line.number).max().unwrap_or(0);
    let all_ends: Vec<LineChange>;
    let changes = match variation {
        Variation::Lines(changes) => changes.as_slice(),
        Variation::EndPlan => {
            all_ends = lines
                .iter()
                .filter(|line| line.span.end().is_none_or(|end| end >= effective_from))
                .map(|line| LineChange::End {
                    number: line.number,
                })
                .collect();
            all_ends.as_slice()
        }
    };
    for change in changes {
        match change {
            LineChange::Add(new_line) => {
                if new_line.span.start() < effective_from {
                    return Err(PlanError::AddedLineStartsTooEarly {
                        starts_on: new_line.span.start(),
                        effective_from,
                    });
                }
                highest_number += 1;
                lines.push(new_line.clone().numbered(highest_number));
            }
            LineChange::Change {
                number,
                support_type,
                amount,
                arrangement,
            } => {
                if support_type.is_none() && amount.is_none() && arrangement.is_none() {
                    return Err(PlanError::NothingToChange { number: *number });
                }
                let index = line_in_effect(&lines, *number, effective_from)?;
                let old = lines.remove(index);
                let successor_span = if old.span.start() >= effective_from {
                    old.span
                } else {
                    // The old line stays as it was up to E - 1.
                    if let Some(kept) = old.span.ended_by(day_before(effective_from)) {
                        lines.push(PlanLine {
                            span: kept,
                            ..old.clone()
                        });
                    }
                    LineSpan::new(effective_from, old.span.end())?
                };
                highest_number += 1;
                lines.push(PlanLine {
                    number: highest_number,
                    support_type: support_type.unwrap_or(old.support_type),
                    amount: amount.unwrap_or(old.amount),
                    arrangement: arrangement.clone().unwrap_or(old.arrangement),
                    span: successor_span,
                });
            }
            LineChange::End { number } => {
                let index = line_in_effect(&lines, *number, effective_from)?;
                let old = lines.remove(index);
                if let Some(kept) = old.span.ended_by(day_before(effective_from)) {
                    lines.push(PlanLine { span: kept, ..old });
                }
            }
        }
    }
    lines.sort_by_key(|line| line.number);
    Ok(PlanVersion::varied(
        latest + 1,
        effective_from,
        recorded_on,
        lines,
    ))
}

/// The index of line `number`, refusing a line that does not exist or ended before E.
fn line_in_effect(
    lines: &[PlanLine],
    number: LineNumber,
    effective_from: NaiveDate,
) -> Result<usize, PlanError> {
    let index = lines
        .iter()
        .position(|line| line.number == number)
        .ok_or(PlanError::UnknownLine { number })?;
    if let Some(ended_on) = lines[index].span.end()
        && ended_on < effective_from
    {
        return Err(PlanError::LineAlreadyEnded {
            number,
            ended_on,
            effective_from,
        });
    }
    Ok(index)
}

fn day_before(date: NaiveDate) -> NaiveDate {
    date.pred_opt().unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::approval::decide_plan_approval;
    use crate::domain::budget::budget_set_by_hand;
    use crate::domain::option::SdsOption;
    use crate::domain::plan::PlanStatus;
    use crate::domain::plan::tests::{date, example_draft, isf, money, new_line};
    use crate::domain::policy::tests::example_policy;
    use sds_money::Money;
    use sds_vocabulary::Role;

    /// The example plan (200.00 ISF from 1 April 2026, 100.00 direct payment from 1 June
    /// 2026), approved as version 1.
    fn approved() -> PlanVersion {
        let submitted = example_draft()
            .submit(
                date("2026-03-21"),
                &budget_set_by_hand(money("300.00"), "agreed").unwrap(),
                None,
            )
            .unwrap();
        let granted = decide_plan_approval(
            &submitted,
            &[example_policy("2025-04-01")],
            &[Role::Practitioner],
            date("1980-01-01"),
        )
        .unwrap();
        submitted.approve(&granted, date("2026-03-25")).unwrap()
    }

    fn dates(effective_from: &str, recorded_on: &str) -> VariationDates {
        VariationDates {
            effective_from: date(effective_from),
            recorded_on: date(recorded_on),
            latest_version: 1,
        }
    }

    fn spans(plan: &PlanVersion) -> Vec<(LineNumber, String, Option<String>, Money)> {
        plan.lines()
            .iter()
            .map(|line| {
                (
                    line.number,
                    line.span.start().to_string(),
                    line.span.end().map(|end| end.to_string()),
                    line.amount
                        .yearly_rate()
                        .weekly_to_the_penny()
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn a_backdated_change_ends_the_old_line_the_day_before_and_follows_it_with_a_new_one() {
        let varied = vary(
            &approved(),
            90,
            dates("2026-05-18", "2026-06-10"),
            &Variation::Lines(vec![LineChange::Change {
                number: 1,
                support_type: None,
                amount: Some(LineAmount::per_week(money("280.00")).unwrap()),
                arrangement: None,
            }]),
        )
        .unwrap();
        assert_eq!(varied.version(), 2);
        assert_eq!(varied.status(), PlanStatus::Draft);
        assert_eq!(varied.effective_from(), date("2026-05-18"));
        assert_eq!(
            spans(&varied),
            [
                (
                    1,
                    "2026-04-01".to_owned(),
                    Some("2026-05-17".to_owned()),
                    money("200.00")
                ),
                (2, "2026-06-01".to_owned(), None, money("100.00")),
                (3, "2026-05-18".to_owned(), None, money("280.00")),
            ]
        );
        // The successor keeps the person's choice.
        assert_eq!(varied.lines()[2].arrangement, isf());
    }

    #[test]
    fn a_variation_dated_before_the_window_is_refused_naming_the_window_and_earliest_date() {
        let refused = vary(
            &approved(),
            90,
            dates("2026-03-11", "2026-06-10"),
            &Variation::EndPlan,
        )
        .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "a variation recorded on 2026-06-10 can take effect from 2026-03-12 at the earliest (this authority allows 90 days of backdating), not 2026-03-11"
        );
        assert!(
            vary(
                &approved(),
                90,
                dates("2026-03-12", "2026-06-10"),
                &Variation::EndPlan
            )
            .is_ok()
        );
        // In the future is always allowed.
        assert!(
            vary(
                &approved(),
                0,
                dates("2027-01-01", "2026-06-10"),
                &Variation::EndPlan
            )
            .is_ok()
        );
    }

    #[test]
    fn ending_the_plan_ends_every_line_the_day_before_and_removes_lines_not_yet_started() {
        let ended = vary(
            &approved(),
            90,
            dates("2026-05-01", "2026-05-02"),
            &Variation::EndPlan,
        )
        .unwrap();
        assert_eq!(
            spans(&ended),
            [(
                1,
                "2026-04-01".to_owned(),
                Some("2026-04-30".to_owned()),
                money("200.00")
            )]
        );
        assert_eq!(ended.option_on(date("2026-05-01")), None);
    }

    #[test]
    fn lines_are_added_from_the_effective_date_and_ended_lines_cannot_be_changed_again() {
        let plan = approved();
        let added = vary(
            &plan,
            90,
            dates("2026-07-01", "2026-06-20"),
            &Variation::Lines(vec![
                LineChange::Add(new_line("40.00", isf(), "2026-07-01", None)),
                LineChange::End { number: 2 },
            ]),
        )
        .unwrap();
        assert_eq!(
            spans(&added),
            [
                (1, "2026-04-01".to_owned(), None, money("200.00")),
                (
                    2,
                    "2026-06-01".to_owned(),
                    Some("2026-06-30".to_owned()),
                    money("100.00")
                ),
                (3, "2026-07-01".to_owned(), None, money("40.00")),
            ]
        );
        assert_eq!(
            added.option_on(date("2026-07-01")),
            Some(SdsOption::IndividualServiceFund)
        );

        let too_early = vary(
            &plan,
            90,
            dates("2026-07-01", "2026-06-20"),
            &Variation::Lines(vec![LineChange::Add(new_line(
                "40.00",
                isf(),
                "2026-06-30",
                None,
            ))]),
        );
        assert!(matches!(
            too_early,
            Err(PlanError::AddedLineStartsTooEarly { .. })
        ));

        let ended = vary(
            &plan,
            90,
            dates("2026-05-01", "2026-05-02"),
            &Variation::EndPlan,
        )
        .unwrap();
        let ended = resubmit_and_approve(ended);
        let again = vary(
            &ended,
            90,
            dates("2026-06-01", "2026-06-02"),
            &Variation::Lines(vec![LineChange::End { number: 1 }]),
        );
        assert!(
            matches!(again, Err(PlanError::LineAlreadyEnded { number: 1, .. })),
            "{again:?}"
        );
        let unknown = vary(
            &plan,
            90,
            dates("2026-06-01", "2026-06-02"),
            &Variation::Lines(vec![LineChange::End { number: 9 }]),
        );
        assert_eq!(unknown, Err(PlanError::UnknownLine { number: 9 }));
        let empty_change = vary(
            &plan,
            90,
            dates("2026-06-01", "2026-06-02"),
            &Variation::Lines(vec![LineChange::Change {
                number: 1,
                support_type: None,
                amount: None,
                arrangement: None,
            }]),
        );
        assert_eq!(empty_change, Err(PlanError::NothingToChange { number: 1 }));
    }

    #[test]
    fn only_an_approved_version_is_varied_and_the_new_version_follows_the_latest_number() {
        let draft = example_draft();
        assert!(matches!(
            vary(
                &draft,
                90,
                dates("2026-05-01", "2026-05-01"),
                &Variation::EndPlan
            ),
            Err(PlanError::NotApproved { .. })
        ));
        let after_a_rejected_variation = VariationDates {
            latest_version: 3,
            ..dates("2026-05-01", "2026-05-01")
        };
        let varied = vary(
            &approved(),
            90,
            after_a_rejected_variation,
            &Variation::EndPlan,
        )
        .unwrap();
        assert_eq!(varied.version(), 4);
    }

    #[test]
    fn the_window_comes_from_the_policy_in_effect_when_the_variation_is_recorded() {
        let mut strict = example_policy("2026-06-01");
        strict.backdating_window_days = 7;
        let policies = [example_policy("2025-04-01"), strict];
        let refused = vary_under_policy(
            &approved(),
            &policies,
            dates("2026-05-20", "2026-06-10"),
            &Variation::EndPlan,
        );
        assert!(
            matches!(
                refused,
                Err(PlanError::BackdatedTooFar { window_days: 7, .. })
            ),
            "{refused:?}"
        );
        assert!(
            vary_under_policy(
                &approved(),
                &policies,
                dates("2026-05-20", "2026-05-31"),
                &Variation::EndPlan
            )
            .is_ok()
        );
    }

    fn resubmit_and_approve(draft: PlanVersion) -> PlanVersion {
        let submitted = draft
            .submit(
                date("2026-05-02"),
                &budget_set_by_hand(money("300.00"), "agreed").unwrap(),
                None,
            )
            .unwrap();
        let granted = decide_plan_approval(
            &submitted,
            &[example_policy("2025-04-01")],
            &[Role::Panel],
            date("1980-01-01"),
        )
        .unwrap();
        submitted.approve(&granted, date("2026-05-03")).unwrap()
    }
}
