//! A provider's notifications in plain words, one sentence or two each, as HTML built from
//! escaped values. Ids are shortened to their last eight characters: enough to match a
//! request or agreement on the page, short enough to read. (The first eight of a UUIDv7 are
//! its time, the same for everything made within a minute.)

use crate::domain::Notice;
use crate::domain::notice::{Answer, RequestedAmount, ScheduleChange};

use super::html::escape;
use super::words::{date, money, pounds};

/// The last eight characters of an id (its random part), as the pages name things by.
pub fn short(id: &uuid::Uuid) -> String {
    let simple = id.simple().to_string();
    simple[simple.len() - 8..].to_owned()
}

/// [`short`] of an id another service sent as text; the text's first eight characters
/// when it is not a UUID, so a page never fails for one odd id.
pub fn short_text(id: &str) -> String {
    match uuid::Uuid::parse_str(id) {
        Ok(id) => short(&id),
        Err(_) => id.chars().take(8).collect(),
    }
}

/// What the notice tells the provider.
pub fn sentence(notice: &Notice) -> String {
    match notice {
        Notice::PackageRequested(request) => {
            let amount = match &request.amount {
                RequestedAmount::HoursPerWeek(hours) => {
                    format!("{} hours a week", hours.normalize())
                }
                RequestedAmount::WeeklyBudget(budget) => format!("{} a week", money(*budget)),
            };
            format!(
                "New request {id} in {locality}: {amount}, starting {start}. Offers close on {closing}.",
                id = short(&request.request_id),
                locality = escape(&request.locality),
                start = date(request.start_date),
                closing = date(request.closing_date),
            )
        }
        Notice::PackageAnswered(answered) => match answered.answer {
            Answer::Offer => format!(
                "Your offer on request {} was received.",
                short(&answered.request_id)
            ),
            Answer::Decline => format!(
                "Your decline of request {} was received.",
                short(&answered.request_id)
            ),
        },
        Notice::OfferAccepted(accepted) => format!(
            "Your offer on request {} was accepted. You can now see who the support is for.",
            short(&accepted.request_id)
        ),
        Notice::RequestClosed(closed) => format!(
            "Request {} is closed. Another offer was chosen, or it was withdrawn.",
            short(&closed.request_id)
        ),
        Notice::PlanVaried(varied) => {
            if varied.ends_plan {
                format!(
                    "A plan you deliver ends from {}.",
                    date(varied.effective_from)
                )
            } else {
                let lines: Vec<String> = varied
                    .lines
                    .iter()
                    .map(|line| {
                        format!("line {} is now {} a week", line.number, pounds(line.weekly))
                    })
                    .collect();
                format!(
                    "A plan you deliver changed from {}: {}.",
                    date(varied.effective_from),
                    if lines.is_empty() {
                        "your lines end".to_owned()
                    } else {
                        lines.join("; ")
                    }
                )
            }
        }
        Notice::AgreementVaried(varied) => format!(
            "Agreement {} has new terms (version {}) from {}. Please read and sign them.",
            short(&varied.agreement_id),
            varied.version,
            date(varied.effective_from)
        ),
        Notice::AgreementEnded(ended) => format!(
            "Agreement {} ends. The last day of support is {}.",
            short(&ended.agreement_id),
            date(ended.last_day)
        ),
        Notice::ScheduleChanged(changed) => {
            let why = match changed.change {
                ScheduleChange::Created => "A new payment schedule starts",
                ScheduleChange::Varied => "A payment schedule changed",
                ScheduleChange::Ended => "A payment schedule ends",
                ScheduleChange::Contribution => "The person's contribution changed a schedule",
            };
            let next = match &changed.next {
                Some(next) => format!(
                    " The next payment is {} on {}.",
                    money(next.amount),
                    date(next.due_on)
                ),
                None => " No payments are left.".to_owned(),
            };
            let adjustment = if changed.adjustment.is_zero() {
                String::new()
            } else {
                format!(
                    " It includes an adjustment of {}.",
                    money(changed.adjustment)
                )
            };
            format!(
                "{why} for agreement {id} from {from}: {before} a week before, {after} a week now.{adjustment}{next}",
                id = short(&changed.agreement_id),
                from = date(changed.effective_from),
                before = money(changed.weekly_before),
                after = money(changed.weekly_after),
            )
        }
        Notice::RemittanceIssued(remittance) => format!(
            "Remittance {number} for {total} was issued on {day}. It covers {items} items.",
            number = escape(&remittance.number),
            total = money(remittance.total),
            day = date(remittance.run_date),
            items = remittance.items,
        ),
    }
}
