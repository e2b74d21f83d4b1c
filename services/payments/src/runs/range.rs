//! A range of schedules by agreement id, both ends included: what a chunk of a run covers.

use uuid::Uuid;

/// The schedules whose agreement ids lie from `first` to `last`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleRange {
    pub first: Uuid,
    pub last: Uuid,
}

impl ScheduleRange {
    /// Every schedule.
    pub const ALL: ScheduleRange = ScheduleRange {
        first: Uuid::nil(),
        last: Uuid::from_u128(u128::MAX),
    };

    /// The id just before the range's first, from which pages are read "after"; `None` when
    /// the range starts at the smallest id.
    pub fn before_first(&self) -> Option<Uuid> {
        self.first.as_u128().checked_sub(1).map(Uuid::from_u128)
    }

    /// The ranges cut at `cut_points` (each the last id of its range), which together cover
    /// every id once: the first from the smallest id, the last to the largest.
    pub fn cut_at(cut_points: &[Uuid]) -> Vec<ScheduleRange> {
        let mut ranges = Vec::with_capacity(cut_points.len() + 1);
        let mut first = Some(Self::ALL.first);
        for point in cut_points {
            let Some(from) = first else { break };
            if *point < from {
                continue;
            }
            ranges.push(ScheduleRange {
                first: from,
                last: *point,
            });
            first = point.as_u128().checked_add(1).map(Uuid::from_u128);
        }
        if let Some(from) = first {
            ranges.push(ScheduleRange {
                first: from,
                last: Self::ALL.last,
            });
        }
        ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn no_cut_is_one_range_of_everything() {
        assert_eq!(ScheduleRange::cut_at(&[]), vec![ScheduleRange::ALL]);
        assert_eq!(ScheduleRange::ALL.before_first(), None);
    }

    #[test]
    fn a_cut_at_the_largest_id_leaves_no_empty_range_after_it() {
        let ranges = ScheduleRange::cut_at(&[Uuid::from_u128(5), ScheduleRange::ALL.last]);
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges[1].first, Uuid::from_u128(6));
        assert_eq!(ranges[1].before_first(), Some(Uuid::from_u128(5)));
    }

    proptest! {
        /// Every id falls in exactly one range, whatever the cut points.
        #[test]
        fn ranges_cover_every_id_once(
            mut points in proptest::collection::vec(any::<u128>(), 0..20),
            probes in proptest::collection::vec(any::<u128>(), 1..50),
        ) {
            points.sort_unstable();
            points.dedup();
            let cuts: Vec<Uuid> = points.iter().copied().map(Uuid::from_u128).collect();
            let ranges = ScheduleRange::cut_at(&cuts);
            prop_assert_eq!(ranges[0].first, Uuid::nil());
            prop_assert_eq!(ranges[ranges.len() - 1].last, ScheduleRange::ALL.last);
            for pair in ranges.windows(2) {
                prop_assert_eq!(pair[0].last.as_u128() + 1, pair[1].first.as_u128());
            }
            for probe in probes.into_iter().chain(points.iter().copied()).chain([0, u128::MAX]) {
                let id = Uuid::from_u128(probe);
                let holding = ranges.iter().filter(|range| range.first <= id && id <= range.last).count();
                prop_assert_eq!(holding, 1);
            }
        }
    }
}
