//! Whether a package request may be published for a line of a person's plan, as assessment
//! holds the plan: the request asks providers for what the person has been allowed, and
//! nothing else.
//!
//! What must stay true: a request is published only for a line that
//! - is on an approved version of the person's plan, and that version does not end the plan;
//! - is an option 2 line (the person directs the support) whose provider is still to be
//!   chosen: a line that already names one is changed by varying the plan, not by asking
//!   the market again;
//! - is running when support should start (it has started by then and has not ended);
//! - allows at least the weekly budget the request names, or, for a line given as hours at a
//!   rate, at least the hours a week it asks for.
//!
//! The refusal names the request's field and says what would be accepted. The rule is pure:
//! the handler asks assessment for the plan and passes what it says in as a [`PlanView`].

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::package_request::{Amount, RequestContent};

/// One line of the plan, as assessment shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineView {
    pub number: u32,
    /// 1, 2 or 3.
    pub option: u32,
    /// The provider named on the line, when one is.
    pub provider: Option<String>,
    /// The amount a week, exact to four decimal places.
    pub weekly: Decimal,
    /// The hours a week, when the line is given as hours at a rate.
    pub hours: Option<Decimal>,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// The plan version a request would be published against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanView {
    pub version: u32,
    pub approved: bool,
    pub ends_plan: bool,
    pub lines: Vec<LineView>,
}

/// Why the line cannot be asked for: the request's field it concerns, and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct LineRefused {
    pub field: &'static str,
    pub problem: String,
}

fn refused(field: &'static str, problem: String) -> LineRefused {
    LineRefused { field, problem }
}

fn option_in_words(option: u32) -> &'static str {
    match option {
        1 => "option 1 (a direct payment)",
        3 => "option 3 (the authority arranges it)",
        _ => "not an option 2 line",
    }
}

