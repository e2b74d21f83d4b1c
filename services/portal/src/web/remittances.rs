//! The provider's latest remittances: which ones come from the portal's own store (the
//! `remittance.issued` notifications it kept for this provider), what each paid from
//! payments' GetRemittance, asked as the provider (payments shows a remittance to the
//! payee's own staff only). A remittance payments will not show is listed from the
//! notification alone, saying so.
//!
//! Like the packages, the lines name agreements and periods, never the person: payments
//! gives the provider the person's case reference and name on its own remittances, and the
//! page leaves them out.

use sds_platform::{StoreContext as _, StoreError};
use sds_proto::v1 as proto;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use uuid::Uuid;

use super::WebState;
use super::calls::{CallError, Services, as_caller};
use super::html::escape;
use super::notices::short_text;
use super::session::Session;
use super::words::{date, iso_date, money, money_text};
use crate::domain::notice::RemittanceIssued;
use crate::domain::{Notice, NoticeKind, Subscriber};
use crate::store;

/// How many of the latest remittances the dashboard shows.
const REMITTANCES_SHOWN: u32 = 12;

/// A remittance the provider was told of, with its lines when payments shows them.
#[derive(Debug, Clone)]
pub struct Shown {
    pub issued: RemittanceIssued,
    pub detail: Result<proto::Remittance, String>,
}

/// The latest remittances issued to `provider`, newest first.
pub async fn latest(
    state: &WebState,
    session: &Session,
    provider: Uuid,
) -> Result<Vec<Shown>, StoreError> {
    let kept = {
        let mut connection = state
            .pool
            .acquire()
            .await
            .operation("database connection")?;
        store::latest_kept_of_kind(
            &mut connection,
            Subscriber::provider(provider),
            NoticeKind::RemittanceIssued,
            REMITTANCES_SHOWN,
        )
        .await?
    };
    let mut shown = Vec::with_capacity(kept.len());
    for notification in kept {
        let Notice::RemittanceIssued(issued) = notification.notice else {
            continue;
        };
        let detail = detail(&state.services, session, &issued.number)
            .await
            .map_err(|error| {
                tracing::warn!(error = %error, "read a remittance for the dashboard");
                error.message().to_owned()
            });
        shown.push(Shown { issued, detail });
    }
    Ok(shown)
}

async fn detail(
    services: &Services,
    session: &Session,
    number: &str,
) -> Result<proto::Remittance, CallError> {
    let mut payments = PaymentsServiceClient::new(Services::channel(&services.payments)?);
    payments
        .get_remittance(as_caller(
            &session.token,
            proto::GetRemittanceRequest {
                number: number.to_owned(),
            },
        )?)
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| CallError::refused("payments", status))
}

/// The section listing `remittances`, or saying why it cannot.
pub fn section(remittances: &Result<Vec<Shown>, ()>) -> String {
    let mut html = String::from(
        "<section aria-labelledby=\"remittances\">\n<h2 id=\"remittances\">Remittances</h2>\n",
    );
    match remittances {
        Err(()) => html.push_str(
            "<p>We cannot show your remittances just now. Please try again in a few minutes.</p>\n",
        ),
        Ok(remittances) if remittances.is_empty() => html.push_str(
            "<p>No remittances yet. Each payment run that pays you sends one, and it shows here.</p>\n",
        ),
        Ok(remittances) => {
            for remittance in remittances {
                html.push_str(&one(remittance));
            }
        }
    }
    html.push_str("</section>\n");
    html
}

fn one(remittance: &Shown) -> String {
    let issued = &remittance.issued;
    let number = escape(&issued.number);
    let heading = format!(
        "<h3 id=\"remittance-{anchor}\">Remittance {number}</h3>\n\
         <p>Issued on {day} for {total}.</p>\n",
        anchor = escape(&anchor(&issued.number)),
        day = date(issued.run_date),
        total = money(issued.total),
    );
    let lines = match &remittance.detail {
        Ok(detail) => {
            let mut rows = String::new();
            for item in &detail.items {
                rows.push_str(&format!(
                    "<tr><th scope=\"row\">{id}</th><td>{from} to {to}</td>\
                     <td class=\"money\">{adjustment}</td><td class=\"money\">{paid}</td></tr>\n",
                    id = escape(&short_text(&item.agreement_id)),
                    from = escape(&period_day(item.period_start.as_ref())),
                    to = escape(&period_day(item.period_end.as_ref())),
                    adjustment = escape(&amount(item.adjustment.as_ref())),
                    paid = escape(&amount(item.amount.as_ref())),
                ));
            }
            format!(
                "<table>\n<caption>What remittance {number} paid</caption>\n<thead><tr>\
                 <th scope=\"col\">Agreement</th><th scope=\"col\">Period</th>\
                 <th scope=\"col\" class=\"money\">Adjustment</th>\
                 <th scope=\"col\" class=\"money\">Paid</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
            )
        }
        Err(reason) => format!(
            "<p>It covers {items} items. The payments service does not show its lines just now ({reason}).</p>\n",
            items = issued.items,
            reason = escape(reason),
        ),
    };
    format!(
        "<article aria-labelledby=\"remittance-{anchor}\">\n{heading}{lines}</article>\n",
        anchor = escape(&anchor(&issued.number)),
    )
}

/// The remittance number as an id attribute: letters, digits and dashes only.
fn anchor(number: &str) -> String {
    number
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                character
            } else {
                '-'
            }
        })
        .collect()
}

fn amount(money: Option<&proto::Money>) -> String {
    money_text(&money.map(|money| money.amount.clone()).unwrap_or_default())
}

fn period_day(day: Option<&proto::Date>) -> String {
    iso_date(day.map(|day| day.iso.as_str()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remittance_number_becomes_a_safe_anchor() {
        assert_eq!(anchor("REM-2026/12\"x"), "REM-2026-12-x");
    }
}
