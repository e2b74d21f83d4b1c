//! How the offers made on a package request are ranked for the social worker and the person:
//! by quality first, then by fit, and only then by price. A cheaper offer never passes a
//! better or better-fitting one; price settles ties, so it is shown but never the only key.
//!
//! Quality, best first:
//! 1. every check the provider needs is in date on the day (a lapsed PVG membership or
//!    insurance means support cannot safely start, whatever else the offer says);
//! 2. the provider's lowest current Care Inspectorate grade, in bands: very good or excellent
//!    (5-6), good (4), adequate (3) or not graded, weak or unsatisfactory (1-2). The Care
//!    Inspectorate grades only registered care services, so a personal assistant, a
//!    micro-provider or a community group has no grade: it is placed with adequate, neither
//!    below a weak service nor above a good one.
//!
//! Fit, best first: able to start by the day the request asks for (then the fewer days late
//! the better), more of the request's service types covered, within the weekly budget the
//! request names. Then the lower weekly price, then the earlier offer, then the offer id, so
//! the order is total and the same offers always rank the same way.

use chrono::NaiveDate;
use uuid::Uuid;

use super::grade::GradeValue;

/// What ranking needs to know of one offer and the provider that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedOffer {
    pub offer_id: Uuid,
    /// Whether every check the provider needs is in date on the day of ranking.
    pub checks_in_date: bool,
    /// The provider's lowest current grade; `None` for a provider the Care Inspectorate
    /// does not grade.
    pub lowest_grade: Option<GradeValue>,
    pub earliest_start: NaiveDate,
    /// How many of the request's service types the provider offers.
    pub service_types_covered: u32,
    /// The offer's weekly price, in pence.
    pub weekly_price_pence: i64,
    /// When the offer was made, as an ordering (the offer's sequence in the request).
    pub offered_seq: i64,
}

/// What the request asked for, as far as ranking goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    pub start: NaiveDate,
    /// The weekly budget the request names, in pence, if it names one (a request may ask
    /// for hours instead).
    pub weekly_budget_pence: Option<i64>,
}

/// The quality band of a lowest grade: 0 is best.
fn grade_band(lowest: Option<GradeValue>) -> u8 {
    match lowest.map(GradeValue::get) {
        Some(5..=6) => 0,
        Some(4) => 1,
        Some(3) | None => 2,
        Some(_) => 3,
    }
}

/// The sort key of an offer (smaller ranks higher): lapsed checks, grade band, days late,
/// service types covered (more first), over budget, price, when offered, id.
type Key = (bool, u8, i64, std::cmp::Reverse<u32>, bool, i64, i64, Uuid);

fn key(offer: &RankedOffer, wanted: Wanted) -> Key {
    let days_late = (offer.earliest_start - wanted.start).num_days().max(0);
    let over_budget = wanted
        .weekly_budget_pence
        .is_some_and(|budget| offer.weekly_price_pence > budget);
    (
        !offer.checks_in_date,
        grade_band(offer.lowest_grade),
        days_late,
        std::cmp::Reverse(offer.service_types_covered),
        over_budget,
        offer.weekly_price_pence,
        offer.offered_seq,
        offer.offer_id,
    )
}

