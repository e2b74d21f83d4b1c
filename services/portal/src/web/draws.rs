//! Charges a provider draws from the funds it holds. Where the provider holds the person's
//! Individual Service Fund (the provider-held model), the council pays the fund and the
//! provider draws its own charges from it as it delivers; recording each draw in the ledger
//! is what lets the person's statement say how their money was spent.
//!
//! The form names the fund; the ledger decides, from the provider's own token, whether the
//! provider holds it and may draw (the portal adds no privilege of its own). A draw is sent
//! as one transfer from the fund's balance to the provider's payable account in it (added
//! the first time), under an id minted when the form was shown, so sending the form twice
//! records the draw once.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sds_money::Money;
use sds_proto::v1 as proto;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use uuid::Uuid;

use super::WebState;
use super::access::{provider_of, signed_in, viewer};
use super::calls::{CallError, Services, as_caller};
use super::dashboard::{Feedback, render};
use super::form_field as field;
use super::html::escape;
use super::notices::short_text;
use super::packages::Package;
use super::respond::{call_failed, form_expired};
use super::session::{Session, csrf_matches};
use super::words::money_text;

/// The longest description of a draw kept (the ledger's reference).
const MAX_FOR_CHARS: usize = 100;

/// The section with a form to record a draw from each fund the provider holds; nothing
/// when it holds none.
pub fn section(packages: &Result<Vec<Package>, ()>, csrf: &str) -> String {
    let Ok(packages) = packages else {
        return String::new();
    };
    let held: Vec<(&Package, &String)> = packages
        .iter()
        .filter_map(|package| package.held_fund.as_ref().map(|fund| (package, fund)))
        .collect();
    if held.is_empty() {
        return String::new();
    }
    let mut options = String::new();
    for (package, fund) in &held {
        options.push_str(&format!(
            "<option value=\"{fund}\">Agreement {agreement} with {council}</option>",
            fund = escape(fund),
            agreement = escape(&short_text(&package.agreement.id)),
            council = escape(&package.agreement.authority),
        ));
    }
    format!(
        "<section aria-labelledby=\"draws\">\n<h2 id=\"draws\">Charges drawn from funds you hold</h2>\n\
         <p>You hold these people's funds. Record each charge you draw for the support you \
         gave, so that their statement shows how the money was spent.</p>\n\
         <form method=\"post\" action=\"/portal/provider/draws\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <input type=\"hidden\" name=\"draw_id\" value=\"{draw_id}\">\n\
         <label for=\"draw-fund\">Fund</label>\n\
         <select id=\"draw-fund\" name=\"fund_id\">{options}</select>\n\
         <label for=\"draw-amount\">Amount in pounds</label>\n\
         <p class=\"hint\" id=\"draw-amount-hint\">For example 312.50</p>\n\
         <input type=\"text\" inputmode=\"decimal\" id=\"draw-amount\" name=\"amount\" aria-describedby=\"draw-amount-hint\">\n\
         <label for=\"draw-for\">What it is for</label>\n\
         <p class=\"hint\" id=\"draw-for-hint\">For example: support from 1 to 28 December</p>\n\
         <input type=\"text\" id=\"draw-for\" name=\"for\" maxlength=\"{MAX_FOR_CHARS}\" aria-describedby=\"draw-for-hint\">\n\
         <button type=\"submit\">Record the charge</button>\n</form>\n</section>\n",
        csrf = escape(csrf),
        draw_id = Uuid::now_v7(),
    )
}

/// The dashboard's link to the section, when it is shown.
pub fn nav_link(packages: &Result<Vec<Package>, ()>) -> &'static str {
    match packages {
        Ok(packages) if packages.iter().any(|package| package.held_fund.is_some()) => {
            "<li><a href=\"#draws\">Charges drawn from funds you hold</a></li>"
        }
        _ => "",
    }
}

/// A draw as the form gives it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    pub id: Uuid,
    pub fund_id: Uuid,
    pub amount: Money,
    pub what_for: String,
}

/// Reads the form, or says in plain words what to put right.
pub fn read(fields: &[(String, String)]) -> Result<Draw, String> {
    let id = Uuid::parse_str(field(fields, "draw_id"))
        .map_err(|_| "the form is out of date. Please open the dashboard again.".to_owned())?;
    let fund_id = Uuid::parse_str(field(fields, "fund_id"))
        .map_err(|_| "choose the fund you drew from.".to_owned())?;
    let written = field(fields, "amount").trim_start_matches('£');
    let amount = Money::parse(written)
        .ok()
        .filter(|amount| !amount.is_negative() && !amount.is_zero())
        .ok_or_else(|| {
            "write the amount in pounds and pence, above nothing, such as 312.50.".to_owned()
        })?;
    let what_for = field(fields, "for");
    if what_for.is_empty() {
        return Err("say what the charge is for, such as the weeks of support.".to_owned());
    }
    if what_for.chars().count() > MAX_FOR_CHARS || what_for.chars().any(char::is_control) {
        return Err(format!(
            "say what the charge is for in at most {MAX_FOR_CHARS} letters, on one line."
        ));
    }
    Ok(Draw {
        id,
        fund_id,
        amount,
        what_for: what_for.to_owned(),
    })
}

