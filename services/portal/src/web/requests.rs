//! The provider's open package requests, as the directory shows them to this provider
//! (anonymised, matched to its areas and service types), each with a form to offer or
//! decline; the answer goes to the directory's RespondToPackageRequest as the provider
//! itself, so the directory applies its own rules to it.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sds_proto::v1 as proto;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use serde::Deserialize;
use uuid::Uuid;

use super::WebState;
use super::access::{provider_of, signed_in, viewer};
use super::calls::{CallError, Services, as_caller};
use super::dashboard::Feedback;
use super::html::escape;
use super::respond::{call_failed, form_expired, see_other};
use super::session::{Session, csrf_matches};
use super::words::{iso_date, money_text};

/// Open requests shown on one page of the dashboard, newest first.
const REQUESTS_PER_PAGE: u32 = 25;

/// One page of the open requests the directory shows this provider.
#[derive(Debug, Clone, Default)]
pub struct OpenRequests {
    pub requests: Vec<proto::PackageRequest>,
    /// Whether this is a later page than the first.
    pub later_page: bool,
    /// The directory's token for the page after this one, when there is one.
    pub next_page: Option<String>,
}

/// The page of the requests the directory shows this provider that are still open, from
/// `page_token` (empty for the first page).
pub async fn open_requests(
    services: &Services,
    session: &Session,
    page_token: &str,
) -> Result<OpenRequests, CallError> {
    let mut client = DirectoryServiceClient::new(Services::channel(&services.directory)?);
    let listed = client
        .list_package_requests(as_caller(
            &session.token,
            proto::ListPackageRequestsRequest {
                status: proto::PackageRequestStatus::Open as i32,
                page: Some(proto::PageRequest {
                    page_size: REQUESTS_PER_PAGE,
                    page_token: page_token.to_owned(),
                }),
            },
        )?)
        .await
        .map_err(|status| CallError::refused("directory", status))?
        .into_inner();
    Ok(OpenRequests {
        requests: listed.requests,
        later_page: !page_token.is_empty(),
        next_page: listed
            .page
            .map(|page| page.next_page_token)
            .filter(|token| !token.is_empty()),
    })
}

/// `text` for a URL's query: letters, digits and `-._~` as they are, every other byte
/// percent-encoded.
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The section listing a page of open requests, each with its answer form, and links to
/// the next page and back to the first.
pub fn section(open: &OpenRequests, csrf: &str) -> String {
    let mut html = String::from(
        "<section aria-labelledby=\"requests\">\n<h2 id=\"requests\">Open requests you match</h2>\n",
    );
    if open.requests.is_empty() && !open.later_page {
        html.push_str("<p>There are no open requests in your areas and services just now.</p>\n");
    } else if open.requests.is_empty() {
        html.push_str("<p>There are no more open requests.</p>\n");
    }
    for request in &open.requests {
        html.push_str(&one_request(request, csrf));
    }
    let mut links = Vec::new();
    if let Some(next) = &open.next_page {
        links.push(format!(
            "<li><a href=\"/portal/provider?requests={}#requests\">More open requests</a></li>",
            escape(&query_value(next))
        ));
    }
    if open.later_page {
        links.push(
            "<li><a href=\"/portal/provider#requests\">Back to the newest requests</a></li>"
                .to_owned(),
        );
    }
    if !links.is_empty() {
        html.push_str(&format!(
            "<nav aria-label=\"More requests\"><ul>{}</ul></nav>\n",
            links.concat()
        ));
    }
    html.push_str("</section>\n");
    html
}

/// The section when the page asked for cannot be shown: the link was changed or is old.
pub fn page_not_found_section() -> String {
    "<section aria-labelledby=\"requests\">\n<h2 id=\"requests\">Open requests you match</h2>\n\
     <p>That page of requests cannot be shown. <a href=\"/portal/provider#requests\">See the newest requests</a>.</p>\n</section>\n"
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_token_is_carried_in_a_link_percent_encoded() {
        assert_eq!(query_value("MTo-_.~"), "MTo-_.~");
        assert_eq!(query_value("a b&c=\"<"), "a%20b%26c%3D%22%3C");
    }
}

