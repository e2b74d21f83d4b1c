//! The provider's active packages and their upcoming payments, read as the provider itself:
//! contracts lists only the agreements the provider is a party to, and payments shows a
//! schedule to the provider it pays, so the portal adds no privilege of its own.
//!
//! What the page shows of a package is free of the person: the agreement (by its short id),
//! the council, the support and its money, the dates and how payment is made. Never the
//! person's id, name, outcomes or representative, though the provider may read them in
//! contracts: a dashboard is read over shoulders and printed, and none of it needs them.

use chrono::NaiveDate;
use sds_proto::v1 as proto;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;

use super::calls::{CallError, Services, as_caller};
use super::html::escape;
use super::notices::short_text;
use super::session::Session;
use super::words::{iso_date, money_text};

/// Agreements asked for a page; the dashboard reads at most [`MOST_PAGES`] pages.
const PAGE_SIZE: u32 = 100;
const MOST_PAGES: usize = 20;

/// An active agreement with what payments says of its next payment.
#[derive(Debug, Clone)]
pub struct Package {
    pub agreement: proto::Agreement,
    pub next: NextPayment,
    /// The ledger fund the agreement is paid into, when the provider itself holds it (a
    /// provider-held ISF, from which it draws its charges).
    pub held_fund: Option<String>,
}

/// The next payment of a package, as payments knows it.
#[derive(Debug, Clone)]
pub enum NextPayment {
    Due(proto::ScheduleInstalment),
    /// Every listed instalment is paid (the agreement has ended, or the year ahead is).
    NoneLeft,
    /// Payments has not made the schedule yet (it follows the signature by an event).
    NotYetScheduled,
    /// Payments would not show it: said on the page, never worked around.
    NotShown(String),
}

/// The provider's active agreements, oldest first, each with its next payment.
pub async fn active(services: &Services, session: &Session) -> Result<Vec<Package>, CallError> {
    let mut contracts = ContractsServiceClient::new(Services::channel(&services.contracts)?);
    let mut agreements = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MOST_PAGES {
        let listed = contracts
            .list_agreements(as_caller(
                &session.token,
                proto::ListAgreementsRequest {
                    page: Some(proto::PageRequest {
                        page_size: PAGE_SIZE,
                        page_token: page_token.clone(),
                    }),
                    ..proto::ListAgreementsRequest::default()
                },
            )?)
            .await
            .map_err(|status| CallError::refused("contracts", status))?
            .into_inner();
        agreements.extend(
            listed
                .agreements
                .into_iter()
                .filter(|agreement| agreement.status == proto::AgreementStatus::Active as i32),
        );
        page_token = listed
            .page
            .map(|page| page.next_page_token)
            .unwrap_or_default();
        if page_token.is_empty() {
            break;
        }
    }
    let mut payments = PaymentsServiceClient::new(Services::channel(&services.payments)?);
    let mut packages = Vec::with_capacity(agreements.len());
    for agreement in agreements {
        let schedule = payments
            .get_schedule(as_caller(
                &session.token,
                proto::GetScheduleRequest {
                    agreement_id: agreement.id.clone(),
                    until: None,
                },
            )?)
            .await;
        let mut held_fund = None;
        let next = match schedule {
            Ok(schedule) => {
                let schedule = schedule.into_inner();
                if schedule.holding_model == proto::FundHoldingModel::Provider as i32
                    && !schedule.fund_id.is_empty()
                {
                    held_fund = Some(schedule.fund_id.clone());
                }
                next_unpaid(schedule)
            }
            Err(status) if status.code() == tonic::Code::NotFound => NextPayment::NotYetScheduled,
            Err(status) if status.code() == tonic::Code::PermissionDenied => {
                NextPayment::NotShown(status.message().to_owned())
            }
            Err(status) => return Err(CallError::refused("payments", status)),
        };
        packages.push(Package {
            agreement,
            next,
            held_fund,
        });
    }
    Ok(packages)
}

/// The earliest instalment no run has paid yet.
fn next_unpaid(schedule: proto::Schedule) -> NextPayment {
    schedule
        .instalments
        .into_iter()
        .find(|instalment| instalment.paid_by_run.is_empty())
        .map(NextPayment::Due)
        .unwrap_or(NextPayment::NoneLeft)
}

