//! Support plan versions as values, and their lifecycle: draft -> submitted -> approved or
//! rejected. Each rule is a function from a version to a new version or a refusal.
//!
//! What must stay true: an approved (or rejected) version never changes, since its fields
//! are private and every rule returns a new value; only a draft's lines are edited; a plan
//! over its budget is submitted only with a reason; a version is approved only with an
//! [`ApprovalGranted`] decided for its own cost; line numbers are unique within a version.
//! The plan's weekly cost on a date is the exact sum of its active lines, rounded once.

use chrono::NaiveDate;
use sds_money::Money;
use sds_vocabulary::text::required_text;
use sds_vocabulary::{Invalid, Role};

use super::amount::{LineAmount, YearlyRate};
use super::approval::ApprovalGranted;
use super::budget::{IndicativeBudget, MAX_REASON_CHARS};
use super::line::{LineNumber, LineSpan, PlanLine, SupportType};
use super::option::{Arrangement, ChoicePending, SdsOption};

sds_vocabulary::wire_enum! {
    /// Where a plan version is in its lifecycle.
    pub enum PlanStatus("plan status") => sds_proto::v1::PlanStatus {
        Draft = "draft",
        Submitted = "submitted",
        Approved = "approved",
        Rejected = "rejected",
    }
}

/// Who approved a version, when, and for what weekly cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub approved_on: NaiveDate,
    /// The approver's role whose devolved limit covered the cost.
    pub approved_as: Role,
    pub weekly_cost: Money,
}

/// A version's lifecycle state, with what each state needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanState {
    Draft,
    Submitted {
        submitted_on: NaiveDate,
    },
    Approved(Approval),
    Rejected {
        rejected_on: NaiveDate,
        reason: String,
    },
}

impl PlanState {
    pub fn status(&self) -> PlanStatus {
        match self {
            PlanState::Draft => PlanStatus::Draft,
            PlanState::Submitted { .. } => PlanStatus::Submitted,
            PlanState::Approved(_) => PlanStatus::Approved,
            PlanState::Rejected { .. } => PlanStatus::Rejected,
        }
    }
}

/// A line before it has a number: what a practitioner adds to a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    pub support_type: SupportType,
    pub amount: LineAmount,
    pub arrangement: Arrangement,
    pub span: LineSpan,
}

impl NewLine {
    pub(crate) fn numbered(self, number: LineNumber) -> PlanLine {
        PlanLine {
            number,
            support_type: self.support_type,
            amount: self.amount,
            arrangement: self.arrangement,
            span: self.span,
        }
    }
}

/// The plan's weekly cost on a date against its indicative budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostAgainstBudget {
    pub on: NaiveDate,
    pub weekly_cost: Money,
    pub budget: Money,
    /// How much the cost is over the budget; `None` when it is within it.
    pub over_by: Option<Money>,
}

/// Why a plan rule refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "version {version} is {status}; only a draft can be changed, so record a variation of the approved plan instead"
    )]
    NotADraft { version: u32, status: PlanStatus },
    #[error("version {version} is {status}; only a submitted plan can be approved or rejected")]
    NotSubmitted { version: u32, status: PlanStatus },
    #[error("version {version} is {status}; only an approved plan can be varied")]
    NotApproved { version: u32, status: PlanStatus },
    #[error("the plan has no lines; add at least one line of support before submitting it")]
    NoLines,
    #[error(
        "the plan costs {weekly_cost} a week, {over_by} over the indicative budget of {budget}; give the reason it should go ahead over budget"
    )]
    OverBudgetWithoutReason {
        weekly_cost: Money,
        budget: Money,
        over_by: Money,
    },
    #[error(
        "the approval was decided for a cost of {decided_for} a week but the plan costs {weekly_cost}; decide the approval again"
    )]
    ApprovalForAnotherCost {
        decided_for: Money,
        weekly_cost: Money,
    },
    #[error(
        "a variation recorded on {recorded_on} can take effect from {earliest_allowed} at the earliest (this authority allows {window_days} days of backdating), not {effective_from}"
    )]
    BackdatedTooFar {
        effective_from: NaiveDate,
        recorded_on: NaiveDate,
        window_days: u32,
        earliest_allowed: NaiveDate,
    },
    #[error(
        "version number {number} is not after version {latest}; a variation takes the next number"
    )]
    VersionNumberNotNext { number: u32, latest: u32 },
    #[error(
        "the change to line {number} gives no new support type, amount or arrangement; say what changes"
    )]
    NothingToChange { number: LineNumber },
    #[error("the plan has no line {number}")]
    UnknownLine { number: LineNumber },
    #[error(
        "line {number} ended on {ended_on}, before the variation takes effect on {effective_from}; it cannot be changed or ended again"
    )]
    LineAlreadyEnded {
        number: LineNumber,
        ended_on: NaiveDate,
        effective_from: NaiveDate,
    },
    #[error(
        "a line added by a variation from {effective_from} cannot start earlier, on {starts_on}; date the variation from {starts_on} instead"
    )]
    AddedLineStartsTooEarly {
        starts_on: NaiveDate,
        effective_from: NaiveDate,
    },
    #[error("the plan's weekly cost is beyond the largest amount of money the platform records")]
    CostOutOfRange,
    #[error("{0}")]
    Invalid(#[from] Invalid),
}

