//! Agreements priced on a rate card follow it: what is in force on a day, a card as a
//! timeline of numbered versions, lines priced at the version in force, and the versions a
//! rate change (or a variation agreed across one) calls for.
//!
//! What must stay true: what is in force on a day is the highest-numbered agreed version
//! effective on or before it (so a backdated variation takes over from its own date); after
//! a rate change, or a variation agreed across one, every day is priced at the card version
//! in force that day, by new versions agreed in advance at each date that would otherwise be
//! wrong, and at no other.

use chrono::NaiveDate;
use uuid::Uuid;

use super::agreement::{AgreementContent, AgreementVersion, RateReference};
use super::rate::{RateCard, RateError, weekly_for_hours};
use super::variation::VersionCause;

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
    follow(agreed, from, Some(card), |date| {
        match in_force_on(agreed, date) {
            Some(base)
                if base
                    .content
                    .rate
                    .is_some_and(|rate| rate.rate_card_id == card.rate_card_id) =>
            {
                priced(&base.content, card, date).map(Some)
            }
            _ => Ok(None),
        }
    })
}

/// The versions that make the timeline of `versions` what `wanted` says on each date from
/// `from` on where it might change (`from`, each later agreed version's date, each later
/// card version's date), wherever what is in force then differs; `wanted` gives `None` for
/// a date it leaves alone. Each is agreed in advance, numbered after every version so far.
fn follow(
    versions: &[AgreementVersion],
    from: NaiveDate,
    card: Option<&CardTimeline>,
    wanted: impl Fn(NaiveDate) -> Result<Option<AgreementContent>, RateError>,
) -> Result<Vec<(NaiveDate, AgreementContent)>, RateError> {
    let mut dates: Vec<NaiveDate> = std::iter::once(from)
        .chain(
            versions
                .iter()
                .filter(|version| version.is_agreed())
                .map(|version| version.effective_from),
        )
        .chain(
            card.into_iter()
                .flat_map(|card| card.versions.iter().map(|(_, date, _)| *date)),
        )
        .filter(|date| *date >= from)
        .collect();
    dates.sort_unstable();
    dates.dedup();
    let mut timeline = versions.to_vec();
    let mut next_number = versions
        .iter()
        .map(|version| version.version)
        .max()
        .unwrap_or(0)
        + 1;
    let mut follow_ups = Vec::new();
    for date in dates {
        let Some(wanted) = wanted(date)? else {
            continue;
        };
        if in_force_on(&timeline, date).map(|version| &version.content) == Some(&wanted) {
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

/// The versions that make `anchor` (just agreed by every party) what is in force from its
/// own date on: at its date, at each later date another agreed version takes effect (a rate
/// change made while it awaited signatures, built from the content before it) and at each
/// later card version, the anchor's content priced on `card` as in force then (unpriced
/// when the agreement is not on a card), wherever that differs from what would otherwise
/// be in force. The parties agreed the anchor as the whole agreement from its date, so
/// nothing recorded before it overrides it later.
pub fn follow_ups_after(
    versions: &[AgreementVersion],
    anchor: &AgreementVersion,
    card: Option<&CardTimeline>,
) -> Result<Vec<(NaiveDate, AgreementContent)>, RateError> {
    let card = card.filter(|card| {
        anchor
            .content
            .rate
            .is_some_and(|rate| rate.rate_card_id == card.rate_card_id)
    });
    follow(versions, anchor.effective_from, card, |date| match card {
        Some(card) => priced(&anchor.content, card, date).map(Some),
        None => Ok(Some(anchor.content.clone())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::agreement::VersionState;
    use crate::domain::fixtures::*;
    use rust_decimal_macros::dec;
    use sds_money::Money;

    #[test]
    fn the_version_in_force_is_the_highest_numbered_agreed_one_effective_by_then() {
        let first = agreed(1, content("200.00", Some(dec!(10)), Some(1)), "2026-12-01");
        let later = agreed(2, content("210.00", Some(dec!(10)), Some(2)), "2027-04-01");
        let backdated = agreed(3, content("240.00", Some(dec!(12)), Some(1)), "2027-03-01");
        let mut awaiting = agreed(4, content("300.00", None, None), "2027-01-01");
        awaiting.state = VersionState::Awaiting;
        let versions = [first, later, backdated, awaiting];
        let on = |date: &str| in_force_on(&versions, day(date)).map(|version| version.version);
        assert_eq!(on("2026-11-30"), None, "before the start");
        assert_eq!(
            on("2027-02-28"),
            Some(1),
            "an awaiting version is not in force"
        );
        assert_eq!(on("2027-03-01"), Some(3));
        assert_eq!(
            on("2027-05-01"),
            Some(3),
            "the backdated variation took over"
        );
    }

    #[test]
    fn a_rate_change_follows_from_its_date_and_a_backdated_variation_is_repriced_after_it() {
        let first = agreed(1, content("200.00", Some(dec!(10)), Some(1)), "2026-12-01");
        let follow = rate_follow_ups(std::slice::from_ref(&first), &timeline(), day("2027-04-01"))
            .expect("priced");
        assert_eq!(follow.len(), 1);
        assert_eq!(follow[0].0, day("2027-04-01"));
        assert_eq!(follow[0].1.lines[0].weekly, money("210.00"));
        assert_eq!(follow[0].1.rate.map(|rate| rate.version), Some(2));
        let uplift = agreed(2, follow[0].1.clone(), "2027-04-01");

        // 12 hours from 1 March, agreed later at the rate in force in March: from April it
        // must be 12 x 21.00, not 12 x 20.00 and not the 10 hours of version 2.
        let backdated = agreed(3, content("240.00", Some(dec!(12)), Some(1)), "2027-03-01");
        let versions = [first, uplift, backdated];
        let follow = rate_follow_ups(&versions, &timeline(), day("2027-03-01")).expect("priced");
        let made: Vec<(NaiveDate, Money)> = follow
            .iter()
            .map(|(from, content)| (*from, content.lines[0].weekly))
            .collect();
        assert_eq!(made, vec![(day("2027-04-01"), money("252.00"))]);
        // Brought up to date, nothing more follows.
        let mut all = versions.to_vec();
        all.push(agreed(4, follow[0].1.clone(), "2027-04-01"));
        assert_eq!(
            rate_follow_ups(&all, &timeline(), day("2026-12-01")).expect("priced"),
            vec![]
        );
        assert_eq!(
            weekly_of(in_force_on(&all, day("2027-05-01")).expect("v4")),
            "252.00"
        );
    }

    #[test]
    fn agreements_not_priced_on_the_card_do_not_follow_it() {
        let unpriced = agreed(1, content("200.00", Some(dec!(10)), None), "2026-12-01");
        assert_eq!(
            rate_follow_ups(&[unpriced], &timeline(), day("2027-04-01")).expect("priced"),
            vec![]
        );
    }

    #[test]
    fn a_variation_agreed_after_a_rate_change_was_made_holds_from_its_date_on() {
        // Version 2 (12 hours from March) awaited signatures while the April uplift made
        // version 3 from version 1's 10 hours; once version 2 is agreed, April on must be
        // 12 hours at the new rate, not version 3's 10.
        let first = agreed(1, content("200.00", Some(dec!(10)), Some(1)), "2026-12-01");
        let mut pending = agreed(2, content("240.00", Some(dec!(12)), Some(1)), "2027-03-01");
        pending.state = VersionState::Awaiting;
        let stale = agreed(3, content("210.00", Some(dec!(10)), Some(2)), "2027-04-01");
        pending.state = VersionState::Agreed {
            on: day("2027-05-01"),
        };
        let versions = [first, pending.clone(), stale];
        let follow = follow_ups_after(&versions, &pending, Some(&timeline())).expect("priced");
        let made: Vec<(NaiveDate, Money)> = follow
            .iter()
            .map(|(from, content)| (*from, content.lines[0].weekly))
            .collect();
        assert_eq!(made, vec![(day("2027-04-01"), money("252.00"))]);
        // Unpriced agreements carry the agreed content past a version made before it.
        let plain_first = agreed(1, content("200.00", None, None), "2026-12-01");
        let plain = agreed(2, content("240.00", None, None), "2027-03-01");
        let mut later_terms = content("200.00", None, None);
        later_terms.outcomes = "Older outcomes".into();
        let older = agreed(3, later_terms, "2027-06-01");
        let follow =
            follow_ups_after(&[plain_first, plain.clone(), older], &plain, None).expect("unpriced");
        assert_eq!(follow.len(), 1);
        assert_eq!(follow[0].0, day("2027-06-01"));
        assert_eq!(follow[0].1, plain.content);
    }
}
