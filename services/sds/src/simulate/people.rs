//! Who the simulated people are, beside their funds: where they live and the client group
//! they are assessed under, drawn from a stream of each fund's own (`fund-person`), so the
//! other draws of a fund are as they were without it.
//!
//! What must stay true: every person is an adult of a client group the national return
//! counts, living in one of the localities, and the draw depends on the seed and the fund
//! only.

use sds_proto::v1::ClientGroup;

use super::rng::Rng;

/// The localities simulated people live in.
pub const LOCALITIES: [&str; 6] = [
    "Banchory",
    "Stonehaven",
    "Inverurie",
    "Peterhead",
    "Huntly",
    "Ellon",
];

/// The client groups adults are assessed under, and how many in a hundred are in each.
const CLIENT_GROUPS: [(ClientGroup, u64); 6] = [
    (ClientGroup::ElderlyFrail, 40),
    (ClientGroup::PhysicalSensoryDisability, 20),
    (ClientGroup::LearningDisability, 15),
    (ClientGroup::MentalHealth, 10),
    (ClientGroup::Dementia, 10),
    (ClientGroup::NeurologicalCondition, 5),
];

/// Where a simulated person lives and the group they are assessed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonPlan {
    pub locality: &'static str,
    pub client_group: ClientGroup,
}

impl PersonPlan {
    /// The person of fund `index` (from 0) of the run drawn from `seed`.
    pub fn draw(seed: u64, index: usize) -> PersonPlan {
        let mut rng = Rng::stream(seed, "fund-person", index as u64);
        let locality = LOCALITIES[usize::try_from(rng.below(LOCALITIES.len() as u64)).unwrap_or(0)];
        let mut left = rng.below(100);
        let mut client_group = ClientGroup::ElderlyFrail;
        for (group, share) in CLIENT_GROUPS {
            if left < share {
                client_group = group;
                break;
            }
            left -= share;
        }
        PersonPlan {
            locality,
            client_group,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_shares_of_the_client_groups_make_a_hundred() {
        assert_eq!(
            CLIENT_GROUPS.iter().map(|(_, share)| share).sum::<u64>(),
            100
        );
    }

    #[test]
    fn people_are_spread_across_every_locality_and_client_group_and_drawn_the_same_again() {
        let people: Vec<PersonPlan> = (0..600).map(|index| PersonPlan::draw(7, index)).collect();
        let localities: BTreeSet<&str> = people.iter().map(|person| person.locality).collect();
        assert_eq!(localities.len(), LOCALITIES.len());
        let groups: BTreeSet<i32> = people
            .iter()
            .map(|person| person.client_group as i32)
            .collect();
        assert_eq!(groups.len(), CLIENT_GROUPS.len());
        assert_eq!(people[17], PersonPlan::draw(7, 17));
        assert_ne!(
            (0..50)
                .map(|index| PersonPlan::draw(7, index))
                .collect::<Vec<_>>(),
            (0..50)
                .map(|index| PersonPlan::draw(8, index))
                .collect::<Vec<_>>()
        );
    }
}