/// `offers`, best first.
pub fn rank(mut offers: Vec<RankedOffer>, wanted: Wanted) -> Vec<RankedOffer> {
    offers.sort_by_cached_key(|offer| key(offer, wanted));
    offers
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap_or_default()
    }

    fn grade(value: u8) -> Option<GradeValue> {
        GradeValue::new("grade", u32::from(value)).ok()
    }

    fn offer(id: u128, lowest: Option<GradeValue>, price: i64) -> RankedOffer {
        RankedOffer {
            offer_id: Uuid::from_u128(id),
            checks_in_date: true,
            lowest_grade: lowest,
            earliest_start: day(1),
            service_types_covered: 1,
            weekly_price_pence: price,
            offered_seq: i64::try_from(id).unwrap_or_default(),
        }
    }

    const WANTED: Wanted = Wanted {
        start: match NaiveDate::from_ymd_opt(2026, 12, 1) {
            Some(start) => start,
            None => NaiveDate::MIN,
        },
        weekly_budget_pence: Some(50_000),
    };

    fn ids(ranked: &[RankedOffer]) -> Vec<u128> {
        ranked
            .iter()
            .map(|offer| offer.offer_id.as_u128())
            .collect()
    }

    #[test]
    fn a_better_graded_provider_ranks_above_a_cheaper_one() {
        let ranked = rank(
            vec![offer(1, grade(4), 30_000), offer(2, grade(6), 45_000)],
            WANTED,
        );
        assert_eq!(ids(&ranked), vec![2, 1]);
    }

    #[test]
    fn a_provider_with_a_lapsed_check_ranks_last_whatever_its_grade() {
        let mut lapsed = offer(1, grade(6), 30_000);
        lapsed.checks_in_date = false;
        let ranked = rank(vec![lapsed, offer(2, grade(2), 45_000)], WANTED);
        assert_eq!(ids(&ranked), vec![2, 1]);
    }

    #[test]
    fn an_ungraded_provider_sits_with_adequate_below_good_and_above_weak() {
        let ranked = rank(
            vec![
                offer(1, grade(2), 20_000),
                offer(2, None, 40_000),
                offer(3, grade(4), 45_000),
                offer(4, grade(3), 30_000),
            ],
            WANTED,
        );
        // Adequate and ungraded share a band, where the cheaper comes first.
        assert_eq!(ids(&ranked), vec![3, 4, 2, 1]);
    }

    #[test]
    fn within_a_band_fit_comes_before_price() {
        let mut late = offer(1, grade(5), 20_000);
        late.earliest_start = day(15);
        let mut narrow = offer(2, grade(5), 25_000);
        narrow.service_types_covered = 1;
        let mut broad = offer(3, grade(6), 40_000);
        broad.service_types_covered = 2;
        let over_budget = offer(4, grade(5), 60_000);
        let ranked = rank(vec![late, narrow, broad, over_budget], WANTED);
        // Starts on time first; of those, the one covering both service types; the one over
        // budget after the one within it; the late starter last though it is cheapest.
        assert_eq!(ids(&ranked), vec![3, 2, 4, 1]);
    }

    #[test]
    fn an_offer_starting_earlier_than_asked_is_as_good_as_one_on_the_day() {
        let mut early = offer(1, grade(5), 40_000);
        early.earliest_start = day(1) - chrono::Days::new(7);
        let on_the_day = offer(2, grade(5), 30_000);
        assert_eq!(ids(&rank(vec![early, on_the_day], WANTED)), vec![2, 1]);
    }

    #[test]
    fn without_a_budget_no_offer_is_over_it() {
        let wanted = Wanted {
            weekly_budget_pence: None,
            ..WANTED
        };
        let ranked = rank(
            vec![offer(1, grade(5), 90_000), offer(2, grade(5), 60_000)],
            wanted,
        );
        assert_eq!(ids(&ranked), vec![2, 1]);
    }

    fn any_offer() -> impl Strategy<Value = RankedOffer> {
        (
            any::<u16>(),
            any::<bool>(),
            prop::option::of(1u8..=6),
            0u32..40,
            0u32..4,
            1i64..200_000,
            0i64..1000,
        )
            .prop_map(
                |(id, checks, lowest, start, covered, price, seq)| RankedOffer {
                    offer_id: Uuid::from_u128(u128::from(id)),
                    checks_in_date: checks,
                    lowest_grade: lowest.and_then(grade),
                    earliest_start: day(1) + chrono::Days::new(u64::from(start)),
                    service_types_covered: covered,
                    weekly_price_pence: price,
                    offered_seq: seq,
                },
            )
    }

    proptest! {
        #[test]
        fn price_never_passes_quality(offers in prop::collection::vec(any_offer(), 0..30)) {
            let ranked = rank(offers.clone(), WANTED);
            // The same offers, whatever order they came in.
            let mut given = ids(&offers);
            let mut got = ids(&ranked);
            given.sort_unstable();
            got.sort_unstable();
            prop_assert_eq!(given, got);
            for pair in ranked.windows(2) {
                let (higher, lower) = (&pair[0], &pair[1]);
                prop_assert!(higher.checks_in_date >= lower.checks_in_date);
                if higher.checks_in_date == lower.checks_in_date {
                    prop_assert!(grade_band(higher.lowest_grade) <= grade_band(lower.lowest_grade));
                }
            }
            // The order does not depend on the order the offers arrived in.
            let mut reversed = offers;
            reversed.reverse();
            prop_assert_eq!(ids(&rank(reversed, WANTED)), ids(&ranked));
        }
    }
}
