//! Care Inspectorate grades: 1 (unsatisfactory) to 6 (excellent) for each key question of
//! the quality framework, from a dated inspection. A provider's current grade for a key
//! question is the one from its latest inspection; its minimum grade is the lowest current
//! grade, which is what "at least good" searches compare against.

use chrono::NaiveDate;

use sds_vocabulary::{Invalid, NamedEnum};

sds_vocabulary::wire_enum! {
    /// A key question of the Care Inspectorate's quality framework.
    pub enum KeyQuestion("key question") => sds_proto::v1::KeyQuestion {
        SupportWellbeing = "support_wellbeing",
        CareAndSupportPlanning = "care_and_support_planning",
        Setting = "setting",
        StaffTeam = "staff_team",
        Leadership = "leadership",
        CarePlayAndLearning = "care_play_and_learning",
    }
}

/// A grade from 1 to 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GradeValue(u8);

impl GradeValue {
    pub const LOWEST: u8 = 1;
    pub const HIGHEST: u8 = 6;

    pub fn new(field: &str, raw: u32) -> Result<GradeValue, Invalid> {
        match u8::try_from(raw) {
            Ok(value) if (Self::LOWEST..=Self::HIGHEST).contains(&value) => Ok(GradeValue(value)),
            _ => Err(Invalid::new(
                field,
                format!(
                    "is {raw}; Care Inspectorate grades run from {} to {}",
                    Self::LOWEST,
                    Self::HIGHEST
                ),
            )),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// The grade given to one key question at one inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grade {
    pub key_question: KeyQuestion,
    pub grade: GradeValue,
    pub inspected_on: NaiveDate,
}

/// Grades come from inspections that have happened: an inspection dated after `today` is
/// refused (a typo in the year would otherwise make a grade current for years, since the
/// latest inspection wins). Field names are relative to the list (`grades[0].inspected_on`).
pub fn ensure_inspected_by(field: &str, grades: &[Grade], today: NaiveDate) -> Result<(), Invalid> {
    for (index, grade) in grades.iter().enumerate() {
        if grade.inspected_on > today {
            return Err(Invalid::new(
                format!("{field}[{index}].inspected_on"),
                format!(
                    "{} is after today ({today}); grades come from an inspection that has happened",
                    grade.inspected_on
                ),
            ));
        }
    }
    Ok(())
}

/// An inspection grades each key question once: a list naming one twice is a mistake the
/// caller must resolve, not something to guess about. Field names are relative to the
/// list (`grades[3].key_question`).
pub fn ensure_each_key_question_once(list_field: &str, grades: &[Grade]) -> Result<(), Invalid> {
    for (index, grade) in grades.iter().enumerate() {
        if let Some(earlier) = grades[..index]
            .iter()
            .position(|other| other.key_question == grade.key_question)
        {
            return Err(Invalid::new(
                format!("{list_field}[{index}].key_question"),
                format!(
                    "repeats {} from {list_field}[{earlier}]; give each key question once",
                    grade.key_question.name()
                ),
            ));
        }
    }
    Ok(())
}

/// The lowest of the current grades; `None` for a provider never graded.
pub fn lowest(current: &[Grade]) -> Option<GradeValue> {
    current.iter().map(|grade| grade.grade).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grade(key_question: KeyQuestion, value: u32) -> Grade {
        Grade {
            key_question,
            grade: GradeValue::new("grade", value).unwrap(),
            inspected_on: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
        }
    }

    #[test]
    fn grades_run_from_1_to_6() {
        assert!(GradeValue::new("grade", 1).is_ok());
        assert!(GradeValue::new("grade", 6).is_ok());
        assert_eq!(
            GradeValue::new("grades[0].grade", 7)
                .unwrap_err()
                .to_string(),
            "grades[0].grade is 7; Care Inspectorate grades run from 1 to 6"
        );
        assert!(GradeValue::new("grade", 0).is_err());
        assert!(GradeValue::new("grade", u32::MAX).is_err());
    }

    #[test]
    fn a_key_question_graded_twice_in_one_inspection_is_refused() {
        let grades = [
            grade(KeyQuestion::SupportWellbeing, 5),
            grade(KeyQuestion::StaffTeam, 4),
            grade(KeyQuestion::SupportWellbeing, 3),
        ];
        let error = ensure_each_key_question_once("grades", &grades).unwrap_err();
        assert_eq!(error.field(), "grades[2].key_question");
        assert!(error.problem().contains("grades[0]"));
    }

    #[test]
    fn the_minimum_grade_is_the_lowest_current_grade() {
        let grades = [
            grade(KeyQuestion::Setting, 5),
            grade(KeyQuestion::Leadership, 3),
        ];
        assert_eq!(lowest(&grades).map(GradeValue::get), Some(3));
        assert_eq!(lowest(&[]), None);
    }

    #[test]
    fn every_key_question_reads_back_from_its_name() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<KeyQuestion>();
    }
}