fn one_request(request: &proto::PackageRequest, csrf: &str) -> String {
    let id = escape(&request.id);
    let content = request.content.clone().unwrap_or_default();
    let amount = match &content.amount {
        Some(proto::package_request_content::Amount::HoursPerWeek(hours)) => {
            format!("{} hours a week", escape(hours))
        }
        Some(proto::package_request_content::Amount::WeeklyBudget(budget)) => {
            format!("{} a week", escape(&money_text(&budget.amount)))
        }
        None => "not given".to_owned(),
    };
    let answered = match &request.your_answer {
        Some(answer) if answer.kind == proto::PackageResponseKind::Offer as i32 => {
            let price = match &answer.price {
                Some(proto::package_offer::Price::WeeklyPrice(price)) => {
                    format!("{} a week", money_text(&price.amount))
                }
                Some(proto::package_offer::Price::HourlyRate(rate)) => {
                    format!("{} an hour", money_text(&rate.amount))
                }
                None => "no price".to_owned(),
            };
            format!(
                "<p class=\"notice\">You offered {price}, starting {start}. Your note: {note}</p>\n",
                price = escape(&price),
                start = escape(&iso_date(
                    &answer.earliest_start.clone().unwrap_or_default().iso
                )),
                note = escape(&answer.note),
            )
        }
        Some(answer) if answer.kind == proto::PackageResponseKind::Decline as i32 => format!(
            "<p class=\"notice\">You declined this request. Your note: {}</p>\n",
            escape(&answer.note)
        ),
        _ => String::new(),
    };
    let start = iso_date(&content.start_date.clone().unwrap_or_default().iso);
    let closing = iso_date(&content.closing_date.clone().unwrap_or_default().iso);
    format!(
        "<article class=\"request\" aria-labelledby=\"request-{id}\">\n\
         <h3 id=\"request-{id}\">Request in {locality}</h3>\n\
         <p>{needs}</p>\n\
         <dl>\n<dt>Kind of support</dt><dd>{types}</dd>\n<dt>How much</dt><dd>{amount}</dd>\n\
         <dt>Starts</dt><dd>{start}</dd>\n<dt>Offers close</dt><dd>{closing}</dd>\n</dl>\n\
         {answered}\
         <form method=\"post\" action=\"/portal/provider/answers\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <input type=\"hidden\" name=\"request_id\" value=\"{id}\">\n\
         <fieldset>\n<legend>Your answer</legend>\n\
         <label class=\"choice\"><input type=\"radio\" name=\"answer\" value=\"offer\" checked> Offer</label>\n\
         <label class=\"choice\"><input type=\"radio\" name=\"answer\" value=\"decline\"> Decline</label>\n\
         </fieldset>\n\
         <fieldset>\n<legend>Your price (for an offer)</legend>\n\
         <label class=\"choice\"><input type=\"radio\" name=\"price_kind\" value=\"weekly\" checked> A price a week</label>\n\
         <label class=\"choice\"><input type=\"radio\" name=\"price_kind\" value=\"hourly\"> A rate an hour</label>\n\
         <label for=\"price-{id}\">Amount in pounds</label>\n\
         <p class=\"hint\" id=\"price-hint-{id}\">For example 240.00</p>\n\
         <input type=\"text\" inputmode=\"decimal\" id=\"price-{id}\" name=\"price\" aria-describedby=\"price-hint-{id}\">\n\
         </fieldset>\n\
         <label for=\"start-{id}\">Earliest day you can start (for an offer)</label>\n\
         <input type=\"date\" id=\"start-{id}\" name=\"earliest_start\">\n\
         <label for=\"note-{id}\">Note (optional, up to 1000 characters)</label>\n\
         <textarea id=\"note-{id}\" name=\"note\" rows=\"3\" maxlength=\"1000\"></textarea>\n\
         <button type=\"submit\">Send your answer</button>\n</form>\n</article>\n",
        locality = escape(&content.locality),
        needs = escape(&content.needs_summary),
        types = escape(&content.service_types.join(", ")),
        csrf = escape(csrf),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnswerForm {
    csrf: String,
    request_id: String,
    answer: String,
    price_kind: String,
    price: String,
    earliest_start: String,
    note: String,
}

/// The answer as the directory takes it, or what is wrong with the form.
fn respond_request(
    provider: Uuid,
    form: &AnswerForm,
) -> Result<proto::RespondToPackageRequestRequest, String> {
    let mut request = proto::RespondToPackageRequestRequest {
        request_id: form.request_id.trim().to_owned(),
        provider_id: provider.to_string(),
        note: form.note.trim().to_owned(),
        ..Default::default()
    };
    match form.answer.as_str() {
        "decline" => {
            request.kind = proto::PackageResponseKind::Decline as i32;
        }
        "offer" => {
            request.kind = proto::PackageResponseKind::Offer as i32;
            // People write "£240" as often as "240.00"; the directory checks the rest.
            let amount = form.price.trim().trim_start_matches('£').replace(',', "");
            if amount.is_empty() {
                return Err("Write your price in pounds, for example 240.00.".to_owned());
            }
            let money = proto::Money { amount };
            request.price = Some(match form.price_kind.as_str() {
                "hourly" => proto::respond_to_package_request_request::Price::HourlyRate(money),
                _ => proto::respond_to_package_request_request::Price::WeeklyPrice(money),
            });
            if form.earliest_start.trim().is_empty() {
                return Err("Choose the earliest day you can start.".to_owned());
            }
            request.earliest_start = Some(proto::Date {
                iso: form.earliest_start.trim().to_owned(),
            });
        }
        _ => return Err("Choose whether you offer or decline.".to_owned()),
    }
    Ok(request)
}

/// `POST /portal/provider/answers`: sends the answer as the provider, then shows the
/// dashboard again with what happened.
pub async fn answer(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<AnswerForm>,
) -> Response {
    let session = match signed_in(&state, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if !csrf_matches(&headers, &form.csrf) {
        return form_expired(Some(&viewer(&session)));
    }
    let provider = match provider_of(&session) {
        Ok(provider) => provider,
        Err(refused) => return refused,
    };
    let request = match respond_request(provider, &form) {
        Ok(request) => request,
        Err(problem) => {
            return super::dashboard::render(
                &state,
                &session,
                provider,
                Feedback::Problem(&problem),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    match send(&state.services, &session, request).await {
        Ok(()) => see_other("/portal/provider?sent=1", &[]),
        Err(error) if error.is_the_callers_to_fix() => {
            let problem = format!("Your answer was not sent: {}", error.message());
            super::dashboard::render(
                &state,
                &session,
                provider,
                Feedback::Problem(&problem),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(error) => call_failed(
            Some(&viewer(&session)),
            &error,
            "send a provider's answer to the directory",
        ),
    }
}

async fn send(
    services: &Services,
    session: &Session,
    request: proto::RespondToPackageRequestRequest,
) -> Result<(), CallError> {
    let mut client = DirectoryServiceClient::new(Services::channel(&services.directory)?);
    client
        .respond_to_package_request(as_caller(&session.token, request)?)
        .await
        .map_err(|status| CallError::refused("directory", status))?;
    Ok(())
}
