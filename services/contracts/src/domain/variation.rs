//! How an agreement changes after it is agreed: variations of its lines (from a plan
//! variation) or terms, rate changes that follow its rate card without re-contracting, and
//! its end with notice.
//!
//! What must stay true: what is in force on a day is the highest-numbered agreed version
//! effective on or before it (so a backdated variation takes over from its own date); a rate
//! change makes a new agreed version at each date the priced amounts would otherwise be
//! wrong, so after any change every day is priced at the card version in force that day; a
//! variation that changes nothing is not made; the last day after notice is never earlier
//! than the notice period allows.

use chrono::NaiveDate;
use sds_vocabulary::Invalid;
use uuid::Uuid;

use super::agreement::{AgreementContent, AgreementVersion, FundedLine, RateReference};
use super::drafting::weekly;
use super::plan_copy::{Chosen, PlanCopy};
use super::rate::{RateCard, RateError, weekly_for_hours};
use super::terms::{Terms, TermsDraft};

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

/// The agreed version in force on `on`: the highest-numbered agreed version effective on or
/// before it (`versions` in any order).
pub fn in_force_on(versions: &[AgreementVersion], on: NaiveDate) -> Option<&AgreementVersion> {
    versions
        .iter()
        .filter(|version| version.is_agreed() && version.effective_from <= on)
        .max_by_key(|version| version.version)
}

/// A rate card's versions, numbered, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardTimeline {
    pub rate_card_id: Uuid,
    pub versions: Vec<(u32, NaiveDate, RateCard)>,
}

impl CardTimeline {
    /// The version in force on `on`.
    pub fn on(&self, on: NaiveDate) -> Option<(u32, &RateCard)> {
        self.versions
            .iter()
            .rev()
            .find(|(_, from, _)| *from <= on)
            .map(|(number, _, card)| (*number, card))
    }
}

/// `content` with every line given in hours priced at the card version in force on `on`
/// (each rounded once to whole pence), and the version named; unchanged when the card has
/// no version by then.
pub fn priced(
    content: &AgreementContent,
    card: &CardTimeline,
    on: NaiveDate,
) -> Result<AgreementContent, RateError> {
    let Some((number, rate)) = card.on(on) else {
        return Ok(content.clone());
    };
    let mut priced = content.clone();
    for line in &mut priced.lines {
        if let Some(hours) = line.hours_per_week {
            line.weekly = weekly_for_hours(hours, rate)?;
        }
    }
    priced.rate = Some(RateReference {
        rate_card_id: card.rate_card_id,
        version: number,
    });
    Ok(priced)
}

/// The versions (effective date and content) that bring an agreement priced on `card` up to
/// it from `from` on: at `from`, at each later date an agreed version takes effect and at
/// each later card version, the content in force then priced at the card version in force
/// then, wherever that differs from what would otherwise be in force. `agreed` are the
/// agreement's versions (any state).
pub fn rate_follow_ups(
    agreed: &[AgreementVersion],
    card: &CardTimeline,
    from: NaiveDate,
) -> Result<Vec<(NaiveDate, AgreementContent)>, RateError> {
    let mut dates: Vec<NaiveDate> = std::iter::once(from)
        .chain(
            agreed
                .iter()
                .filter(|version| version.is_agreed())
                .map(|version| version.effective_from),
        )
        .chain(card.versions.iter().map(|(_, date, _)| *date))
        .filter(|date| *date >= from)
        .collect();
    dates.sort_unstable();
    dates.dedup();
    let mut timeline = agreed.to_vec();
    let mut next_number = agreed
        .iter()
        .map(|version| version.version)
        .max()
        .unwrap_or(0)
        + 1;
    let mut follow_ups = Vec::new();
    for date in dates {
        let Some(base) = in_force_on(agreed, date) else {
            continue;
        };
        if base
            .content
            .rate
            .is_none_or(|rate| rate.rate_card_id != card.rate_card_id)
        {
            continue;
        }
        let wanted = priced(&base.content, card, date)?;
        let current = in_force_on(&timeline, date).map(|version| &version.content);
        if current == Some(&wanted) {
            continue;
        }
        timeline.push(AgreementVersion::variation(
            next_number,
            wanted.clone(),
            date,
            date,
            VersionCause::RateChanged,
        ));
        next_number += 1;
        follow_ups.push((date, wanted));
    }
    Ok(follow_ups)
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
/// provider and holder, ended the day before the plan version otherwise; the agreement's end
/// follows its lines. Lines priced on a rate card keep their hours at the card (pricing is
/// the caller's, at the version's date).
pub fn after_plan_variation(
    current: &AgreementContent,
    chosen: Chosen,
    plan: &PlanCopy,
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