/// Records `draw` in the ledger as the provider `provider`, adding its payable account to
/// the fund first when the fund has none for it.
async fn send(
    services: &Services,
    session: &Session,
    provider: Uuid,
    draw: &Draw,
) -> Result<(), CallError> {
    let mut ledger = LedgerServiceClient::new(Services::channel(&services.ledger)?);
    let refused = |status| CallError::refused("ledger", status);
    let mut fund = ledger
        .get_fund(as_caller(
            &session.token,
            proto::GetFundRequest {
                fund_id: draw.fund_id.to_string(),
            },
        )?)
        .await
        .map_err(refused)?
        .into_inner();
    let payable_of = |fund: &proto::Fund| {
        fund.accounts
            .iter()
            .find(|account| {
                account.kind == proto::LedgerAccountKind::Payable as i32
                    && account.payee_id == provider.to_string()
            })
            .map(|account| account.id.clone())
    };
    if payable_of(&fund).is_none() {
        fund = ledger
            .add_payee(as_caller(
                &session.token,
                proto::AddPayeeRequest {
                    fund_id: draw.fund_id.to_string(),
                    payee_id: provider.to_string(),
                },
            )?)
            .await
            .map_err(refused)?
            .into_inner();
    }
    let payable = payable_of(&fund).ok_or_else(|| {
        CallError::Setup("the ledger added no payable account for the provider".to_owned())
    })?;
    let balance = fund
        .accounts
        .iter()
        .find(|account| account.kind == proto::LedgerAccountKind::FundBalance as i32)
        .map(|account| account.id.clone())
        .ok_or_else(|| CallError::Setup("the fund has no balance account".to_owned()))?;
    ledger
        .create_transfers(as_caller(
            &session.token,
            proto::CreateTransfersRequest {
                transfers: vec![proto::NewTransfer {
                    id: draw.id.to_string(),
                    debit_account_id: balance,
                    credit_account_id: payable,
                    amount: Some(proto::Money {
                        amount: draw.amount.to_string(),
                    }),
                    category: proto::TransferCategory::SupportPayment as i32,
                    reference: draw.what_for.clone(),
                    note: String::new(),
                    pending: false,
                }],
            },
        )?)
        .await
        .map_err(refused)?;
    Ok(())
}

/// What the provider is told when the ledger refused the draw.
fn refusal_words(error: &CallError) -> String {
    match error {
        CallError::Refused {
            code: tonic::Code::FailedPrecondition,
            message,
            ..
        } if message.contains("overdrawn") || message.contains("short") => {
            "The fund does not hold that much. Draw at most what it holds.".to_owned()
        }
        CallError::Refused {
            code: tonic::Code::NotFound | tonic::Code::PermissionDenied,
            ..
        } => "You do not hold that fund, so you cannot draw from it.".to_owned(),
        CallError::Refused {
            code: tonic::Code::AlreadyExists,
            ..
        } => "This form was already used for another charge. Please open the dashboard again."
            .to_owned(),
        other => other.message().to_owned(),
    }
}

/// `POST /portal/provider/draws`: records the draw as the provider, then shows the
/// dashboard saying what was recorded.
pub async fn record(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in(&state, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if !csrf_matches(&headers, field(&fields, "csrf")) {
        return form_expired(Some(&viewer(&session)));
    }
    let provider = match provider_of(&session) {
        Ok(provider) => provider,
        Err(refused) => return refused,
    };
    let problem = |text: String| {
        let state = state.clone();
        let session = session.clone();
        async move {
            let text = format!("Your charge was not recorded: {text}");
            render(
                &state,
                &session,
                provider,
                Feedback::Problem(&text),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    let draw = match read(&fields) {
        Ok(draw) => draw,
        Err(text) => return problem(text).await,
    };
    match send(&state.services, &session, provider, &draw).await {
        Ok(()) => {
            let done = format!(
                "{} was recorded as drawn from the fund for {}. The person's statement shows it.",
                money_text(&draw.amount.to_string()),
                draw.what_for
            );
            render(
                &state,
                &session,
                provider,
                Feedback::Done(Some(&done)),
                StatusCode::OK,
            )
            .await
        }
        Err(error) if error.is_the_callers_to_fix() => problem(refusal_words(&error)).await,
        Err(error) => call_failed(
            Some(&viewer(&session)),
            &error,
            "record a provider's draw from a fund it holds",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(amount: &str, what_for: &str) -> Vec<(String, String)> {
        vec![
            ("draw_id".into(), Uuid::now_v7().to_string()),
            ("fund_id".into(), Uuid::now_v7().to_string()),
            ("amount".into(), amount.into()),
            ("for".into(), what_for.into()),
        ]
    }

    #[test]
    fn a_draw_is_an_amount_above_nothing_and_what_it_is_for() {
        let draw = read(&form("£312.50", " Support 1 to 28 December ")).expect("a draw");
        assert_eq!(draw.amount.to_string(), "312.50");
        assert_eq!(draw.what_for, "Support 1 to 28 December");
        for (amount, what_for, says) in [
            ("", "Support", "write the amount"),
            ("0.00", "Support", "write the amount"),
            ("-5.00", "Support", "write the amount"),
            ("12.345", "Support", "write the amount"),
            ("10.00", "", "say what the charge is for"),
            ("10.00", "line\nbreak", "on one line"),
        ] {
            let refused = read(&form(amount, what_for)).expect_err(says);
            assert!(refused.contains(says), "{amount:?} {what_for:?}: {refused}");
        }
        let mut no_id = form("10.00", "Support");
        no_id[0].1 = "not-an-id".into();
        assert!(read(&no_id).expect_err("no id").contains("out of date"));
    }
}
