//! Withdrawing grades recorded in error. Because the latest inspection of a key question
//! wins, a wrong grade (a mistyped year, a grade keyed against the wrong service) would
//! otherwise stay current until the next inspection. Commissioning staff withdraw it with a
//! reason: the entry stays in the history, stops counting, and the previous inspection's
//! grade of that key question is current again.
//!
//! What must stay true: a withdrawal names an inspection the provider has grades from, and
//! only grades it has; withdrawing what is already withdrawn changes nothing (so a retried
//! request is harmless); nothing is ever deleted.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};

use super::grade::{Grade, KeyQuestion};
use super::provider::ProviderId;
use sds_vocabulary::{Invalid, NamedEnum as _};

/// The longest reason kept with a withdrawal.
pub const MAX_REASON_CHARS: usize = 500;

/// A request to withdraw grades from one inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradeWithdrawal {
    pub inspected_on: NaiveDate,
    /// Empty means every grade of that inspection.
    pub key_questions: Vec<KeyQuestion>,
    pub reason: String,
}

/// Who withdrew a grade, when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub at: DateTime<Utc>,
    pub by: String,
    pub reason: String,
}

/// One grade in a provider's history, as recorded, with its withdrawal if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradeEntry {
    pub grade: Grade,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    pub withdrawal: Option<Withdrawal>,
}

impl GradeEntry {
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawal.is_some()
    }
}

/// The provider has no grade that a withdrawal names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoSuchGrade(String);

/// Which key questions of the named inspection to withdraw now: those named (or all of the
/// inspection's, when none are) that are not withdrawn yet. An empty answer means the
/// request is already in effect.
pub fn grades_to_withdraw(
    provider: ProviderId,
    history: &[GradeEntry],
    request: &GradeWithdrawal,
) -> Result<Vec<KeyQuestion>, NoSuchGrade> {
    let of_inspection: Vec<&GradeEntry> = history
        .iter()
        .filter(|entry| entry.grade.inspected_on == request.inspected_on)
        .collect();
    if of_inspection.is_empty() {
        let dates: BTreeSet<NaiveDate> = history
            .iter()
            .map(|entry| entry.grade.inspected_on)
            .collect();
        let known = if dates.is_empty() {
            "it has no grades at all".to_owned()
        } else {
            let listed: Vec<String> = dates.iter().rev().map(ToString::to_string).collect();
            format!("its grades are from inspections on {}", listed.join(", "))
        };
        return Err(NoSuchGrade(format!(
            "provider {provider} has no grades from an inspection on {}; {known}",
            request.inspected_on
        )));
    }
    let named: Vec<KeyQuestion> = if request.key_questions.is_empty() {
        of_inspection
            .iter()
            .map(|entry| entry.grade.key_question)
            .collect()
    } else {
        request.key_questions.clone()
    };
    let mut to_withdraw = Vec::new();
    for key_question in named {
        match of_inspection
            .iter()
            .find(|entry| entry.grade.key_question == key_question)
        {
            Some(entry) if entry.is_withdrawn() => {}
            Some(_) => {
                if !to_withdraw.contains(&key_question) {
                    to_withdraw.push(key_question);
                }
            }
            None => {
                let graded: Vec<&str> = of_inspection
                    .iter()
                    .map(|entry| entry.grade.key_question.name())
                    .collect();
                return Err(NoSuchGrade(format!(
                    "provider {provider} has no {} grade from the inspection on {}; that inspection graded {}",
                    key_question.name(),
                    request.inspected_on,
                    graded.join(", ")
                )));
            }
        }
    }
    to_withdraw.sort();
    Ok(to_withdraw)
}

/// Whether each entry is its key question's current grade: the latest inspection of that
/// key question that is not withdrawn (the rule the `current_grade` view also follows).
pub fn current_flags(history: &[GradeEntry]) -> Vec<bool> {
    history
        .iter()
        .map(|entry| {
            !entry.is_withdrawn()
                && !history.iter().any(|other| {
                    !other.is_withdrawn()
                        && other.grade.key_question == entry.grade.key_question
                        && other.grade.inspected_on > entry.grade.inspected_on
                })
        })
        .collect()
}

