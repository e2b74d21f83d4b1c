//! The plain-language summary of an agreement: who it is between, what support, how much a
//! week, how and when payment is made, and how to change or end it.
//!
//! It is written to the person, in short sentences and everyday words, so that it can be
//! read in two minutes: at most 350 words and at least 70 on Flesch reading ease (see
//! [`super::readability`]; GOV.UK aims at a reading age of 9). The same content is given as
//! plain text and as an HTML fragment; both are rendered from one list of [`Section`]s so
//! that they cannot say different things.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;

use super::agreement::{Capacity, Representative};
use super::fee::{FeePlacement, ManagementFee};
use super::plain_words::{
    capitalised, days, hours_text, long_date, notice, one_line, pounds, with_full_stop,
};
use super::terms::{Frequency, HoldingModel, PaymentTiming};

/// One line of support in the agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryLine {
    /// What the support is, in everyday words ("personal care").
    pub description: String,
    pub weekly: Money,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// What the summary says, as the agreement states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryFacts {
    /// The person the support is for ("Morag Innes").
    pub person: String,
    pub representative: Option<Representative>,
    pub provider: String,
    pub authority: String,
    /// The third-party fund holder, when someone other than the provider or authority
    /// holds the fund.
    pub holder: Option<String>,
    pub holding_model: HoldingModel,
    /// What the person wants from their support, short and in their own words.
    pub outcomes: String,
    pub lines: Vec<SummaryLine>,
    /// The management fee as agreed.
    pub fee: ManagementFee,
    /// What the fee comes to a week.
    pub fee_weekly: Money,
    /// What the authority pays a week in all.
    pub weekly_total: Money,
    pub frequency: Frequency,
    pub timing: PaymentTiming,
    /// Paid on the support reported as delivered (flexible) rather than on the schedule.
    pub actuals_based: bool,
    /// How far delivery may differ from the plan in a period without a query, in percent.
    pub tolerance_percent: Decimal,
    /// Who receives the money.
    pub payee: String,
    pub notice_days: u32,
    pub review_on: NaiveDate,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// A headed part of the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub heading: &'static str,
    pub blocks: Vec<Block>,
}

/// A paragraph or a bulleted list; the text is plain, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph(String),
    List(Vec<String>),
}

/// The summary as plain text: each heading on its own line, paragraphs separated by blank
/// lines, list items starting "- ".
pub fn summary_text(facts: &SummaryFacts) -> String {
    let mut out = String::new();
    for section in summary_sections(facts) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(section.heading);
        out.push_str("\n\n");
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    out.push_str(text);
                    out.push_str("\n\n");
                }
                Block::List(items) => {
                    for item in items {
                        out.push_str("- ");
                        out.push_str(item);
                        out.push('\n');
                    }
                    out.push('\n');
                }
            }
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// The summary as an HTML fragment of `<h2>`, `<p>` and `<ul>`, every piece of text
/// escaped; no script or style.
pub fn summary_html(facts: &SummaryFacts) -> String {
    let mut out = String::new();
    for section in summary_sections(facts) {
        out.push_str(&format!("<h2>{}</h2>\n", escape_html(section.heading)));
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    out.push_str(&format!("<p>{}</p>\n", escape_html(text)));
                }
                Block::List(items) => {
                    out.push_str("<ul>\n");
                    for item in items {
                        out.push_str(&format!("<li>{}</li>\n", escape_html(item)));
                    }
                    out.push_str("</ul>\n");
                }
            }
        }
    }
    out
}

/// `text` safe to place in HTML element content or a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The content of the summary, section by section.
pub fn summary_sections(facts: &SummaryFacts) -> Vec<Section> {
    let names = Names::of(facts);
    vec![
        who_section(facts, &names),
        support_section(facts),
        cost_section(facts, &names),
        payment_section(facts, &names),
        change_section(facts, &names),
    ]
}

