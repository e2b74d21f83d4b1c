//! `uptake_statistics_count_each_active_person_once`: each authority's uptake statistics
//! for today (assessment's GetUptakeStatistics, as its commissioning staff) count exactly
//! the people the workload has made active there, each once: on option 2 when their plan
//! is the option 2 line alone, on option 4 when a line of another option runs beside it,
//! and once in the cell of their one client group.
//!
//! What must stay true: what is expected comes from the workload and the steps the run has
//! made (who is signed, whose plan has ended), never from the service's own tables, so the
//! check compares two records kept apart.

use anyhow::Context as _;
use chrono::NaiveDate;
use sds::flow::{Platform, bearer};
use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;

use super::checks::Violation;
use super::workload::FundPlan;

const CHECK: &str = "uptake_statistics_count_each_active_person_once";

/// How many people an authority's statistics should count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expected {
    pub option_2: u64,
    pub option_4: u64,
}

impl Expected {
    pub fn people(&self) -> u64 {
        self.option_2 + self.option_4
    }
}

/// What the workload has made active on `today`: each signed fund (`signed` tells which)
/// whose plan has not ended by then, by authority.
pub fn expected<'a>(
    funds: impl Iterator<Item = &'a FundPlan>,
    signed: impl Fn(usize) -> bool,
    authorities: usize,
    today: NaiveDate,
) -> Vec<Expected> {
    let mut expected = vec![Expected::default(); authorities];
    for fund in funds {
        let ended = fund.plan_end.is_some_and(|end| end.from <= today);
        if !signed(fund.number - 1) || ended {
            continue;
        }
        if let Some(counts) = expected.get_mut(fund.authority) {
            if fund.others.is_empty() {
                counts.option_2 += 1;
            } else {
                counts.option_4 += 1;
            }
        }
    }
    expected
}

/// The first authority whose statistics count someone other than once.
pub fn uptake_statistics_count_each_active_person_once(
    seen: &[(String, Expected, proto::UptakeStatistics)],
) -> Option<Violation> {
    for (authority, expected, statistics) in seen {
        let by_option = statistics.by_option.unwrap_or_default();
        let in_cells: u64 = statistics.cells.iter().map(|cell| cell.people).sum();
        let counted = (
            statistics.people,
            by_option.option_1,
            by_option.option_2,
            by_option.option_3,
            by_option.option_4,
            in_cells,
        );
        let meant = (
            expected.people(),
            0,
            expected.option_2,
            0,
            expected.option_4,
            expected.people(),
        );
        if counted != meant {
            return Some(Violation {
                check: CHECK,
                detail: format!(
                    "{authority} counts (people, option 1, 2, 3, 4, in cells) {counted:?} \
                     but the run made {meant:?} active"
                ),
            });
        }
    }
    None
}

/// Each authority's statistics of `today`, beside what is expected of it, for the
/// authorities whose expected counts differ from those last checked (`last`, which this
/// updates), or every one when `all`: statistics read over every person of an authority,
/// so asking when nothing they count has changed would only slow a long run.
pub async fn load(
    platforms: &[Platform],
    expected: Vec<Expected>,
    last: &mut Vec<Option<Expected>>,
    today: NaiveDate,
    all: bool,
) -> anyhow::Result<Vec<(String, Expected, proto::UptakeStatistics)>> {
    last.resize(platforms.len(), None);
    let mut seen = Vec::with_capacity(platforms.len());
    for ((platform, expected), last) in platforms.iter().zip(expected).zip(last.iter_mut()) {
        if !all && *last == Some(expected) {
            continue;
        }
        *last = Some(expected);
        let authority = platform.authority.as_str().to_owned();
        let statistics = AssessmentServiceClient::new(platform.assessment.clone())
            .get_uptake_statistics(bearer(
                &platform.staff(&[Role::Commissioning]),
                proto::GetUptakeStatisticsRequest {
                    authority: authority.clone(),
                    at: Some(proto::Date {
                        iso: today.to_string(),
                    }),
                },
            ))
            .await
            .with_context(|| format!("{authority}'s uptake statistics"))?
            .into_inner();
        seen.push((authority, expected, statistics));
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statistics(
        people: u64,
        option_2: u64,
        option_4: u64,
        cells: &[u64],
    ) -> proto::UptakeStatistics {
        proto::UptakeStatistics {
            authority: "sim-1".into(),
            at: None,
            people,
            by_option: Some(proto::OptionCounts {
                option_1: 0,
                option_2,
                option_3: 0,
                option_4,
            }),
            cells: cells
                .iter()
                .map(|people| proto::UptakeCell {
                    people: *people,
                    ..proto::UptakeCell::default()
                })
                .collect(),
        }
    }

    fn seen(
        statistics: proto::UptakeStatistics,
    ) -> Vec<(String, Expected, proto::UptakeStatistics)> {
        let expected = Expected {
            option_2: 5,
            option_4: 2,
        };
        vec![("sim-1".into(), expected, statistics)]
    }

    #[test]
    fn statistics_counting_each_active_person_once_pass() {
        let found =
            uptake_statistics_count_each_active_person_once(&seen(statistics(7, 5, 2, &[5, 2])));
        assert_eq!(found, None);
    }

    #[test]
    fn a_person_counted_twice_or_not_at_all_is_a_violation() {
        let twice = statistics(8, 6, 2, &[6, 2]);
        assert!(uptake_statistics_count_each_active_person_once(&seen(twice)).is_some());
        let missing = statistics(6, 4, 2, &[4, 2]);
        assert!(uptake_statistics_count_each_active_person_once(&seen(missing)).is_some());
        let twice_in_cells = statistics(7, 5, 2, &[5, 2, 1]);
        assert!(uptake_statistics_count_each_active_person_once(&seen(twice_in_cells)).is_some());
    }
}