/// Whether `content` may be published for line `line_number` of `plan`.
pub fn ensure_line_may_be_requested(
    plan: &PlanView,
    line_number: u32,
    content: &RequestContent,
) -> Result<(), LineRefused> {
    if !plan.approved {
        return Err(refused(
            "person_id",
            format!(
                "the person's plan has no approved version (version {} is still to be approved); publish the request once it is approved",
                plan.version
            ),
        ));
    }
    if plan.ends_plan {
        return Err(refused(
            "person_id",
            format!(
                "the person's plan ends with version {}; there is no line to ask for",
                plan.version
            ),
        ));
    }
    let Some(line) = plan.lines.iter().find(|line| line.number == line_number) else {
        let numbers = match plan.lines.len() {
            0 => "no lines".to_owned(),
            1 => "line 1 only".to_owned(),
            count => format!("lines 1 to {count}"),
        };
        return Err(refused(
            "line_number",
            format!(
                "is {line_number}; version {} of the person's plan has {numbers}",
                plan.version
            ),
        ));
    };
    if line.option != 2 {
        return Err(refused(
            "line_number",
            format!(
                "line {line_number} is {}; package requests are for option 2 lines, where the person chooses the provider",
                option_in_words(line.option)
            ),
        ));
    }
    if let Some(provider) = &line.provider {
        return Err(refused(
            "line_number",
            format!(
                "line {line_number} already names its provider ({provider}); vary the plan to change it"
            ),
        ));
    }
    if content.start_date < line.start {
        return Err(refused(
            "content.start_date",
            format!(
                "is {}, before line {line_number} starts on {}; give a day from then on",
                content.start_date, line.start
            ),
        ));
    }
    if let Some(end) = line.end.filter(|end| content.start_date > *end) {
        return Err(refused(
            "content.start_date",
            format!(
                "is {}, after line {line_number} ends on {end}; give a day up to then",
                content.start_date
            ),
        ));
    }
    if let (Amount::HoursPerWeek(asked), Some(allowed)) = (content.amount, line.hours)
        && asked > allowed
    {
        return Err(refused(
            "content.hours_per_week",
            format!(
                "is {asked} hours a week, more than line {line_number} allows ({allowed} hours a week); ask for at most that, or vary the plan first"
            ),
        ));
    }
    if let Amount::WeeklyBudget(budget) = content.amount
        && budget.as_decimal() > line.weekly
    {
        return Err(refused(
            "content.weekly_budget",
            format!(
                "is {budget} a week, more than line {line_number} allows ({} a week); ask for at most that, or vary the plan first",
                // The most whole pence it allows: an annual amount need not be whole pence a week.
                line.weekly
                    .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sds_money::Money;

    fn day(iso: &str) -> NaiveDate {
        iso.parse().expect("a date")
    }

    fn line(number: u32, option: u32) -> LineView {
        LineView {
            number,
            option,
            provider: None,
            weekly: Decimal::new(2500000, 4),
            hours: None,
            start: day("2026-10-01"),
            end: None,
        }
    }

    fn plan() -> PlanView {
        PlanView {
            version: 2,
            approved: true,
            ends_plan: false,
            lines: vec![line(1, 3), line(2, 2)],
        }
    }

    fn content(amount: Amount, start: &str) -> RequestContent {
        RequestContent {
            needs_summary: "Day support.".to_owned(),
            service_types: vec!["Day support".to_owned()],
            locality: "Aberdeenshire".to_owned(),
            amount,
            start_date: day(start),
            closing_date: day("2026-12-01"),
        }
    }

    fn budget(amount: &str) -> Amount {
        Amount::WeeklyBudget(Money::parse(amount).expect("money"))
    }

    fn refusal(plan: &PlanView, number: u32, content: &RequestContent) -> String {
        ensure_line_may_be_requested(plan, number, content)
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn an_unchosen_option_2_line_of_an_approved_plan_may_be_asked_for_up_to_its_amount() {
        let asked = content(budget("250.00"), "2026-12-14");
        assert_eq!(ensure_line_may_be_requested(&plan(), 2, &asked), Ok(()));
        let hours = content(Amount::HoursPerWeek(Decimal::from(40)), "2026-10-01");
        assert_eq!(ensure_line_may_be_requested(&plan(), 2, &hours), Ok(()));
    }

    #[test]
    fn each_reason_names_the_field_and_what_is_accepted() {
        let asked = content(budget("250.00"), "2026-12-14");
        let mut draft = plan();
        draft.approved = false;
        assert!(
            refusal(&draft, 2, &asked)
                .starts_with("person_id: the person's plan has no approved version (version 2")
        );
        let mut ended = plan();
        ended.ends_plan = true;
        assert!(refusal(&ended, 2, &asked).starts_with("person_id: the person's plan ends"));
        assert_eq!(
            refusal(&plan(), 3, &asked),
            "line_number: is 3; version 2 of the person's plan has lines 1 to 2"
        );
        assert!(
            refusal(&plan(), 1, &asked)
                .starts_with("line_number: line 1 is option 3 (the authority arranges it);")
        );
        let mut chosen = plan();
        chosen.lines[1].provider = Some("CS2004071234".to_owned());
        assert!(
            refusal(&chosen, 2, &asked)
                .starts_with("line_number: line 2 already names its provider (CS2004071234)")
        );
        assert!(
            refusal(&plan(), 2, &content(budget("250.00"), "2026-09-30")).starts_with(
                "content.start_date: is 2026-09-30, before line 2 starts on 2026-10-01"
            )
        );
        let mut ending = plan();
        ending.lines[1].end = Some(day("2026-12-13"));
        assert!(
            refusal(&ending, 2, &asked)
                .starts_with("content.start_date: is 2026-12-14, after line 2 ends on 2026-12-13")
        );
        assert_eq!(
            refusal(&plan(), 2, &content(budget("250.01"), "2026-12-14")),
            "content.weekly_budget: is 250.01 a week, more than line 2 allows (250.00 a week); ask for at most that, or vary the plan first"
        );
    }

    #[test]
    fn a_line_of_hours_allows_at_most_its_hours() {
        let mut hours = plan();
        hours.lines[1].hours = Some(Decimal::new(105, 1));
        let asked =
            |amount: i64| content(Amount::HoursPerWeek(Decimal::new(amount, 1)), "2026-12-14");
        assert_eq!(ensure_line_may_be_requested(&hours, 2, &asked(105)), Ok(()));
        assert_eq!(
            refusal(&hours, 2, &asked(106)),
            "content.hours_per_week: is 10.6 hours a week, more than line 2 allows (10.5 hours a week); ask for at most that, or vary the plan first"
        );
    }

    #[test]
    fn a_line_ending_on_the_start_day_still_runs_that_day() {
        let mut ending = plan();
        ending.lines[1].end = Some(day("2026-12-14"));
        let asked = content(budget("1.00"), "2026-12-14");
        assert_eq!(ensure_line_may_be_requested(&ending, 2, &asked), Ok(()));
    }
}
