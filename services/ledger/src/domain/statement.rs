//! A fund's statement for a period: the balance at the start, the money that came in by
//! source, the money that went out by what it paid for and to whom, the balance at the end,
//! and what the plan meant the fund to receive in the period, as data and as a few plain
//! sentences the person can read.
//!
//! What must stay true: the closing balance is the opening balance plus every movement of
//! the period, exactly (money in less money out); movements of the same source or purpose
//! are netted, so a payment and its reversal cancel; the planned amount is the weekly
//! budget over the days of the period the fund was open, rounded once to the penny; what is
//! outstanding of the person's contribution is the balance of the fund's contribution-due
//! account at the end of the period, never worked out apart from the books.

use chrono::{Datelike as _, NaiveDate};
use uuid::Uuid;

use super::fund::AccountKind;
use super::transfer::Category;

/// Movements of a period on a fund's balance with one counterpart and one category,
/// netted: positive came in, negative went out (pence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Movements {
    pub counterpart: AccountKind,
    /// For a payable counterpart, the payee.
    pub payee: Option<Uuid>,
    pub category: Category,
    pub net: i64,
}

/// One line of a statement (pence, above zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementLine {
    pub counterpart: AccountKind,
    pub payee: Option<Uuid>,
    pub category: Category,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub opening: i64,
    pub money_in: Vec<StatementLine>,
    pub money_out: Vec<StatementLine>,
    pub total_in: i64,
    pub total_out: i64,
    pub closing: i64,
    /// The weekly budget over `planned_days`.
    pub planned: i64,
    /// The days of the period on which the fund was open.
    pub planned_days: i64,
    /// The person's contribution, where one was ever due.
    pub contribution: Option<Contribution>,
}

/// The person's contribution over a statement's period (pence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Contribution {
    /// What fell due in the period (net of any reduction).
    pub due: i64,
    /// What the person paid into the fund in the period.
    pub paid: i64,
    /// Still owed at the end of the period; negative when paid ahead.
    pub outstanding: i64,
}

/// What the plan meant the fund to receive, and the days it was open: from the day it
/// opened to the day it closed, both counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub weekly: i64,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
}

impl Budget {
    /// The days of `from..=to` on which the fund was open.
    fn open_days(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let start = from.max(self.opened_on);
        let end = self.closed_on.map_or(to, |closed| to.min(closed));
        if end < start { 0 } else { days(start, end) }
    }
}

/// The statement of a fund with `budget` from `from` to `to` (inclusive), whose balance was
/// `opening` when the period began.
pub fn statement(
    from: NaiveDate,
    to: NaiveDate,
    budget: Budget,
    opening: i64,
    movements: &[Movements],
    contribution: Option<Contribution>,
) -> Statement {
    let line = |movement: &Movements, amount: i64| StatementLine {
        counterpart: movement.counterpart,
        payee: movement.payee,
        category: movement.category,
        amount,
    };
    let mut money_in: Vec<StatementLine> = movements
        .iter()
        .filter(|movement| movement.net > 0)
        .map(|movement| line(movement, movement.net))
        .collect();
    let mut money_out: Vec<StatementLine> = movements
        .iter()
        .filter(|movement| movement.net < 0)
        .map(|movement| line(movement, -movement.net))
        .collect();
    // Largest first: what the reader wants to see first.
    money_in.sort_by_key(|line| std::cmp::Reverse(line.amount));
    money_out.sort_by_key(|line| std::cmp::Reverse(line.amount));
    let total_in = money_in.iter().map(|line| line.amount).sum();
    let total_out = money_out.iter().map(|line| line.amount).sum();
    Statement {
        from,
        to,
        opening,
        money_in,
        money_out,
        total_in,
        total_out,
        closing: opening + total_in - total_out,
        planned: planned(budget.weekly, budget.open_days(from, to)),
        planned_days: budget.open_days(from, to),
        contribution,
    }
}

/// Days from `from` to `to`, both counted.
fn days(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days() + 1
}

/// `weekly` pence over `days` days: weekly x days / 7, half a penny up.
fn planned(weekly: i64, days: i64) -> i64 {
    let sevenths = weekly.saturating_mul(days);
    (sevenths.saturating_mul(2) + 7) / 14
}

/// Pence as pounds with thousands separators: 150000 is "1,500.00".
pub fn pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let pence = pence.unsigned_abs();
    let whole = (pence / 100).to_string();
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02}", pence % 100)
}

/// "1 April" within the same year as `other`, "1 April 2026" otherwise.
fn day_words(day: NaiveDate, with_year: bool) -> String {
    if with_year {
        day.format("%-d %B %Y").to_string()
    } else {
        day.format("%-d %B").to_string()
    }
}