/// One version of a support plan. Built by [`PlanVersion::draft`], by a variation, or by
/// [`PlanVersion::restore`] from storage; changed only by functions returning new values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    version: u32,
    effective_from: NaiveDate,
    recorded_on: NaiveDate,
    lines: Vec<PlanLine>,
    state: PlanState,
    over_budget_reason: Option<String>,
}

impl PlanVersion {
    /// The first version of a plan: a draft whose lines are numbered from 1.
    pub fn draft(
        effective_from: NaiveDate,
        recorded_on: NaiveDate,
        lines: Vec<NewLine>,
    ) -> PlanVersion {
        PlanVersion {
            version: 1,
            effective_from,
            recorded_on,
            lines: number_lines(lines, 0),
            state: PlanState::Draft,
            over_budget_reason: None,
        }
    }

    /// A version as stored, checked: a version number from 1, unique line numbers.
    pub fn restore(
        version: u32,
        effective_from: NaiveDate,
        recorded_on: NaiveDate,
        lines: Vec<PlanLine>,
        state: PlanState,
        over_budget_reason: Option<String>,
    ) -> Result<PlanVersion, Invalid> {
        if version == 0 {
            return Err(Invalid::new(
                "version",
                "is 0; versions are numbered from 1",
            ));
        }
        for (index, line) in lines.iter().enumerate() {
            if lines[..index]
                .iter()
                .any(|earlier| earlier.number == line.number)
            {
                return Err(Invalid::new(
                    format!("lines[{index}].number"),
                    format!(
                        "is {}, which an earlier line already has; line numbers are unique in a plan",
                        line.number
                    ),
                ));
            }
        }
        Ok(PlanVersion {
            version,
            effective_from,
            recorded_on,
            lines,
            state,
            over_budget_reason,
        })
    }