/// The names of the parties as they appear in the text, each on one line so that a
/// stray line break in the data cannot break the layout.
struct Names {
    person: String,
    provider: String,
    authority: String,
    payee: String,
}

impl Names {
    fn of(facts: &SummaryFacts) -> Names {
        Names {
            person: one_line(&facts.person),
            provider: one_line(&facts.provider),
            authority: one_line(&facts.authority),
            payee: one_line(&facts.payee),
        }
    }
}

fn who_section(facts: &SummaryFacts, names: &Names) -> Section {
    let mut people = vec![format!("You, {}.", names.person)];
    if let Some(representative) = &facts.representative {
        people.push(format!(
            "{}, who acts for you as your {}.",
            one_line(&representative.name),
            capacity_words(representative.capacity)
        ));
    }
    people.push(format!("{}, who gives you your support.", names.provider));
    people.push(format!("{}, who pays for it.", names.authority));
    let mut blocks = vec![Block::Paragraph(
        "This is a short guide to your agreement. It is between:".into(),
    )];
    // A third-party holder is a party in their own right; otherwise one of the parties
    // above holds the money, which is said after the list.
    if facts.holding_model == HoldingModel::ThirdParty {
        let holder = facts
            .holder
            .as_deref()
            .map_or("Someone else".to_string(), one_line);
        people.push(format!("{holder}, who holds the money for you."));
    }
    blocks.push(Block::List(people));
    let party_holder = match facts.holding_model {
        HoldingModel::ThirdParty => None,
        HoldingModel::Provider => Some(&names.provider),
        HoldingModel::Authority => Some(&names.authority),
    };
    if let Some(holder) = party_holder {
        blocks.push(Block::Paragraph(format!(
            "{holder} holds the money for your support."
        )));
    }
    Section {
        heading: "Who this agreement is between",
        blocks,
    }
}

fn support_section(facts: &SummaryFacts) -> Section {
    let mut blocks = Vec::new();
    let outcomes = one_line(&facts.outcomes);
    if !outcomes.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "What you want from your support: {}",
            with_full_stop(&outcomes)
        )));
    }
    let lines: Vec<String> = facts
        .lines
        .iter()
        .map(|line| {
            let what = capitalised(&one_line(&line.description));
            match line.to {
                Some(to) => format!(
                    "{what}: {} a week, from {} to {}.",
                    pounds(line.weekly),
                    long_date(line.from),
                    long_date(to)
                ),
                None => format!(
                    "{what}: {} a week, from {}.",
                    pounds(line.weekly),
                    long_date(line.from)
                ),
            }
        })
        .collect();
    if !lines.is_empty() {
        blocks.push(Block::Paragraph("Your support is:".into()));
        blocks.push(Block::List(lines));
    }
    let dates = match facts.end {
        Some(end) => format!(
            "This agreement starts on {} and ends on {}.",
            long_date(facts.start),
            long_date(end)
        ),
        None => format!(
            "This agreement starts on {}. It has no end date.",
            long_date(facts.start)
        ),
    };
    blocks.push(Block::Paragraph(dates));
    Section {
        heading: "Your support",
        blocks,
    }
}

fn cost_section(facts: &SummaryFacts, names: &Names) -> Section {
    let mut blocks = vec![Block::Paragraph(format!(
        "{} pays {} a week in all.",
        names.authority,
        pounds(facts.weekly_total)
    ))];
    blocks.push(Block::Paragraph(fee_text(
        &facts.fee,
        facts.fee_weekly,
        names,
    )));
    Section {
        heading: "How much it costs",
        blocks,
    }
}