/// An authority's id in words: "demo-shire" is "Demo Shire".
pub fn authority_words(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().collect::<String>() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whom a payee is, without a name (the ledger holds ids): the end of its id.
fn payee_words(payee: Option<Uuid>) -> String {
    payee.map_or_else(
        || "a payee".to_owned(),
        |payee| {
            let id = payee.simple().to_string();
            format!("the provider whose reference ends {}", &id[id.len() - 4..])
        },
    )
}

fn source_words(line: &StatementLine, authority: &str) -> String {
    match line.counterpart {
        AccountKind::AuthorityFunding => format!("from {authority}"),
        AccountKind::TopUp => "from top-ups paid in by you or your family".to_owned(),
        AccountKind::Recovery => format!("back from {authority}"),
        AccountKind::Payable => format!("back from {}", payee_words(line.payee)),
        AccountKind::ManagementFee => "back from the management fee".to_owned(),
        AccountKind::OneOffPurchase => "back from a one-off purchase".to_owned(),
        AccountKind::FundBalance => "moved in from another fund".to_owned(),
        AccountKind::ContributionDue | AccountKind::Contribution => {
            "from your own contribution".to_owned()
        }
    }
}

fn use_words(line: &StatementLine, authority: &str) -> String {
    match line.counterpart {
        AccountKind::Payable => format!("was paid to {} for your support", payee_words(line.payee)),
        AccountKind::ManagementFee => "was the fee for looking after the money".to_owned(),
        AccountKind::OneOffPurchase => "was spent on one-off purchases".to_owned(),
        AccountKind::Recovery => format!("was returned to {authority} as unspent"),
        AccountKind::AuthorityFunding => format!("went back to {authority}"),
        AccountKind::TopUp => "was given back from top-ups".to_owned(),
        AccountKind::FundBalance => "was moved to another fund".to_owned(),
        AccountKind::ContributionDue | AccountKind::Contribution => {
            "was given back from your contribution".to_owned()
        }
    }
}

/// The statement in a few plain sentences, for the person whose fund it is.
pub fn statement_text(statement: &Statement, authority_id: &str) -> String {
    let authority = authority_words(authority_id);
    let same_year = statement.from.year() == statement.to.year();
    let period = format!(
        "Between {} and {}",
        day_words(statement.from, !same_year),
        day_words(statement.to, true)
    );
    let mut sentences = Vec::new();
    sentences.push(format!(
        "{period}, your fund started with {} and ended with {}.",
        pounds(statement.opening),
        pounds(statement.closing)
    ));
    if statement.money_in.is_empty() {
        sentences.push("No money came in.".to_owned());
    }
    for line in &statement.money_in {
        sentences.push(format!(
            "{} came in {}.",
            pounds(line.amount),
            source_words(line, &authority)
        ));
    }
    if statement.money_out.is_empty() {
        sentences.push("No money was paid out.".to_owned());
    }
    for line in &statement.money_out {
        sentences.push(format!(
            "{} {}.",
            pounds(line.amount),
            use_words(line, &authority)
        ));
    }
    let period_days = days(statement.from, statement.to);
    sentences.push(
        if statement.planned_days == period_days && period_days == 1 {
            format!(
                "Your plan meant {} for this day.",
                pounds(statement.planned)
            )
        } else if statement.planned_days == period_days {
            format!(
                "Your plan meant {} for these {} days.",
                pounds(statement.planned),
                period_days
            )
        } else if statement.planned_days == 0 {
            "The fund was not open on these days, so your plan meant nothing for them.".to_owned()
        } else {
            format!(
                "The fund was open on {} of these days, and your plan meant {} for them.",
                statement.planned_days,
                pounds(statement.planned)
            )
        },
    );
    if let Some(contribution) = statement.contribution {
        sentences.push(contribution_words(contribution));
    }
    sentences.join(" ") + "\n"
}

/// What the person paid of their contribution and what is left to pay, in one sentence.
fn contribution_words(contribution: Contribution) -> String {
    let owed = match contribution.outstanding {
        0 => "nothing is outstanding".to_owned(),
        outstanding if outstanding > 0 => format!("{} is outstanding", pounds(outstanding)),
        ahead => format!("you have paid {} ahead", pounds(-ahead)),
    };
    format!(
        "Your contribution for these days was {} and you paid {}; {owed}.",
        pounds(contribution.due.max(0)),
        pounds(contribution.paid)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    const PROVIDER: Uuid = Uuid::from_u128(0xc5a1);

    fn budget(weekly: i64, opened_on: &str, closed_on: Option<&str>) -> Budget {
        Budget {
            weekly,
            opened_on: day(opened_on),
            closed_on: closed_on.map(day),
        }
    }

    #[test]
    fn the_plan_counts_only_the_days_the_fund_was_open() {
        let april = |opened: &str, closed: Option<&str>| {
            statement(
                day("2026-04-01"),
                day("2026-04-28"),
                budget(37_500, opened, closed),
                0,
                &[],
                None,
            )
        };
        // Opened on the 15th: 14 of the 28 days, two weeks.
        let late = april("2026-04-15", None);
        assert_eq!((late.planned_days, late.planned), (14, 75_000));
        assert!(statement_text(&late, "fife").ends_with(
            "The fund was open on 14 of these days, and your plan meant 750.00 for them.\n"
        ));
        // Closed on the 7th: its first week.
        let early = april("2025-01-01", Some("2026-04-07"));
        assert_eq!((early.planned_days, early.planned), (7, 37_500));
        // Opened after the period: nothing was meant for it.
        let after = april("2026-05-01", None);
        assert_eq!((after.planned_days, after.planned), (0, 0));
        assert!(statement_text(&after, "fife").contains("so your plan meant nothing for them."));
        // Open throughout: every day.
        assert_eq!(april("2026-04-01", Some("2026-04-28")).planned_days, 28);
    }

    #[test]
    fn the_closing_balance_is_the_opening_and_every_movement_netted_by_source_and_purpose() {
        let movements = [
            Movements {
                counterpart: AccountKind::AuthorityFunding,
                payee: None,
                category: Category::Funding,
                net: 150_000,
            },
            // A payment of 1,400.00 of which 87.50 was reversed.
            Movements {
                counterpart: AccountKind::Payable,
                payee: Some(PROVIDER),
                category: Category::SupportPayment,
                net: -131_250,
            },
            Movements {
                counterpart: AccountKind::ManagementFee,
                payee: None,
                category: Category::ManagementFee,
                net: -7_500,
            },
            Movements {
                counterpart: AccountKind::TopUp,
                payee: None,
                category: Category::TopUp,
                net: 0,
            },
        ];
        let statement = statement(
            day("2026-04-01"),
            day("2026-04-28"),
            budget(37_500, "2026-01-05", None),
            20_000,
            &movements,
            None,
        );
        assert_eq!(statement.total_in, 150_000);
        assert_eq!(statement.total_out, 138_750);
        assert_eq!(statement.closing, 31_250);
        assert_eq!(statement.money_in.len(), 1, "a netted zero is no line");
        assert_eq!(statement.planned, 150_000, "four weeks of 375.00");
        let text = statement_text(&statement, "demo-shire");
        assert_eq!(
            text,
            "Between 1 April and 28 April 2026, your fund started with 200.00 and ended with 312.50. \
             1,500.00 came in from Demo Shire. 1,312.50 was paid to the provider whose reference ends c5a1 for your support. \
             75.00 was the fee for looking after the money. Your plan meant 1,500.00 for these 28 days.\n"
        );
    }

    #[test]
    fn the_planned_amount_is_rounded_once_and_amounts_read_with_separators() {
        // 100.00 a week over 10 days: 142.857... is 142.86.
        assert_eq!(planned(10_000, 10), 14_286);
        assert_eq!(planned(10_000, 7), 10_000);
        assert_eq!(pounds(123_456_789), "1,234,567.89");
        assert_eq!(pounds(5), "0.05");
        assert_eq!(pounds(-150_000), "-1,500.00");
        let quiet = statement(
            day("2026-12-20"),
            day("2027-01-02"),
            budget(0, "2026-01-05", None),
            0,
            &[],
            None,
        );
        let text = statement_text(&quiet, "fife");
        assert!(
            text.starts_with("Between 20 December 2026 and 2 January 2027,"),
            "{text}"
        );
        assert!(
            text.contains("No money came in. No money was paid out."),
            "{text}"
        );
        let one_day = statement(
            day("2026-04-01"),
            day("2026-04-01"),
            budget(10_000, "2026-01-05", None),
            0,
            &[],
            None,
        );
        let text = statement_text(&one_day, "fife");
        assert!(
            text.ends_with("Your plan meant 14.29 for this day.\n"),
            "{text}"
        );
    }

    #[test]
    fn the_person_reads_what_they_paid_of_their_contribution_and_what_is_outstanding() {
        let movements = [Movements {
            counterpart: AccountKind::ContributionDue,
            payee: None,
            category: Category::Contribution,
            net: 10_000,
        }];
        let with = |outstanding: i64| {
            statement_text(
                &statement(
                    day("2026-04-01"),
                    day("2026-04-28"),
                    budget(37_500, "2026-01-05", None),
                    0,
                    &movements,
                    Some(Contribution {
                        due: 12_000,
                        paid: 10_000,
                        outstanding,
                    }),
                ),
                "fife",
            )
        };
        let text = with(2_000);
        assert!(
            text.contains("100.00 came in from your own contribution."),
            "{text}"
        );
        assert!(
            text.ends_with(
                "Your contribution for these days was 120.00 and you paid 100.00; 20.00 is outstanding.\n"
            ),
            "{text}"
        );
        assert!(with(0).ends_with("; nothing is outstanding.\n"));
        assert!(with(-4_000).ends_with("; you have paid 40.00 ahead.\n"));
    }
}