    pub(crate) fn varied(
        version: u32,
        effective_from: NaiveDate,
        recorded_on: NaiveDate,
        lines: Vec<PlanLine>,
    ) -> PlanVersion {
        PlanVersion {
            version,
            effective_from,
            recorded_on,
            lines,
            state: PlanState::Draft,
            over_budget_reason: None,
        }
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn effective_from(&self) -> NaiveDate {
        self.effective_from
    }

    pub fn recorded_on(&self) -> NaiveDate {
        self.recorded_on
    }

    /// Every line of the plan's history as known in this version, active or not.
    pub fn lines(&self) -> &[PlanLine] {
        &self.lines
    }

    pub fn state(&self) -> &PlanState {
        &self.state
    }

    pub fn status(&self) -> PlanStatus {
        self.state.status()
    }

    pub fn over_budget_reason(&self) -> Option<&str> {
        self.over_budget_reason.as_deref()
    }

    /// The lines active on `on`.
    pub fn lines_active_on(&self, on: NaiveDate) -> impl Iterator<Item = &PlanLine> {
        self.lines.iter().filter(move |line| line.is_active_on(on))
    }

    /// The plan's option on `on`: the single option of its active lines, option 4 when they
    /// differ, `None` when no line is active.
    pub fn option_on(&self, on: NaiveDate) -> Option<SdsOption> {
        SdsOption::of_lines(self.lines_active_on(on).map(PlanLine::option))
    }

    /// The exact weekly rate of the lines active on `on`.
    pub fn rate_on(&self, on: NaiveDate) -> YearlyRate {
        self.lines_active_on(on)
            .fold(YearlyRate::ZERO, |total, line| {
                total.plus(line.amount.yearly_rate())
            })
    }

    /// The weekly cost on `on`: the exact sum of the active lines, rounded to the penny.
    pub fn weekly_cost_on(&self, on: NaiveDate) -> Result<Money, PlanError> {
        self.rate_on(on)
            .weekly_to_the_penny()
            .ok_or(PlanError::CostOutOfRange)
    }

    /// The highest weekly cost on any day from `from` on. Approval and the budget check use
    /// it, so that a line starting later cannot carry the plan past a limit unseen. The cost
    /// only rises when a line starts, so those days (and `from`) are the ones to look at.
    pub fn peak_weekly_cost_from(&self, from: NaiveDate) -> Result<Money, PlanError> {
        let mut peak = self.weekly_cost_on(from)?;
        for line in &self.lines {
            let start = line.span.start();
            if start > from {
                peak = peak.max(self.weekly_cost_on(start)?);
            }
        }
        Ok(peak)
    }

    /// The weekly cost on `on` against the budget, with how far over it is.
    pub fn cost_against_budget(
        &self,
        on: NaiveDate,
        budget: Money,
    ) -> Result<CostAgainstBudget, PlanError> {
        let weekly_cost = self.weekly_cost_on(on)?;
        Ok(compare(on, weekly_cost, budget))
    }

    /// Each line still waiting for the person's choice, with what is missing.
    pub fn lines_pending_choice(&self) -> Vec<(LineNumber, ChoicePending)> {
        self.lines
            .iter()
            .filter_map(|line| {
                line.arrangement
                    .ready_for_agreement()
                    .err()
                    .map(|pending| (line.number, pending))
            })
            .collect()
    }

    /// A draft with its lines replaced, numbered after the highest number ever used in it.
    pub fn with_draft_lines(&self, lines: Vec<NewLine>) -> Result<PlanVersion, PlanError> {
        self.ensure_status(PlanStatus::Draft)?;
        let highest = self.lines.iter().map(|line| line.number).max().unwrap_or(0);
        Ok(PlanVersion {
            lines: number_lines(lines, highest),
            ..self.clone()
        })
    }

    /// Submits a draft. Its peak weekly cost from the effective date is checked against the
    /// budget; over it, a reason is required and kept.
    pub fn submit(
        &self,
        submitted_on: NaiveDate,
        budget: &IndicativeBudget,
        over_budget_reason: Option<&str>,
    ) -> Result<PlanVersion, PlanError> {
        self.ensure_status(PlanStatus::Draft)?;
        if self.lines.is_empty() {
            return Err(PlanError::NoLines);
        }
        let weekly_cost = self.peak_weekly_cost_from(self.effective_from)?;
        let check = compare(self.effective_from, weekly_cost, budget.weekly);
        let reason = match (check.over_by, over_budget_reason) {
            (None, _) => None,
            (Some(over_by), None) => {
                return Err(PlanError::OverBudgetWithoutReason {
                    weekly_cost,
                    budget: budget.weekly,
                    over_by,
                });
            }
            (Some(over_by), Some(reason)) => {
                let reason = required_text("over_budget_reason", reason, MAX_REASON_CHARS)
                    .map_err(|_| PlanError::OverBudgetWithoutReason {
                        weekly_cost,
                        budget: budget.weekly,
                        over_by,
                    })?;
                Some(reason)
            }
        };
        Ok(PlanVersion {
            state: PlanState::Submitted { submitted_on },
            over_budget_reason: reason,
            ..self.clone()
        })
    }

    /// Submits a draft that ends the plan. It may have no lines left (a line not yet
    /// started when the plan ends is removed, having never accrued) and adds no cost, so
    /// it needs neither lines nor a budget check.
    pub fn submit_end(&self, submitted_on: NaiveDate) -> Result<PlanVersion, PlanError> {
        self.ensure_status(PlanStatus::Draft)?;
        Ok(PlanVersion {
            state: PlanState::Submitted { submitted_on },
            over_budget_reason: None,
            ..self.clone()
        })
    }

    /// Approves a submitted version with an approval decided for its own peak cost.
    pub fn approve(
        &self,
        granted: &ApprovalGranted,
        approved_on: NaiveDate,
    ) -> Result<PlanVersion, PlanError> {
        self.ensure_status(PlanStatus::Submitted)?;
        let weekly_cost = self.peak_weekly_cost_from(self.effective_from)?;
        if granted.weekly_cost() != weekly_cost {
            return Err(PlanError::ApprovalForAnotherCost {
                decided_for: granted.weekly_cost(),
                weekly_cost,
            });
        }
        Ok(PlanVersion {
            state: PlanState::Approved(Approval {
                approved_on,
                approved_as: granted.approved_as(),
                weekly_cost,
            }),
            ..self.clone()
        })
    }

    /// Rejects a submitted version, with the reason given to the practitioner.
    pub fn reject(&self, rejected_on: NaiveDate, reason: &str) -> Result<PlanVersion, PlanError> {
        self.ensure_status(PlanStatus::Submitted)?;
        let reason = required_text("reason", reason, MAX_REASON_CHARS)?;
        Ok(PlanVersion {
            state: PlanState::Rejected {
                rejected_on,
                reason,
            },
            ..self.clone()
        })
    }

    fn ensure_status(&self, wanted: PlanStatus) -> Result<(), PlanError> {
        let status = self.status();
        if status == wanted {
            return Ok(());
        }
        let version = self.version;
        Err(match wanted {
            PlanStatus::Draft => PlanError::NotADraft { version, status },
            PlanStatus::Submitted => PlanError::NotSubmitted { version, status },
            PlanStatus::Approved | PlanStatus::Rejected => {
                PlanError::NotApproved { version, status }
            }
        })
    }

    pub(crate) fn ensure_approved(&self) -> Result<(), PlanError> {
        self.ensure_status(PlanStatus::Approved)
    }
}

fn number_lines(lines: Vec<NewLine>, highest_used: LineNumber) -> Vec<PlanLine> {
    let mut numbered = Vec::with_capacity(lines.len());
    let mut number = highest_used;
    for line in lines {
        number += 1;
        numbered.push(line.numbered(number));
    }
    numbered
}

fn compare(on: NaiveDate, weekly_cost: Money, budget: Money) -> CostAgainstBudget {
    let over_by = weekly_cost
        .checked_sub(budget)
        .filter(|difference| difference.pence() > 0);
    CostAgainstBudget {
        on,
        weekly_cost,
        budget,
        over_by,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::budget::budget_set_by_hand;
    use crate::domain::option::{FundHolder, PersonsChoice, ProviderRef};

    pub(crate) fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
    }

    pub(crate) fn money(text: &str) -> Money {
        Money::parse(text).expect("test amounts are valid")
    }

    pub(crate) fn isf() -> Arrangement {
        Arrangement::PersonDirected(PersonsChoice {
            provider: Some(ProviderRef::parse("provider", "CS2004071234").expect("valid number")),
            holder: Some(FundHolder::Provider),
        })
    }

    pub(crate) fn new_line(
        weekly: &str,
        arrangement: Arrangement,
        start: &str,
        end: Option<&str>,
    ) -> NewLine {
        NewLine {
            support_type: SupportType::PersonalCare,
            amount: LineAmount::per_week(money(weekly)).expect("valid amount"),
            arrangement,
            span: LineSpan::new(date(start), end.map(date)).expect("valid span"),
        }
    }

    fn budget(weekly: &str) -> IndicativeBudget {
        budget_set_by_hand(money(weekly), "agreed at the assessment").expect("valid budget")
    }

    /// 200.00 a week of ISF from 1 April 2026 and 100.00 a week of direct payment from
    /// 1 June 2026.
    pub(crate) fn example_draft() -> PlanVersion {
        PlanVersion::draft(
            date("2026-04-01"),
            date("2026-03-20"),
            vec![
                new_line("200.00", isf(), "2026-04-01", None),
                new_line("100.00", Arrangement::DirectPayment, "2026-06-01", None),
            ],
        )
    }

    #[test]
    fn the_plans_option_is_that_of_its_active_lines_or_4_when_they_differ() {
        let plan = example_draft();
        let cases = [
            ("2026-03-31", None),
            ("2026-04-01", Some(SdsOption::IndividualServiceFund)),
            ("2026-05-31", Some(SdsOption::IndividualServiceFund)),
            ("2026-06-01", Some(SdsOption::Mix)),
        ];
        for (on, option) in cases {
            assert_eq!(plan.option_on(date(on)), option, "on {on}");
        }
    }

    #[test]
    fn the_weekly_cost_sums_the_active_lines_and_is_flagged_when_over_budget() {
        let plan = example_draft();
        let before = plan
            .cost_against_budget(date("2026-05-01"), money("250.00"))
            .unwrap();
        assert_eq!(before.weekly_cost, money("200.00"));
        assert_eq!(before.over_by, None);
        let after = plan
            .cost_against_budget(date("2026-06-01"), money("250.00"))
            .unwrap();
        assert_eq!(after.weekly_cost, money("300.00"));
        assert_eq!(after.over_by, Some(money("50.00")));
        assert_eq!(
            plan.peak_weekly_cost_from(date("2026-04-01")).unwrap(),
            money("300.00")
        );
    }

    #[test]
    fn a_plan_over_budget_is_submitted_only_with_a_reason() {
        let plan = example_draft();
        let refused = plan
            .submit(date("2026-03-21"), &budget("250.00"), None)
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "the plan costs 300.00 a week, 50.00 over the indicative budget of 250.00; give the reason it should go ahead over budget"
        );
        assert!(
            plan.submit(date("2026-03-21"), &budget("250.00"), Some("  "))
                .is_err()
        );
        let submitted = plan
            .submit(
                date("2026-03-21"),
                &budget("250.00"),
                Some("Two carers needed for moving and handling"),
            )
            .unwrap();
        assert_eq!(submitted.status(), PlanStatus::Submitted);
        assert_eq!(
            submitted.over_budget_reason(),
            Some("Two carers needed for moving and handling")
        );
        let within = plan
            .submit(date("2026-03-21"), &budget("300.00"), None)
            .unwrap();
        assert_eq!(within.over_budget_reason(), None);
    }

