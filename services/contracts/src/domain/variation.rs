//! How an agreement changes after it is agreed: variations of its lines (from a plan
//! variation) or its terms, and its end with notice. Rate changes are
//! [`super::rate_following`]'s.
//!
//! What must stay true: a variation that changes nothing is not made; a line the plan moves
//! to someone else, or drops, stops the day before the plan version; the agreement's end
//! follows its lines; the last day after notice is never earlier than the notice period
//! allows.

use chrono::NaiveDate;
use sds_vocabulary::{Invalid, NamedEnum as _};

use super::agreement::{AgreementContent, FundedLine};
use super::drafting::weekly;
use super::plan_copy::{Chosen, PlanCopy};
use super::terms::{PaymentTiming, Terms, TermsDraft};

sds_vocabulary::wire_enum! {
    /// Why a version of an agreement was made.
    pub enum VersionCause("version cause") => sds_proto::v1::AgreementVersionCause {
        /// Drafted from the plan or by hand.
        Drafted = "drafted",
        /// The plan lines it funds were varied.
        PlanVaried = "plan_varied",
        /// Its terms were varied.
        TermsVaried = "terms_varied",
        /// Its rate card changed from the version's date: agreed in advance.
        RateChanged = "rate_changed",
    }
}

sds_vocabulary::wire_enum! {
    /// Why an agreement ended.
    pub enum EndCause("end cause") => sds_proto::v1::AgreementEndCause {
        /// A party gave notice.
        Notice = "notice",
        /// The plan that funds it ended.
        PlanEnded = "plan_ended",
    }
}

/// What a plan variation does to an agreement funding some of its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanChange {
    /// Its lines are as they were.
    Unchanged,
    /// Its lines change from the plan version's date: the new content.
    Varied(AgreementContent),
    /// None of its lines runs from the plan version's date on: support ends the day before.
    NoLinesLeft { last_day: NaiveDate },
}

/// The agreement's content (`current`, the latest agreed or drafted) after plan version
/// `plan`: each funded line as the plan now gives it while it is still chosen with the same
/// provider and holder, ended the day before the plan version otherwise; and the plan's
/// lines chosen with the same provider and holder that run from the plan version on and no
/// agreement funds yet (not in `funded_elsewhere`), which join it. A plan changes a line's
/// amount by ending it and adding a new line from the change's date, so the change reaches
/// the agreement as one line ending and another joining. The agreement's end follows its
/// lines. Lines priced on a rate card keep their hours at the card (pricing is the
/// caller's, at the version's date).
pub fn after_plan_variation(
    current: &AgreementContent,
    chosen: Chosen,
    plan: &PlanCopy,
    funded_elsewhere: &[u32],
) -> Result<PlanChange, Invalid> {
    let day_before = plan.effective_from.pred_opt().unwrap_or(NaiveDate::MIN);
    let mut lines = Vec::with_capacity(current.lines.len());
    for (index, line) in current.lines.iter().enumerate() {
        let in_plan = plan
            .lines
            .iter()
            .find(|planned| planned.number == line.plan_line)
            .filter(|planned| planned.chosen() == Some(chosen));
        let next = match in_plan {
            Some(planned) => FundedLine {
                plan_line: line.plan_line,
                support_type: planned.support_type.clone(),
                weekly: weekly(&format!("lines[{index}].weekly"), planned.weekly)?,
                hours_per_week: planned.hours_per_week,
                start: planned.start,
                end: planned.end,
            },
            // Dropped from the plan, or now with someone else: it stops before the change.
            None => FundedLine {
                end: Some(line.end.map_or(day_before, |end| end.min(day_before))),
                ..line.clone()
            },
        };
        // A line ending before it starts never runs: it leaves the agreement.
        if next.end.is_none_or(|end| end >= next.start) {
            lines.push(next);
        }
    }
    let joining = plan.lines.iter().filter(|planned| {
        planned.chosen() == Some(chosen)
            && planned.end.is_none_or(|end| end >= plan.effective_from)
            && !funded_elsewhere.contains(&planned.number)
            && !current
                .lines
                .iter()
                .any(|line| line.plan_line == planned.number)
    });
    for planned in joining {
        let index = lines.len();
        lines.push(FundedLine {
            plan_line: planned.number,
            support_type: planned.support_type.clone(),
            weekly: weekly(&format!("lines[{index}].weekly"), planned.weekly)?,
            hours_per_week: planned.hours_per_week,
            start: planned.start,
            end: planned.end,
        });
    }
    if lines
        .iter()
        .all(|line| line.end.is_some_and(|end| end < plan.effective_from))
    {
        return Ok(PlanChange::NoLinesLeft {
            last_day: day_before,
        });
    }
    // A line the plan moved before the agreement's start runs from the start: what was
    // agreed stays agreed.
    let start = current.terms.start();
    for line in &mut lines {
        line.start = line.start.max(start);
    }
    let end = if lines.iter().any(|line| line.end.is_none()) {
        None
    } else {
        lines.iter().filter_map(|line| line.end).max()
    };
    let terms = with_end(&current.terms, end)?;
    let next = AgreementContent {
        lines,
        terms,
        ..current.clone()
    }
    .checked()?;
    Ok(if same_lines(&next, current) {
        PlanChange::Unchanged
    } else {
        PlanChange::Varied(next)
    })
}

