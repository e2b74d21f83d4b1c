//! The person's page in plain words: short sentences, everyday words, money to the penny
//! and dates written out. Every value from another service is escaped.

use chrono::NaiveDate;
use sds_proto::v1 as proto;

use super::chart::{Month, budget_against_spend};
use super::html::escape;
use super::words::{date, iso_date, money_text};

/// What the page was able to read; `Err(())` for a part that could not be read (already
/// logged).
#[derive(Debug)]
pub struct Gathered {
    pub name: Option<String>,
    pub plan: Result<Option<proto::Plan>, ()>,
    pub agreements: Result<Vec<(proto::Agreement, String)>, ()>,
    pub months: Result<Vec<Month>, ()>,
    pub today: NaiveDate,
}

const NOT_NOW: &str = "<p>We cannot show this part just now. Please try again later.</p>\n";

pub fn render_body(gathered: &Gathered) -> String {
    let greeting = match gathered.name.as_deref().filter(|name| !name.is_empty()) {
        Some(name) => format!(
            "<p>Hello, {}. This page shows your support and your money.</p>\n",
            escape(name)
        ),
        None => "<p>This page shows your support and your money.</p>\n".to_owned(),
    };
    format!(
        "{greeting}<p>This page is correct on {today}. You can print it.</p>\n\
         <nav aria-label=\"On this page\"><ul>\
         <li><a href=\"#plan\">Your plan</a></li>\
         <li><a href=\"#who\">Who gives your support</a></li>\
         <li><a href=\"#agreement\">Your agreement</a></li>\
         <li><a href=\"#money\">How your money was spent</a></li></ul></nav>\n\
         <section aria-labelledby=\"plan\">\n<h2 id=\"plan\">Your plan</h2>\n{plan}</section>\n\
         <section aria-labelledby=\"who\">\n<h2 id=\"who\">Who gives your support</h2>\n{who}</section>\n\
         <section aria-labelledby=\"agreement\">\n<h2 id=\"agreement\">Your agreement</h2>\n{agreement}</section>\n\
         <section aria-labelledby=\"money\">\n<h2 id=\"money\">How your money was spent</h2>\n{money}</section>\n",
        today = date(gathered.today),
        plan = plan_words(&gathered.plan),
        who = who_gives_what(&gathered.plan),
        agreement = agreement_words(&gathered.agreements),
        money = money_words(&gathered.months),
    )
}

/// "personal care" from `SUPPORT_TYPE_PERSONAL_CARE`.
fn support_name(line: &proto::PlanLine) -> String {
    proto::SupportType::try_from(line.support_type)
        .map(|kind| {
            kind.as_str_name()
                .trim_start_matches("SUPPORT_TYPE_")
                .to_lowercase()
                .replace('_', " ")
        })
        .unwrap_or_else(|_| "support".to_owned())
}

fn plan_words(plan: &Result<Option<proto::Plan>, ()>) -> String {
    let plan = match plan {
        Err(()) => return NOT_NOW.to_owned(),
        Ok(None) => return "<p>You do not have a plan yet. Your social worker will make one with you.</p>\n".to_owned(),
        Ok(Some(plan)) => plan,
    };
    let mut words = format!(
        "<p>Your plan starts on {}.</p>\n",
        escape(&iso_date(
            &plan.effective_from.clone().unwrap_or_default().iso
        ))
    );
    if let Some(budget) = &plan.budget {
        words.push_str(&format!(
            "<p>Your budget is {} a week.</p>\n",
            escape(&money_text(&budget.amount))
        ));
    }
    if let Some(cost) = &plan.weekly_cost {
        words.push_str(&format!(
            "<p>Your plan costs {} a week.</p>\n",
            escape(&money_text(&cost.amount))
        ));
    }
    if plan.over_budget_by.is_some() {
        words.push_str(
            "<p>Your plan costs more than your budget. Your council agreed to this.</p>\n",
        );
    }
    words.push_str("<ul>\n");
    for line in &plan.lines {
        words.push_str(&format!(
            "<li>{}: {} a week.</li>\n",
            escape(&capitalised(&support_name(line))),
            escape(&money_text(&line.weekly)),
        ));
    }
    words.push_str("</ul>\n");
    words
}

fn who_gives_what(plan: &Result<Option<proto::Plan>, ()>) -> String {
    let plan = match plan {
        Err(()) => return NOT_NOW.to_owned(),
        Ok(None) => return "<p>No one yet.</p>\n".to_owned(),
        Ok(Some(plan)) => plan,
    };
    let mut rows = String::new();
    for line in &plan.lines {
        let arrangement = line
            .arrangement
            .as_ref()
            .and_then(|arrangement| arrangement.arrangement.as_ref());
        let who = match arrangement {
            Some(proto::arrangement::Arrangement::PersonDirected(directed))
                if directed.provider.is_empty() =>
            {
                "You are still choosing who gives this.".to_owned()
            }
            Some(proto::arrangement::Arrangement::PersonDirected(_)) => {
                "The provider you chose. They are paid from your fund.".to_owned()
            }
            Some(proto::arrangement::Arrangement::DirectPayment(_)) => {
                "You choose and pay. The money is paid to you.".to_owned()
            }
            Some(proto::arrangement::Arrangement::AuthorityArranged(_)) => {
                "Your council arranges this for you.".to_owned()
            }
            None => "Not decided yet.".to_owned(),
        };
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"money\">{}</td></tr>\n",
            escape(&capitalised(&support_name(line))),
            escape(&who),
            escape(&money_text(&line.weekly)),
        ));
    }
    format!(
        "<table>\n<caption>Your support, who gives it, and its cost a week</caption>\n\
         <thead><tr><th scope=\"col\">Support</th><th scope=\"col\">Who</th>\
         <th scope=\"col\" class=\"money\">A week</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
    )
}

fn agreement_words(agreements: &Result<Vec<(proto::Agreement, String)>, ()>) -> String {
    let agreements = match agreements {
        Err(()) => return NOT_NOW.to_owned(),
        Ok(found) if found.is_empty() => {
            return "<p>You have no agreement yet. You will sign one with your provider and your council.</p>\n".to_owned();
        }
        Ok(found) => found,
    };
    let mut words = String::new();
    for (agreement, summary) in agreements {
        words.push_str(&format!(
            "<p>Your agreement starts on {}.</p>\n",
            escape(&iso_date(
                &agreement.effective_from.clone().unwrap_or_default().iso
            ))
        ));
        // The summary's text: headings on their own lines, paragraphs apart, items "- ".
        for block in summary
            .split("\n\n")
            .map(str::trim)
            .filter(|block| !block.is_empty())
        {
            if block.lines().all(|line| line.starts_with("- ")) {
                words.push_str("<ul>\n");
                for item in block.lines() {
                    words.push_str(&format!(
                        "<li>{}</li>\n",
                        escape(item.trim_start_matches("- "))
                    ));
                }
                words.push_str("</ul>\n");
            } else {
                words.push_str(&format!("<p>{}</p>\n", escape(&block.replace('\n', " "))));
            }
        }
    }
    words
}

fn money_words(months: &Result<Vec<Month>, ()>) -> String {
    match months {
        Err(()) => NOT_NOW.to_owned(),
        Ok(months) if months.is_empty() => {
            "<p>No money has been paid from your fund yet.</p>\n".to_owned()
        }
        Ok(months) => format!(
            "<p>This shows your budget and what was spent each month.</p>\n{}",
            budget_against_spend(months)
        ),
    }
}

fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}