/// "personal care" from "personal_care".
pub fn support_words(support_type: &str) -> String {
    support_type.replace('_', " ")
}

fn amount(money: Option<&proto::Money>) -> String {
    money_text(&money.map(|money| money.amount.clone()).unwrap_or_default())
}

fn day(date: Option<&proto::Date>) -> String {
    iso_date(date.map(|date| date.iso.as_str()).unwrap_or_default())
}

/// How the agreement's terms pay, in a few words.
fn how_paid(terms: Option<&proto::AgreementTerms>) -> String {
    let Some(terms) = terms else {
        return "not set".to_owned();
    };
    let frequency = match proto::PaymentFrequency::try_from(terms.frequency) {
        Ok(proto::PaymentFrequency::FourWeekly) => "every four weeks",
        Ok(proto::PaymentFrequency::Monthly) => "every month",
        Ok(proto::PaymentFrequency::Quarterly) => "every quarter",
        _ => "at times not set",
    };
    let timing = match terms
        .timing
        .as_ref()
        .and_then(|timing| timing.timing.as_ref())
    {
        Some(proto::payment_timing::Timing::Advance(_)) => "in advance",
        Some(proto::payment_timing::Timing::Arrears(_)) => "in arrears",
        None => "",
    };
    let basis = if terms.basis == proto::PaymentBasis::Actuals as i32 {
        ", on what you report you delivered"
    } else {
        ", as planned"
    };
    format!("{frequency} {timing}{basis}")
        .replace("  ", " ")
        .trim()
        .to_owned()
}

/// Whether the agreement pays on what the provider reports, so it takes reports of actuals.
pub fn paid_on_actuals(agreement: &proto::Agreement) -> bool {
    agreement
        .terms
        .as_ref()
        .is_some_and(|terms| terms.basis == proto::PaymentBasis::Actuals as i32)
}

/// The section listing the active packages, or saying why it cannot.
pub fn section(packages: &Result<Vec<Package>, ()>) -> String {
    let mut html = String::from(
        "<section aria-labelledby=\"packages\">\n<h2 id=\"packages\">Your active packages</h2>\n",
    );
    match packages {
        Err(()) => html.push_str(
            "<p>We cannot show your packages just now. Please try again in a few minutes.</p>\n",
        ),
        Ok(packages) if packages.is_empty() => html.push_str(
            "<p>You have no active packages. A package shows here once every party has signed its agreement.</p>\n",
        ),
        Ok(packages) => {
            html.push_str(
                "<table>\n<caption>Agreements you deliver now</caption>\n<thead><tr>\
                 <th scope=\"col\">Agreement</th><th scope=\"col\">Council</th>\
                 <th scope=\"col\">Support</th><th scope=\"col\">Since</th>\
                 <th scope=\"col\" class=\"money\">A week</th><th scope=\"col\">Paid</th>\
                 </tr></thead>\n<tbody>\n",
            );
            for package in packages {
                html.push_str(&package_row(&package.agreement));
            }
            html.push_str("</tbody>\n</table>\n");
        }
    }
    html.push_str("</section>\n");
    html
}

fn package_row(agreement: &proto::Agreement) -> String {
    let mut support = String::from("<ul>");
    for line in &agreement.lines {
        let hours = if line.hours_per_week.is_empty() {
            String::new()
        } else {
            format!(", {} hours", escape(&line.hours_per_week))
        };
        support.push_str(&format!(
            "<li>Line {number}: {kind}, {weekly} a week{hours}</li>",
            number = line.plan_line,
            kind = escape(&support_words(&line.support_type)),
            weekly = escape(&amount(line.weekly.as_ref())),
        ));
    }
    support.push_str("</ul>");
    let weekly = agreement
        .weekly
        .as_ref()
        .map(|weekly| amount(weekly.total.as_ref()))
        .unwrap_or_else(|| "£0.00".to_owned());
    format!(
        "<tr><th scope=\"row\">{id}</th><td>{council}</td><td>{support}</td><td>{since}</td>\
         <td class=\"money\">{weekly}</td><td>{paid}</td></tr>\n",
        id = escape(&short_text(&agreement.id)),
        council = escape(&agreement.authority),
        since = escape(&day(agreement.effective_from.as_ref())),
        weekly = escape(&weekly),
        paid = escape(&how_paid(agreement.terms.as_ref())),
    )
}

