//! Option uptake on a date, by client group and locality: the figures commissioning and
//! finance need (and that the research found authorities cannot count reliably).
//!
//! What must stay true: a person is counted when at least one approved line is active on
//! the date; their option is that of the lines active on the date (4 when they differ);
//! each person counts once in `people` and `by_option` however many client groups they
//! have, and once in the cell of each of their groups; cells with nobody are left out; the
//! order is always locality, then client group (declaration order), then option.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::option::SdsOption;
use super::person::{ClientGroup, SupportedPerson};

/// How many people are on each option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptionCounts {
    pub option_1: u64,
    pub option_2: u64,
    pub option_3: u64,
    pub option_4: u64,
}

impl OptionCounts {
    pub fn count(&self, option: SdsOption) -> u64 {
        match option {
            SdsOption::DirectPayment => self.option_1,
            SdsOption::IndividualServiceFund => self.option_2,
            SdsOption::Arranged => self.option_3,
            SdsOption::Mix => self.option_4,
        }
    }

    fn add_one(&mut self, option: SdsOption) {
        let count = match option {
            SdsOption::DirectPayment => &mut self.option_1,
            SdsOption::IndividualServiceFund => &mut self.option_2,
            SdsOption::Arranged => &mut self.option_3,
            SdsOption::Mix => &mut self.option_4,
        };
        *count += 1;
    }
}

/// The people of one locality and client group on one option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UptakeCell {
    pub locality: String,
    pub client_group: ClientGroup,
    pub option: SdsOption,
    pub people: u64,
}

/// Uptake on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uptake {
    pub on: NaiveDate,
    pub people: u64,
    pub by_option: OptionCounts,
    pub cells: Vec<UptakeCell>,
}

/// The person's option on `on` from their approved lines; `None` when none is active.
pub fn option_on(person: &SupportedPerson, on: NaiveDate) -> Option<SdsOption> {
    SdsOption::of_lines(
        person
            .approved_lines
            .iter()
            .filter(|line| line.is_active_on(on))
            .map(|line| line.option()),
    )
}