/// Whether the lines (apart from rate pricing) and the span are the same.
fn same_lines(next: &AgreementContent, current: &AgreementContent) -> bool {
    next.terms == current.terms
        && next.lines.len() == current.lines.len()
        && next.lines.iter().zip(&current.lines).all(|(new, old)| {
            let amount_same = match (new.hours_per_week, old.hours_per_week) {
                // Priced on a card: the hours are what the plan sets.
                (Some(new_hours), Some(old_hours)) if current.rate.is_some() => {
                    new_hours == old_hours
                }
                _ => new.weekly == old.weekly && new.hours_per_week == old.hours_per_week,
            };
            amount_same
                && new.plan_line == old.plan_line
                && new.support_type == old.support_type
                && new.start == old.start
                && new.end == old.end
        })
}

/// `terms` ending on `end`, with the review pulled in to the end if it would fall after it.
fn with_end(terms: &Terms, end: Option<NaiveDate>) -> Result<Terms, Invalid> {
    let draft = terms.to_draft();
    let review_on = match end {
        Some(end) if draft.review_on > end => end,
        _ => draft.review_on,
    };
    Terms::new(
        "terms",
        TermsDraft {
            end,
            review_on,
            ..draft
        },
    )
}

/// The content after a variation of its terms: `terms` keep the agreement's start.
/// A timing as a sentence says it.
fn timing_words(timing: PaymentTiming) -> String {
    match timing {
        PaymentTiming::Advance => "in advance".to_owned(),
        PaymentTiming::Arrears { lag_days } => {
            format!("in arrears, {lag_days} days after each period")
        }
    }
}

pub fn with_terms(current: &AgreementContent, terms: Terms) -> Result<AgreementContent, Invalid> {
    if terms.start() != current.terms.start() {
        return Err(Invalid::new(
            "terms.start",
            format!(
                "is {}, but the agreement starts on {}; a variation keeps the start (end the agreement and draft a new one to move it)",
                terms.start(),
                current.terms.start()
            ),
        ));
    }
    // Payments makes the agreement's schedule from the terms it is first signed with and
    // follows its lines and amounts from then on, never its frequency, timing, basis or
    // tolerance: a variation of those would be signed and then not be paid as it says.
    let schedule_kept = |field: &str, now: String, was: String| {
        Invalid::new(
            field,
            format!(
                "is {now}, but the agreement is paid {was}; how an agreement is paid stays as \
                 it was first signed (end the agreement and draft a new one to change it)"
            ),
        )
    };
    if terms.frequency() != current.terms.frequency() {
        return Err(schedule_kept(
            "terms.frequency",
            terms.frequency().name().to_owned(),
            current.terms.frequency().name().to_owned(),
        ));
    }
    if terms.timing() != current.terms.timing() {
        return Err(schedule_kept(
            "terms.timing",
            timing_words(terms.timing()),
            timing_words(current.terms.timing()),
        ));
    }
    if terms.basis() != current.terms.basis() {
        return Err(schedule_kept(
            "terms.basis",
            terms.basis().name().to_owned(),
            format!("on {}", current.terms.basis().name()),
        ));
    }
    if terms.flex_tolerance_percent() != current.terms.flex_tolerance_percent() {
        return Err(schedule_kept(
            "terms.flex_tolerance_percent",
            format!("{}%", terms.flex_tolerance_percent()),
            format!("within {}%", current.terms.flex_tolerance_percent()),
        ));
    }
    if terms == current.terms {
        return Err(Invalid::new(
            "terms",
            "are the terms in force; a variation changes at least one of them",
        ));
    }
    AgreementContent {
        terms,
        ..current.clone()
    }
    .checked()
}