/// The fee in plain words: what it is, what it comes to and who bears it.
fn fee_text(fee: &ManagementFee, fee_weekly: Money, names: &Names) -> String {
    let weekly = pounds(fee_weekly);
    let what = match *fee {
        ManagementFee::None => return "There is no fee for looking after the money.".to_string(),
        ManagementFee::IncludedInHourlyRate => {
            return "The fee for looking after the money is part of the hourly rate for your \
                    care. It is not paid on top."
                .to_string();
        }
        ManagementFee::FlatWeekly { .. } => {
            format!("There is a fee of {weekly} a week for looking after the money.")
        }
        ManagementFee::Percentage { percent, .. } => format!(
            "There is a fee for looking after the money. It is {}% of your budget. That is \
             {weekly} a week.",
            percent.normalize()
        ),
        ManagementFee::AdminHours {
            hours_per_week,
            hourly_rate,
        } => format!(
            "There is a fee for looking after the money. It pays for {} of admin a week, at \
             {} an hour. That is {weekly} a week.",
            hours_text(hours_per_week),
            pounds(hourly_rate)
        ),
    };
    let who = if fee.placement() == FeePlacement::OnTop {
        format!(
            "{} pays it on top of your budget. It does not take away from your support.",
            names.authority
        )
    } else {
        "It comes out of your budget. So there is that much less for your support.".to_string()
    };
    format!("{what} {who}")
}

/// A representative's capacity as the person would say it.
fn capacity_words(capacity: Capacity) -> &'static str {
    match capacity {
        Capacity::Themselves => "own self",
        Capacity::WelfarePowerOfAttorney => "welfare power of attorney",
        Capacity::WelfareGuardian => "welfare guardian",
        Capacity::Intervener => "intervener",
        Capacity::Parent => "parent",
    }
}

fn payment_section(facts: &SummaryFacts, names: &Names) -> Section {
    let often = match facts.frequency {
        Frequency::FourWeekly => "It pays every four weeks.",
        Frequency::Quarterly => {
            "It pays every three months, on the quarters of the financial year. These start \
             in April, July, October and January."
        }
        Frequency::Monthly => "It pays every month.",
    };
    let when = match facts.timing {
        PaymentTiming::Advance => {
            "Each payment is made at the start of the time it covers.".to_string()
        }
        PaymentTiming::Arrears { lag_days: 0 } => {
            "Each payment is made as soon as the time it covers ends.".to_string()
        }
        PaymentTiming::Arrears { lag_days } => format!(
            "Each payment is made {} after the time it covers ends.",
            days(lag_days)
        ),
    };
    Section {
        heading: "How the money is paid",
        blocks: vec![
            Block::Paragraph(format!(
                "{} pays the money to {}.",
                names.authority, names.payee
            )),
            Block::Paragraph(format!("{often} {when}")),
            Block::Paragraph(amount_text(facts, names)),
        ],
    }
}

/// Whether payments follow the support delivered or the schedule, and how far delivery
/// may differ from the plan before the authority asks about it.
fn amount_text(facts: &SummaryFacts, names: &Names) -> String {
    let tolerance = facts.tolerance_percent.normalize();
    let query = if tolerance.is_zero() {
        format!(
            "If it is different from your plan, {} will ask about it.",
            names.authority
        )
    } else {
        format!(
            "If it is within {tolerance}% of your plan, that is fine. If not, {} will ask \
             about it.",
            names.authority
        )
    };
    if facts.actuals_based {
        format!(
            "The amount is based on the support you really got. {} tells {} what support \
             they gave. {query}",
            names.provider, names.authority
        )
    } else {
        format!(
            "The amount is set in this agreement. It does not change with the hours you \
             use. Your support may still differ from your plan. {query}"
        )
    }
}

fn change_section(facts: &SummaryFacts, names: &Names) -> Section {
    Section {
        heading: "If you want to change or end it",
        blocks: vec![
            Block::Paragraph(format!(
                "You can ask to change your support at any time. Talk to {}.",
                names.authority
            )),
            Block::Paragraph(format!(
                "To end this agreement, you or anyone in it must give {}.",
                notice(facts.notice_days)
            )),
            Block::Paragraph(format!(
                "Your support will be looked at again on {}. This is called a review.",
                long_date(facts.review_on)
            )),
        ],
    }
}
