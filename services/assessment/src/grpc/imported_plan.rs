//! The plan version a case-system import records for a person: the imported lines
//! numbered against the plan's history, effective from the earliest line, approved "as
//! imported" on the day; and whether imported lines are the ones already approved.
//!
//! What must stay true: a line the previous approved version already had keeps its number
//! (a line number always means one amount and arrangement), any other takes a number never
//! used in the plan; lines compare as equal whatever their order and numbers.

use chrono::NaiveDate;
use sds_vocabulary::Role;

use crate::domain::plan::{Approval, NewLine, PlanState, PlanVersion};
use crate::domain::{AuthorityPolicy, PlanLine, policy_in_effect, review_due_on};
use crate::error::AssessmentError;
use crate::store::StoredVersion;

/// The role an imported approval is recorded as: the case system's approval is taken as it
/// stands, and the panel is the role with no devolved limit.
const IMPORTED_AS: Role = Role::Panel;

/// The approved version an import records: lines the previous approved version had keep
/// their numbers, the plan is effective from its earliest line and approved "as imported"
/// today. The inner error is the reason a person is refused (a cost out of range).
pub(super) fn imported_version(
    imported: Vec<NewLine>,
    versions: &[StoredVersion],
    approved: Option<&StoredVersion>,
    today: NaiveDate,
    policies: &[AuthorityPolicy],
) -> Result<Result<StoredVersion, String>, AssessmentError> {
    let highest_used = versions
        .iter()
        .flat_map(|stored| stored.plan.lines())
        .map(|line| line.number)
        .max()
        .unwrap_or(0);
    let lines = number_imported(
        imported,
        approved.map(|stored| stored.plan.lines()).unwrap_or(&[]),
        highest_used,
    );
    let effective_from = lines
        .iter()
        .map(|line| line.span.start())
        .min()
        .unwrap_or(today);
    let version = versions
        .last()
        .map_or(1, |stored| stored.plan.version() + 1);
    let own_check = |invalid| anyhow::anyhow!("an imported plan failed its own check: {invalid}");
    let draft = PlanVersion::restore(
        version,
        effective_from,
        today,
        lines.clone(),
        PlanState::Draft,
        None,
    )
    .map_err(own_check)?;
    let weekly_cost = match draft.peak_weekly_cost_from(effective_from) {
        Ok(cost) => cost,
        Err(error) => return Ok(Err(error.to_string())),
    };
    let plan = PlanVersion::restore(
        version,
        effective_from,
        today,
        lines,
        PlanState::Approved(Approval {
            approved_on: today,
            approved_as: IMPORTED_AS,
            weekly_cost,
        }),
        None,
    )
    .map_err(own_check)?;
    Ok(Ok(StoredVersion {
        plan,
        review_due: policy_in_effect(policies, effective_from)
            .and_then(|policy| review_due_on(today, policy.review_interval)),
        previous_version: approved.map(|stored| stored.plan.version()),
        ends_plan: false,
    }))
}

/// Whether the stored lines carry exactly the imported ones, in any order and whatever
/// their numbers (each stored line matches one imported line at most).
pub(super) fn same_lines(stored: &[PlanLine], imported: &[NewLine]) -> bool {
    if stored.len() != imported.len() {
        return false;
    }
    let mut unmatched: Vec<NewLine> = stored.iter().map(unnumbered).collect();
    imported.iter().all(
        |line| match unmatched.iter().position(|candidate| candidate == line) {
            Some(index) => {
                unmatched.swap_remove(index);
                true
            }
            None => false,
        },
    )
}

fn unnumbered(line: &PlanLine) -> NewLine {
    NewLine {
        support_type: line.support_type,
        amount: line.amount,
        arrangement: line.arrangement.clone(),
        span: line.span,
    }
}

/// Numbers the imported lines: a line the previous approved version already had keeps its
/// number (a line number always means one amount and arrangement); any other takes a number
/// never used in this plan.
fn number_imported(
    imported: Vec<NewLine>,
    previous: &[PlanLine],
    highest_used: u32,
) -> Vec<PlanLine> {
    let mut free: Vec<&PlanLine> = previous.iter().collect();
    let mut next = highest_used;
    imported
        .into_iter()
        .map(
            |line| match free.iter().position(|old| unnumbered(old) == line) {
                Some(index) => {
                    let number = free.remove(index).number;
                    line.numbered(number)
                }
                None => {
                    next += 1;
                    line.numbered(next)
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::option::Arrangement;
    use crate::domain::{LineAmount, LineSpan, SupportType};
    use sds_money::Money;

    fn line(weekly: &str, support_type: SupportType) -> NewLine {
        NewLine {
            support_type,
            amount: LineAmount::per_week(Money::parse(weekly).expect("money")).expect("amount"),
            arrangement: Arrangement::DirectPayment,
            span: LineSpan::new("2026-10-01".parse().expect("date"), None).expect("span"),
        }
    }

    #[test]
    fn lines_are_the_same_in_any_order_and_each_matches_once() {
        let stored = number_imported(
            vec![
                line("10.00", SupportType::Other),
                line("10.00", SupportType::Other),
            ],
            &[],
            0,
        );
        assert!(same_lines(
            &stored,
            &[
                line("10.00", SupportType::Other),
                line("10.00", SupportType::Other)
            ]
        ));
        assert!(!same_lines(
            &stored,
            &[
                line("10.00", SupportType::Other),
                line("20.00", SupportType::Other)
            ]
        ));
        assert!(!same_lines(&stored, &[line("10.00", SupportType::Other)]));
    }

    #[test]
    fn a_line_kept_keeps_its_number_and_a_new_one_takes_a_number_never_used() {
        let previous = number_imported(
            vec![
                line("10.00", SupportType::PersonalCare),
                line("20.00", SupportType::DaySupport),
            ],
            &[],
            0,
        );
        // Line 3 was used by a version since withdrawn: the next new number is 4.
        let numbered = number_imported(
            vec![
                line("30.00", SupportType::Other),
                line("20.00", SupportType::DaySupport),
            ],
            &previous,
            3,
        );
        let numbers: Vec<u32> = numbered.iter().map(|line| line.number).collect();
        assert_eq!(numbers, vec![4, 2]);
    }
}
