//! The facts about a person that assessment rules depend on: the client groups they belong
//! to (several may apply) and whether they are a child or an adult on a given date.
//!
//! What must stay true: a person is a child until the day before their 18th birthday and an
//! adult from it, whatever the date format or leap year; the client group names are the
//! ones stored and shown everywhere, written once here.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};

use sds_vocabulary::{Invalid, NamedEnum};

use super::line::PlanLine;

/// Age at which a person is an adult, and devolved limits switch from the children's to the
/// adults' figure.
pub const ADULT_AGE_YEARS: i32 = 18;

sds_vocabulary::wire_enum! {
    /// A client group as the national social care return counts them. Several may apply to
    /// one person.
    pub enum ClientGroup("client group") => sds_proto::v1::ClientGroup {
        Dementia = "dementia",
        MentalHealth = "mental_health",
        LearningDisability = "learning_disability",
        PhysicalSensoryDisability = "physical_sensory_disability",
        Drugs = "drugs",
        Alcohol = "alcohol",
        PalliativeCare = "palliative_care",
        Carer = "carer",
        ElderlyFrail = "elderly_frail",
        NeurologicalCondition = "neurological_condition",
        Autism = "autism",
        OtherVulnerable = "other_vulnerable",
    }
}

sds_vocabulary::wire_enum! {
    /// Whether the children's or the adults' rules (and devolved limits) apply.
    pub enum AgeGroup("age group") => sds_proto::v1::AgeGroup {
        Child = "child",
        Adult = "adult",
    }
}

/// The client groups of one person: a set, so a group given twice counts once and the order
/// is always the declaration order (which keeps statistics deterministic).
pub type ClientGroups = BTreeSet<ClientGroup>;

/// A person as the aggregate figures see them: their id in the authority's social care
/// system, their locality, their client groups and the lines of their approved plan (the
/// latest approved version, which holds the whole history of lines). One entry per person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedPerson {
    pub social_care_id: String,
    pub locality: String,
    pub client_groups: ClientGroups,
    pub approved_lines: Vec<PlanLine>,
}

/// Reads client group names (`dementia`, `mental-health`, ...), refusing unknown names with
/// the accepted list and the index of the bad entry: `client_groups[2]`.
pub fn client_groups(field: &str, raw: &[String]) -> Result<ClientGroups, Invalid> {
    let mut groups = ClientGroups::new();
    for (index, name) in raw.iter().enumerate() {
        groups.insert(ClientGroup::parse(&format!("{field}[{index}]"), name)?);
    }
    Ok(groups)
}

/// The day a person born on `date_of_birth` turns 18. Someone born on 29 February turns 18
/// on 1 March (18 years after a leap year is never one), as UK practice has it.
pub fn eighteenth_birthday(date_of_birth: NaiveDate) -> NaiveDate {
    let year = date_of_birth.year() + ADULT_AGE_YEARS;
    NaiveDate::from_ymd_opt(year, date_of_birth.month(), date_of_birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        // Only past chrono's last year; such a person is a child for ever.
        .unwrap_or(NaiveDate::MAX)
}

/// Child or adult on `on`. A date of birth after `on` (a person not yet born, which only a
/// typo produces) counts as a child: the stricter limits then apply.
pub fn age_group_on(date_of_birth: NaiveDate, on: NaiveDate) -> AgeGroup {
    if on >= eighteenth_birthday(date_of_birth) {
        AgeGroup::Adult
    } else {
        AgeGroup::Child
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
    }

    #[test]
    fn a_person_is_a_child_until_the_day_before_their_eighteenth_birthday() {
        let cases = [
            ("2008-06-15", "2026-06-14", AgeGroup::Child),
            ("2008-06-15", "2026-06-15", AgeGroup::Adult),
            ("2008-06-15", "2026-06-16", AgeGroup::Adult),
            ("1950-01-01", "2026-06-15", AgeGroup::Adult),
            ("2020-01-01", "2026-06-15", AgeGroup::Child),
            // Born on 29 February: 18 on 1 March in a year without one.
            ("2008-02-29", "2026-02-28", AgeGroup::Child),
            ("2008-02-29", "2026-03-01", AgeGroup::Adult),
            // Not yet born: treated as a child.
            ("2030-01-01", "2026-01-01", AgeGroup::Child),
        ];
        for (born, on, expected) in cases {
            assert_eq!(
                age_group_on(date(born), date(on)),
                expected,
                "born {born}, on {on}"
            );
        }
    }

    #[test]
    fn client_groups_parse_in_either_spelling_and_repeats_count_once() {
        let raw = vec![
            "dementia".to_owned(),
            "Mental-Health".to_owned(),
            "dementia".to_owned(),
        ];
        let groups = client_groups("client_groups", &raw).unwrap();
        assert_eq!(
            groups.into_iter().collect::<Vec<_>>(),
            [ClientGroup::Dementia, ClientGroup::MentalHealth]
        );
    }

    #[test]
    fn an_unknown_client_group_is_refused_with_its_position_and_the_accepted_names() {
        let raw = vec!["dementia".to_owned(), "elderly".to_owned()];
        let error = client_groups("client_groups", &raw).unwrap_err();
        assert_eq!(error.field(), "client_groups[1]");
        assert!(error.problem().contains("elderly_frail"), "{error}");
        assert_eq!(ClientGroup::ALL.len(), 12);
    }
}