/// The last day of support asked for when notice is given on `today`: at least the notice
/// period on, unless the agreement's own end comes first. Refusals name `last_day`.
pub fn last_day_with_notice(
    terms: &Terms,
    today: NaiveDate,
    asked: NaiveDate,
) -> Result<NaiveDate, Invalid> {
    let earliest = terms.last_day_after_notice(today);
    if asked < earliest {
        return Err(Invalid::new(
            "last_day",
            format!(
                "{asked} is within the notice period of {} days; the earliest last day is {earliest}",
                terms.notice_days()
            ),
        ));
    }
    if let Some(end) = terms.end()
        && asked > end
    {
        return Err(Invalid::new(
            "last_day",
            format!("{asked} is after the agreement's own end, {end}; it ends then anyway"),
        ));
    }
    Ok(asked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::*;
    use crate::domain::plan_copy::{Arrangement, PlanLineCopy};
    use crate::domain::terms::HoldingModel;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;
    use uuid::Uuid;

    #[test]
    fn names_follow_the_wire() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<VersionCause>();
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<EndCause>();
    }

    fn plan_line(number: u32, weekly: Decimal, provider: Uuid, end: Option<&str>) -> PlanLineCopy {
        PlanLineCopy {
            number,
            support_type: "personal_care".into(),
            weekly,
            hours_per_week: None,
            arrangement: Arrangement::PersonDirected {
                provider: Some(provider.to_string()),
                holding_model: Some("provider".into()),
                holder: None,
            },
            start: day("2026-12-01"),
            end: end.map(day),
        }
    }

    fn plan_version(effective: &str, lines: Vec<PlanLineCopy>) -> PlanCopy {
        PlanCopy {
            person_id: Uuid::from_u128(1),
            version: 2,
            effective_from: day(effective),
            recorded_on: day("2027-01-15"),
            ends_plan: false,
            lines,
        }
    }

    const CHOSEN: Chosen = Chosen {
        provider_id: PROVIDER,
        holding_model: HoldingModel::Provider,
        holder_id: None,
    };

    #[test]
    fn a_plan_variation_changes_the_lines_it_moves_and_nothing_else() {
        let current = content("200.00", None, None);
        let same = plan_version("2027-01-04", vec![plan_line(1, dec!(200), PROVIDER, None)]);
        assert_eq!(
            after_plan_variation(&current, CHOSEN, &same, &[]),
            Ok(PlanChange::Unchanged)
        );
        let more = plan_version(
            "2027-01-04",
            vec![plan_line(1, dec!(250.125), PROVIDER, None)],
        );
        let Ok(PlanChange::Varied(varied)) = after_plan_variation(&current, CHOSEN, &more, &[])
        else {
            panic!("varied");
        };
        assert_eq!(varied.lines[0].weekly, money("250.13"), "to the penny");
        let ending = plan_version(
            "2027-01-04",
            vec![plan_line(1, dec!(200), PROVIDER, Some("2027-03-31"))],
        );
        let Ok(PlanChange::Varied(ends)) = after_plan_variation(&current, CHOSEN, &ending, &[])
        else {
            panic!("varied");
        };
        assert_eq!(
            ends.terms.end(),
            Some(day("2027-03-31")),
            "the end follows the lines"
        );
        assert_eq!(
            ends.terms.review_on(),
            day("2027-03-31"),
            "the review comes in with it"
        );
    }

    #[test]
    fn a_changed_amount_arrives_as_one_line_ending_and_another_joining() {
        let current = content("200.00", None, None);
        let mut ended = plan_line(1, dec!(200), PROVIDER, Some("2027-01-03"));
        ended.start = day("2026-12-01");
        let mut more = plan_line(2, dec!(250), PROVIDER, None);
        more.start = day("2027-01-04");
        let plan = plan_version("2027-01-04", vec![ended, more]);
        let Ok(PlanChange::Varied(varied)) = after_plan_variation(&current, CHOSEN, &plan, &[])
        else {
            panic!("varied");
        };
        let lines: Vec<(u32, sds_money::Money, Option<NaiveDate>)> = varied
            .lines
            .iter()
            .map(|line| (line.plan_line, line.weekly, line.end))
            .collect();
        assert_eq!(
            lines,
            vec![
                (1, money("200.00"), Some(day("2027-01-03"))),
                (2, money("250.00"), None)
            ]
        );
        assert_eq!(varied.terms.end(), None, "still open-ended");
        // Another agreement already funds line 2: this one has nothing left from the change.
        assert_eq!(
            after_plan_variation(&current, CHOSEN, &plan, &[2]),
            Ok(PlanChange::NoLinesLeft {
                last_day: day("2027-01-03")
            })
        );
    }

    #[test]
    fn a_line_moved_to_another_provider_or_dropped_stops_the_day_before() {
        let current = content("200.00", None, None);
        let moved = plan_version(
            "2027-01-04",
            vec![plan_line(1, dec!(200), Uuid::from_u128(99), None)],
        );
        assert_eq!(
            after_plan_variation(&current, CHOSEN, &moved, &[]),
            Ok(PlanChange::NoLinesLeft {
                last_day: day("2027-01-03")
            })
        );
        let dropped = plan_version("2027-01-04", vec![]);
        assert_eq!(
            after_plan_variation(&current, CHOSEN, &dropped, &[]),
            Ok(PlanChange::NoLinesLeft {
                last_day: day("2027-01-03")
            })
        );
    }

    #[test]
    fn notice_runs_its_full_period_unless_the_agreement_ends_first() {
        let open = terms(None);
        let today = day("2026-11-28");
        let refused = last_day_with_notice(&open, today, day("2026-12-25")).expect_err("early");
        assert_eq!(refused.field(), "last_day");
        assert!(refused.to_string().contains("2026-12-26"), "{refused}");
        assert_eq!(
            last_day_with_notice(&open, today, day("2026-12-26")),
            Ok(day("2026-12-26"))
        );
        let ending = terms(Some("2027-06-30"));
        assert_eq!(
            last_day_with_notice(&ending, day("2027-06-20"), day("2027-06-30")),
            Ok(day("2027-06-30")),
            "the agreement's own end comes before the notice would"
        );
        assert!(last_day_with_notice(&ending, today, day("2027-07-05")).is_err());
    }

    #[test]
    fn a_terms_variation_keeps_the_start_and_changes_something() {
        let current = content("200.00", None, None);
        let mut draft = current.terms.to_draft();
        draft.notice_days = 56;
        let longer = Terms::new("terms", draft.clone()).expect("terms");
        assert_eq!(
            with_terms(&current, longer)
                .expect("varied")
                .terms
                .notice_days(),
            56
        );
        draft.start = day("2026-12-02");
        let moved = Terms::new("terms", draft).expect("terms");
        assert_eq!(
            with_terms(&current, moved).expect_err("moved").field(),
            "terms.start"
        );
        assert_eq!(
            with_terms(&current, current.terms.clone())
                .expect_err("same")
                .field(),
            "terms"
        );
    }
}
