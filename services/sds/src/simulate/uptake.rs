//! `uptake_statistics_count_each_active_person_once`: each authority's uptake statistics
//! for today (assessment's GetUptakeStatistics, as its commissioning staff) count exactly
//! the people the workload has made active there, each once: on option 2 when their plan
//! is the option 2 line alone, on option 4 when a line of another option runs beside it,
//! and once in the cell of their locality, their one client group and that option.
//!
//! What must stay true: what is expected comes from the workload and the steps the run has
//! made (who is signed, whose plan has ended), never from the service's own tables, so the
//! check compares two records kept apart.

use std::collections::BTreeMap;

use anyhow::Context as _;
use chrono::NaiveDate;
use sds::flow::{Platform, bearer};
use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;

use super::checks::Violation;
use super::workload::FundPlan;

const CHECK: &str = "uptake_statistics_count_each_active_person_once";

/// A cell of the statistics: locality, client group (as the proto numbers it) and option.
pub type Cell = (String, i32, u32);

/// How many people an authority's statistics should count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub option_2: u64,
    pub option_4: u64,
    pub cells: BTreeMap<Cell, u64>,
}

impl Expected {
    pub fn people(&self) -> u64 {
        self.option_2 + self.option_4
    }

    fn count(&mut self, locality: &str, client_group: proto::ClientGroup, option: u32) {
        if option == 2 {
            self.option_2 += 1;
        } else {
            self.option_4 += 1;
        }
        *self
            .cells
            .entry((locality.to_owned(), client_group as i32, option))
            .or_default() += 1;
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
            let option = if fund.others.is_empty() { 2 } else { 4 };
            counts.count(fund.person.locality, fund.person.client_group, option);
        }
    }
    expected
}

/// The first authority whose statistics count someone other than once, or in a cell other
/// than their own.
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
        let mut cells: BTreeMap<Cell, u64> = BTreeMap::new();
        for cell in &statistics.cells {
            *cells
                .entry((cell.locality.clone(), cell.client_group, cell.option))
                .or_default() += cell.people;
        }
        if let Some(((locality, group, option), people)) = expected
            .cells
            .iter()
            .map(|(cell, people)| (cell, *people, cells.get(cell).copied().unwrap_or(0)))
            .chain(
                cells
                    .iter()
                    .filter(|(cell, _)| !expected.cells.contains_key(*cell))
                    .map(|(cell, people)| (cell, 0, *people)),
            )
            .find(|(_, meant, counted)| meant != counted)
            .map(|(cell, meant, counted)| (cell, (meant, counted)))
        {
            let group = proto::ClientGroup::try_from(*group).map_or_else(
                |_| group.to_string(),
                |group| {
                    let name = group.as_str_name();
                    name.strip_prefix("CLIENT_GROUP_")
                        .unwrap_or(name)
                        .to_lowercase()
                },
            );
            return Some(Violation {
                check: CHECK,
                detail: format!(
                    "{authority} counts {} in {locality}, {group}, option {option} but the \
                     run made {} active there",
                    people.1, people.0
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
        if !all && last.as_ref() == Some(&expected) {
            continue;
        }
        *last = Some(expected.clone());
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

    /// Statistics whose cells are `(locality, option, people)`, every one of elderly frail.
    fn statistics(
        people: u64,
        option_2: u64,
        option_4: u64,
        cells: &[(&str, u32, u64)],
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
                .map(|(locality, option, people)| proto::UptakeCell {
                    locality: (*locality).to_owned(),
                    client_group: proto::ClientGroup::ElderlyFrail as i32,
                    option: *option,
                    people: *people,
                })
                .collect(),
        }
    }

    const FAIR: [(&str, u32, u64); 3] = [("Banchory", 2, 4), ("Ellon", 2, 1), ("Ellon", 4, 2)];

    fn seen(
        statistics: proto::UptakeStatistics,
    ) -> Vec<(String, Expected, proto::UptakeStatistics)> {
        let mut expected = Expected::default();
        for _ in 0..4 {
            expected.count("Banchory", proto::ClientGroup::ElderlyFrail, 2);
        }
        expected.count("Ellon", proto::ClientGroup::ElderlyFrail, 2);
        for _ in 0..2 {
            expected.count("Ellon", proto::ClientGroup::ElderlyFrail, 4);
        }
        vec![("sim-1".into(), expected, statistics)]
    }

    #[test]
    fn statistics_counting_each_active_person_once_pass() {
        let found =
            uptake_statistics_count_each_active_person_once(&seen(statistics(7, 5, 2, &FAIR)));
        assert_eq!(found, None);
    }

    #[test]
    fn a_person_counted_twice_or_not_at_all_is_a_violation() {
        let twice = statistics(
            8,
            6,
            2,
            &[("Banchory", 2, 5), ("Ellon", 2, 1), ("Ellon", 4, 2)],
        );
        assert!(uptake_statistics_count_each_active_person_once(&seen(twice)).is_some());
        let missing = statistics(
            6,
            4,
            2,
            &[("Banchory", 2, 3), ("Ellon", 2, 1), ("Ellon", 4, 2)],
        );
        assert!(uptake_statistics_count_each_active_person_once(&seen(missing)).is_some());
        let twice_in_cells = statistics(
            7,
            5,
            2,
            &[("Banchory", 2, 5), ("Ellon", 2, 1), ("Ellon", 4, 2)],
        );
        assert!(uptake_statistics_count_each_active_person_once(&seen(twice_in_cells)).is_some());
    }

    #[test]
    fn a_person_counted_once_but_in_another_locality_or_option_is_a_violation() {
        let moved = statistics(
            7,
            5,
            2,
            &[("Banchory", 2, 3), ("Ellon", 2, 2), ("Ellon", 4, 2)],
        );
        let found = uptake_statistics_count_each_active_person_once(&seen(moved))
            .expect("a person in the wrong locality");
        assert_eq!(
            found.detail,
            "sim-1 counts 3 in Banchory, elderly_frail, option 2 but the run made 4 active there"
        );
        let other_option = statistics(
            7,
            5,
            2,
            &[
                ("Banchory", 2, 4),
                ("Ellon", 2, 1),
                ("Ellon", 4, 1),
                ("Ellon", 1, 1),
            ],
        );
        assert!(uptake_statistics_count_each_active_person_once(&seen(other_option)).is_some());
    }
}