/// Uptake of `people` on `on`.
pub fn uptake_on(people: &[SupportedPerson], on: NaiveDate) -> Uptake {
    let mut counted: u64 = 0;
    let mut by_option = OptionCounts::default();
    // The key orders the cells: locality, client group, option.
    let mut cells: BTreeMap<(&str, ClientGroup, SdsOption), u64> = BTreeMap::new();
    for person in people {
        let Some(option) = option_on(person, on) else {
            continue;
        };
        counted += 1;
        by_option.add_one(option);
        for group in &person.client_groups {
            *cells
                .entry((person.locality.as_str(), *group, option))
                .or_insert(0) += 1;
        }
    }
    Uptake {
        on,
        people: counted,
        by_option,
        cells: cells
            .into_iter()
            .map(|((locality, client_group, option), people)| UptakeCell {
                locality: locality.to_owned(),
                client_group,
                option,
                people,
            })
            .collect(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::amount::LineAmount;
    use crate::domain::line::{LineSpan, PlanLine, SupportType};
    use crate::domain::option::Arrangement;
    use crate::domain::person::ClientGroups;
    use crate::domain::plan::tests::{date, isf, money};

    /// A line of option `option` (1, 2 or 3) from `start` to `end`.
    pub(crate) fn line(option: u8, start: &str, end: Option<&str>) -> PlanLine {
        let arrangement = match option {
            1 => Arrangement::DirectPayment,
            2 => isf(),
            _ => Arrangement::AuthorityArranged { provider: None },
        };
        PlanLine {
            number: 1,
            support_type: SupportType::SocialSupport,
            amount: LineAmount::per_week(money("100.00")).expect("valid amount"),
            arrangement,
            span: LineSpan::new(date(start), end.map(date)).expect("valid span"),
        }
    }

    fn active(option: u8) -> PlanLine {
        line(option, "2026-04-01", None)
    }

    pub(crate) fn person(
        id: u32,
        locality: &str,
        groups: &[ClientGroup],
        lines: Vec<PlanLine>,
    ) -> SupportedPerson {
        SupportedPerson {
            social_care_id: format!("P{id:03}"),
            locality: locality.to_owned(),
            client_groups: groups.iter().copied().collect::<ClientGroups>(),
            approved_lines: lines,
        }
    }

    /// 23 people in North and South with dementia (D), a learning disability (L) or caring
    /// (C); 20 of them have support active on 2026-10-01.
    fn fixture() -> Vec<SupportedPerson> {
        use ClientGroup::{Carer as C, Dementia as D, LearningDisability as L};
        vec![
            person(1, "North", &[D], vec![active(2)]),
            person(2, "North", &[D], vec![active(2)]),
            person(3, "North", &[L], vec![active(2)]),
            person(4, "North", &[D, L], vec![active(2)]),
            person(5, "North", &[C], vec![active(1)]),
            person(6, "North", &[L], vec![active(1)]),
            person(7, "North", &[D], vec![active(3)]),
            person(8, "North", &[D], vec![active(3), active(3)]),
            person(9, "North", &[L, C], vec![active(1), active(2)]),
            // Ended before the date: not counted.
            person(
                10,
                "North",
                &[D],
                vec![line(2, "2026-04-01", Some("2026-09-30"))],
            ),
            // Starts after the date: not counted.
            person(11, "North", &[C], vec![line(2, "2026-10-02", None)]),
            // An ended option 3 line does not make this person option 4.
            person(
                12,
                "North",
                &[L],
                vec![active(2), line(3, "2026-04-01", Some("2026-09-30"))],
            ),
            person(13, "South", &[D], vec![active(2)]),
            person(14, "South", &[L], vec![active(2)]),
            person(15, "South", &[C], vec![active(2)]),
            person(16, "South", &[D, C], vec![active(3)]),
            person(17, "South", &[L], vec![active(3)]),
            person(18, "South", &[L], vec![active(1)]),
            person(19, "South", &[D], vec![active(2), active(3)]),
            person(
                20,
                "South",
                &[C],
                vec![active(1), line(3, "2026-10-01", Some("2026-10-01"))],
            ),
            // No client group recorded: counted, but in no cell.
            person(21, "South", &[], vec![active(2)]),
            // No approved lines: not counted.
            person(22, "South", &[D], vec![]),
            person(23, "South", &[L, D, C], vec![active(1)]),
        ]
    }

    #[test]
    fn uptake_on_a_date_counts_each_person_once_and_once_in_each_of_their_groups() {
        let uptake = uptake_on(&fixture(), date("2026-10-01"));
        assert_eq!(uptake.people, 20);
        assert_eq!(
            uptake.by_option,
            OptionCounts {
                option_1: 4,
                option_2: 9,
                option_3: 4,
                option_4: 3,
            }
        );
        let cells: Vec<(&str, ClientGroup, u8, u64)> = uptake
            .cells
            .iter()
            .map(|cell| {
                (
                    cell.locality.as_str(),
                    cell.client_group,
                    cell.option.number(),
                    cell.people,
                )
            })
            .collect();
        use ClientGroup::{Carer as C, Dementia as D, LearningDisability as L};
        assert_eq!(
            cells,
            [
                ("North", D, 2, 3),
                ("North", D, 3, 2),
                ("North", L, 1, 1),
                ("North", L, 2, 3),
                ("North", L, 4, 1),
                ("North", C, 1, 1),
                ("North", C, 4, 1),
                ("South", D, 1, 1),
                ("South", D, 2, 1),
                ("South", D, 3, 1),
                ("South", D, 4, 1),
                ("South", L, 1, 2),
                ("South", L, 2, 1),
                ("South", L, 3, 1),
                ("South", C, 1, 1),
                ("South", C, 2, 1),
                ("South", C, 3, 1),
                ("South", C, 4, 1),
            ]
        );
    }

    #[test]
    fn the_same_people_give_the_same_figures_in_any_order() {
        let mut reversed = fixture();
        reversed.reverse();
        assert_eq!(
            uptake_on(&reversed, date("2026-10-01")),
            uptake_on(&fixture(), date("2026-10-01"))
        );
    }

    #[test]
    fn on_another_date_the_option_follows_the_lines_active_then() {
        // On 2026-10-02 person 20's option 3 line has ended and person 11 has started.
        let uptake = uptake_on(&fixture(), date("2026-10-02"));
        assert_eq!(uptake.people, 21);
        assert_eq!(uptake.by_option.count(SdsOption::Mix), 2);
        assert_eq!(uptake.by_option.count(SdsOption::DirectPayment), 5);
        assert_eq!(uptake.by_option.count(SdsOption::IndividualServiceFund), 10);
        // Nobody is supported before April.
        assert_eq!(uptake_on(&fixture(), date("2026-03-31")).people, 0);
        assert!(uptake_on(&fixture(), date("2026-03-31")).cells.is_empty());
    }
}