/// The section with each package's next payment.
pub fn upcoming_section(packages: &Result<Vec<Package>, ()>, today: NaiveDate) -> String {
    let mut html = String::from(
        "<section aria-labelledby=\"payments\">\n<h2 id=\"payments\">Upcoming payments</h2>\n",
    );
    match packages {
        Err(()) => html.push_str(
            "<p>We cannot show your payments just now. Please try again in a few minutes.</p>\n",
        ),
        Ok(packages) if packages.is_empty() => {
            html.push_str("<p>No payments are due to you.</p>\n")
        }
        Ok(packages) => {
            html.push_str(&format!(
                "<p>The next payment of each package, as the council's schedule shows it on {}. \
                 A payment is made by the council's next payment run on or after its day.</p>\n\
                 <ul>\n",
                escape(&super::words::date(today))
            ));
            for package in packages {
                html.push_str(&format!(
                    "<li>Agreement {id}: {next}</li>\n",
                    id = escape(&short_text(&package.agreement.id)),
                    next = next_words(&package.next),
                ));
            }
            html.push_str("</ul>\n");
        }
    }
    html.push_str("</section>\n");
    html
}

/// The next payment in words, as HTML of escaped values.
fn next_words(next: &NextPayment) -> String {
    match next {
        NextPayment::Due(instalment) => {
            let adjustment = instalment
                .adjustment
                .as_ref()
                .filter(|adjustment| {
                    adjustment
                        .amount
                        .parse::<rust_decimal::Decimal>()
                        .is_ok_and(|value| !value.is_zero())
                })
                .map(|adjustment| {
                    format!(
                        " It includes an adjustment of {} for earlier periods.",
                        escape(&money_text(&adjustment.amount))
                    )
                })
                .unwrap_or_default();
            format!(
                "{amount} on {due}, for {from} to {to}.{adjustment}",
                amount = escape(&amount(instalment.amount.as_ref())),
                due = escape(&day(instalment.due_date.as_ref())),
                from = escape(&day(instalment.period_start.as_ref())),
                to = escape(&day(instalment.period_end.as_ref())),
            )
        }
        NextPayment::NoneLeft => "no payments are left.".to_owned(),
        NextPayment::NotYetScheduled => {
            "the payment schedule is being made. Please look again in a minute.".to_owned()
        }
        NextPayment::NotShown(reason) => format!(
            "the payments service does not show you this schedule ({}).",
            escape(reason)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_read_as_how_and_when_payment_is_made() {
        let terms = proto::AgreementTerms {
            frequency: proto::PaymentFrequency::Monthly as i32,
            timing: Some(proto::PaymentTiming {
                timing: Some(proto::payment_timing::Timing::Arrears(
                    proto::InArrears::default(),
                )),
            }),
            basis: proto::PaymentBasis::Actuals as i32,
            ..proto::AgreementTerms::default()
        };
        assert_eq!(
            how_paid(Some(&terms)),
            "every month in arrears, on what you report you delivered"
        );
        assert_eq!(how_paid(None), "not set");
    }

    #[test]
    fn the_next_payment_is_the_first_no_run_has_paid() {
        let instalment = |start: &str, run: &str| proto::ScheduleInstalment {
            period_start: Some(proto::Date { iso: start.into() }),
            paid_by_run: run.into(),
            ..proto::ScheduleInstalment::default()
        };
        let schedule = proto::Schedule {
            instalments: vec![
                instalment("2026-10-01", "run-1"),
                instalment("2026-11-01", ""),
                instalment("2026-12-01", ""),
            ],
            ..proto::Schedule::default()
        };
        match next_unpaid(schedule) {
            NextPayment::Due(next) => assert_eq!(next.period_start.unwrap().iso, "2026-11-01"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            next_unpaid(proto::Schedule::default()),
            NextPayment::NoneLeft
        ));
    }
}