    #[test]
    fn a_plan_without_lines_cannot_be_submitted() {
        let empty = PlanVersion::draft(date("2026-04-01"), date("2026-03-20"), Vec::new());
        assert_eq!(
            empty.submit(date("2026-03-21"), &budget("1.00"), None),
            Err(PlanError::NoLines)
        );
    }

    #[test]
    fn only_a_draft_changes_and_only_a_submitted_plan_is_rejected() {
        let submitted = example_draft()
            .submit(date("2026-03-21"), &budget("300.00"), None)
            .unwrap();
        let error = submitted.with_draft_lines(Vec::new()).unwrap_err();
        assert!(matches!(
            error,
            PlanError::NotADraft {
                version: 1,
                status: PlanStatus::Submitted
            }
        ));
        let rejected = submitted
            .reject(date("2026-03-22"), "Please consider a short break line")
            .unwrap();
        assert_eq!(rejected.status(), PlanStatus::Rejected);
        assert!(matches!(
            rejected.reject(date("2026-03-23"), "again"),
            Err(PlanError::NotSubmitted { .. })
        ));
        assert!(matches!(
            submitted.reject(date("2026-03-22"), " "),
            Err(PlanError::Invalid(_))
        ));
    }

    #[test]
    fn a_revised_draft_numbers_new_lines_after_every_number_used() {
        let plan = example_draft();
        let revised = plan
            .with_draft_lines(vec![new_line(
                "50.00",
                Arrangement::DirectPayment,
                "2026-04-01",
                None,
            )])
            .unwrap();
        assert_eq!(revised.lines()[0].number, 3);
    }

    #[test]
    fn a_stored_version_with_repeated_line_numbers_is_refused() {
        let plan = example_draft();
        let mut lines = plan.lines().to_vec();
        lines[1].number = 1;
        let error = PlanVersion::restore(
            1,
            date("2026-04-01"),
            date("2026-03-20"),
            lines,
            PlanState::Draft,
            None,
        )
        .unwrap_err();
        assert_eq!(error.field(), "lines[1].number");
    }

    #[test]
    fn lines_waiting_for_the_persons_choice_are_listed_with_what_is_missing() {
        let plan = PlanVersion::draft(
            date("2026-04-01"),
            date("2026-03-20"),
            vec![
                new_line("200.00", isf(), "2026-04-01", None),
                new_line(
                    "80.00",
                    Arrangement::PersonDirected(PersonsChoice::default()),
                    "2026-04-01",
                    None,
                ),
            ],
        );
        let pending = plan.lines_pending_choice();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].0, 2);
        assert!(
            pending[0]
                .1
                .to_string()
                .starts_with("option 2, choice pending")
        );
        // Pending lines do not stop submission: the plan can be approved before the choice.
        assert!(
            plan.submit(date("2026-03-21"), &budget("280.00"), None)
                .is_ok()
        );
    }
}
