//! How the money was spent, month by month: for each fund the person's agreements are paid
//! into (payments' schedule names it), the ledger's statement of each of the last months,
//! its planned amount against what went out.

use chrono::{Datelike as _, Months, NaiveDate};
use rust_decimal::Decimal;
use sds_proto::v1 as proto;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;

use super::calls::{CallError, Services, as_caller};
use super::chart::Month;
use super::session::Session;
use super::words::month;

/// How many months the chart goes back, this one included.
const MONTHS_SHOWN: u32 = 6;

/// The months from the first with money to this one; empty when no fund is open yet.
pub async fn months(
    services: &Services,
    session: &Session,
    agreements: &[(proto::Agreement, String)],
    today: NaiveDate,
) -> Result<Vec<Month>, ()> {
    read(services, session, agreements, today)
        .await
        .map_err(|error| {
            tracing::warn!(error = %error, "the person's statement could not be read");
        })
}

async fn read(
    services: &Services,
    session: &Session,
    agreements: &[(proto::Agreement, String)],
    today: NaiveDate,
) -> Result<Vec<Month>, CallError> {
    let mut funds: Vec<String> = Vec::new();
    if !agreements.is_empty() {
        let mut payments = PaymentsServiceClient::new(Services::channel(&services.payments)?);
        for (agreement, _) in agreements {
            let schedule = payments
                .get_schedule(as_caller(
                    &session.token,
                    proto::GetScheduleRequest {
                        agreement_id: agreement.id.clone(),
                        until: None,
                    },
                )?)
                .await;
            match schedule {
                Ok(schedule) => {
                    let fund = schedule.into_inner().fund_id;
                    if !fund.is_empty() && !funds.contains(&fund) {
                        funds.push(fund);
                    }
                }
                // An agreement not yet signed has no schedule.
                Err(status) if status.code() == tonic::Code::NotFound => {}
                Err(status) => return Err(CallError::refused("payments", status)),
            }
        }
    }
    if funds.is_empty() {
        return Ok(Vec::new());
    }
    let mut ledger = LedgerServiceClient::new(Services::channel(&services.ledger)?);
    let this_month = today.with_day(1).unwrap_or(today);
    let mut shown = Vec::new();
    for back in (0..MONTHS_SHOWN).rev() {
        let Some(first) = this_month.checked_sub_months(Months::new(back)) else {
            continue;
        };
        let last = first
            .checked_add_months(Months::new(1))
            .and_then(|next| next.pred_opt())
            .unwrap_or(first)
            .min(today);
        let mut budget = Decimal::ZERO;
        let mut spent = Decimal::ZERO;
        for fund in &funds {
            let statement = ledger
                .get_statement(as_caller(
                    &session.token,
                    proto::GetStatementRequest {
                        fund_id: fund.clone(),
                        from: Some(proto::Date {
                            iso: first.to_string(),
                        }),
                        to: Some(proto::Date {
                            iso: last.to_string(),
                        }),
                    },
                )?)
                .await
                .map_err(|status| CallError::refused("ledger", status))?
                .into_inner();
            budget += amount(statement.planned.as_ref());
            spent += amount(statement.total_out.as_ref());
        }
        // Months before any money was meant or spent say nothing; leave them out.
        if shown.is_empty() && budget.is_zero() && spent.is_zero() {
            continue;
        }
        shown.push(Month {
            label: month(first),
            budget,
            spent,
        });
    }
    Ok(shown)
}

fn amount(money: Option<&proto::Money>) -> Decimal {
    money
        .and_then(|money| money.amount.parse().ok())
        .unwrap_or_default()
}