/// The reason is required: a withdrawal without one cannot be reviewed later.
pub fn reason(field: &str, raw: &str) -> Result<String, Invalid> {
    sds_vocabulary::text::required_text(field, raw, MAX_REASON_CHARS).map_err(|invalid| {
        if raw.trim().is_empty() {
            Invalid::new(
                field,
                "is empty; say why the grades are withdrawn (kept in the provider's history)",
            )
        } else {
            invalid
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::grade::GradeValue;

    fn day(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, month, day).unwrap()
    }

    fn entry(key_question: KeyQuestion, value: u32, inspected_on: NaiveDate) -> GradeEntry {
        GradeEntry {
            grade: Grade {
                key_question,
                grade: GradeValue::new("grade", value).unwrap(),
                inspected_on,
            },
            recorded_at: Utc::now(),
            recorded_by: "staff".into(),
            withdrawal: None,
        }
    }

    fn withdrawn(mut entry: GradeEntry) -> GradeEntry {
        entry.withdrawal = Some(Withdrawal {
            at: Utc::now(),
            by: "staff".into(),
            reason: "typo".into(),
        });
        entry
    }

    fn request(inspected_on: NaiveDate, key_questions: &[KeyQuestion]) -> GradeWithdrawal {
        GradeWithdrawal {
            inspected_on,
            key_questions: key_questions.to_vec(),
            reason: "keyed against the wrong service".into(),
        }
    }

    #[test]
    fn no_key_questions_means_every_grade_of_the_inspection() {
        let history = [
            entry(KeyQuestion::Setting, 5, day(3, 1)),
            entry(KeyQuestion::Leadership, 2, day(3, 1)),
            entry(KeyQuestion::Leadership, 4, day(1, 1)),
        ];
        let id = ProviderId::generate();
        assert_eq!(
            grades_to_withdraw(id, &history, &request(day(3, 1), &[])).unwrap(),
            vec![KeyQuestion::Setting, KeyQuestion::Leadership]
        );
        assert_eq!(
            grades_to_withdraw(
                id,
                &history,
                &request(day(3, 1), &[KeyQuestion::Leadership])
            )
            .unwrap(),
            vec![KeyQuestion::Leadership]
        );
    }

    #[test]
    fn what_is_already_withdrawn_is_not_withdrawn_again() {
        let history = [
            withdrawn(entry(KeyQuestion::Setting, 5, day(3, 1))),
            entry(KeyQuestion::Leadership, 2, day(3, 1)),
        ];
        let id = ProviderId::generate();
        assert_eq!(
            grades_to_withdraw(id, &history, &request(day(3, 1), &[KeyQuestion::Setting])).unwrap(),
            Vec::<KeyQuestion>::new()
        );
        assert_eq!(
            grades_to_withdraw(id, &history, &request(day(3, 1), &[])).unwrap(),
            vec![KeyQuestion::Leadership]
        );
    }

    #[test]
    fn an_inspection_or_key_question_the_provider_lacks_is_named_with_what_it_has() {
        let history = [
            entry(KeyQuestion::Setting, 5, day(3, 1)),
            entry(KeyQuestion::Setting, 4, day(1, 1)),
        ];
        let id = ProviderId::generate();
        let wrong_date = grades_to_withdraw(id, &history, &request(day(2, 1), &[])).unwrap_err();
        assert!(
            wrong_date
                .to_string()
                .contains("no grades from an inspection on 2026-02-01; its grades are from inspections on 2026-03-01, 2026-01-01"),
            "{wrong_date}"
        );
        let wrong_question =
            grades_to_withdraw(id, &history, &request(day(3, 1), &[KeyQuestion::StaffTeam]))
                .unwrap_err();
        assert!(
            wrong_question
                .to_string()
                .contains("no staff_team grade from the inspection on 2026-03-01; that inspection graded setting"),
            "{wrong_question}"
        );
        let nothing = grades_to_withdraw(id, &[], &request(day(3, 1), &[])).unwrap_err();
        assert!(nothing.to_string().contains("it has no grades at all"));
    }

    #[test]
    fn once_the_latest_is_withdrawn_the_previous_inspection_is_current_again() {
        let history = [
            withdrawn(entry(KeyQuestion::Setting, 6, day(3, 1))),
            entry(KeyQuestion::Setting, 3, day(1, 1)),
            entry(KeyQuestion::Leadership, 4, day(2, 1)),
        ];
        assert_eq!(current_flags(&history), vec![false, true, true]);
        let all_withdrawn = [withdrawn(entry(KeyQuestion::Setting, 6, day(3, 1)))];
        assert_eq!(current_flags(&all_withdrawn), vec![false]);
    }

    #[test]
    fn a_withdrawal_needs_a_reason() {
        let error = reason("reason", "  ").unwrap_err();
        assert_eq!(error.field(), "reason");
        assert!(error.problem().contains("say why"));
        assert_eq!(reason("reason", " typo in year ").unwrap(), "typo in year");
        assert!(reason("reason", &"x".repeat(MAX_REASON_CHARS + 1)).is_err());
    }
}
