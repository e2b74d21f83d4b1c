//! The provider dashboard: the open requests it matches with a form to answer each (see
//! [`super::requests`]), its active packages and their upcoming payments
//! ([`super::packages`]), its remittances ([`super::remittances`]), the forms to report
//! what it delivered ([`super::actuals`]), and what it has been told (its notifications,
//! from the portal's own store). The parts are read at the same time, and a part that
//! cannot be read says so without hiding the rest.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sds_platform::StoreContext as _;
use uuid::Uuid;

use super::WebState;
use super::access::{own_provider, provider_of, signed_in, viewer};
use super::html::{escape, page};
use super::notices::sentence;
use super::respond::{html, our_fault, try_again_later};
use super::session::Session;
use super::words::date;
use super::{actuals, draws, packages, remittances, requests};
use crate::domain::Subscriber;
use crate::store;

/// How many of the latest notifications the dashboard lists.
const NOTIFICATIONS_SHOWN: u32 = 50;

/// What the page was sent after a form, read from the query as pairs so that anything
/// else there (a repeated or unknown field) is ignored rather than answered with an error:
/// `sent=1` once an answer went to the directory, `requests=TOKEN` for a later page of
/// open requests (the first of each is taken).
#[derive(Debug, Default)]
pub struct Shown {
    sent: bool,
    requests: Option<String>,
}

impl Shown {
    fn of(pairs: Vec<(String, String)>) -> Shown {
        let first = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        Shown {
            sent: first("sent").is_some(),
            requests: first("requests"),
        }
    }
}

/// `/portal/provider`: the signed-in provider's own dashboard.
pub async fn own(
    State(state): State<WebState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    // A query that cannot be read at all is a first visit: the page, not an error.
    let shown = Shown::of(query.map(|Query(pairs)| pairs).unwrap_or_default());
    let session = match signed_in(&state, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let done = shown
        .sent
        .then_some("Your answer was sent. The directory has it, and the request below shows it.");
    match provider_of(&session) {
        Ok(provider) => {
            render_page(
                &state,
                &session,
                provider,
                Feedback::Done(done),
                StatusCode::OK,
                shown.requests.as_deref().unwrap_or_default(),
            )
            .await
        }
        Err(refused) => refused,
    }
}

/// `/portal/providers/{id}`: the same dashboard, for its own provider only.
pub async fn of(
    State(state): State<WebState>,
    Path(provider_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let session = match signed_in(&state, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    match own_provider(&session, &provider_id) {
        Ok(provider) => {
            render(
                &state,
                &session,
                provider,
                Feedback::Done(None),
                StatusCode::OK,
            )
            .await
        }
        Err(refused) => refused,
    }
}

/// What the page says at its top about the form just sent.
#[derive(Debug, Clone, Copy)]
pub enum Feedback<'a> {
    Done(Option<&'a str>),
    Problem(&'a str),
    /// A longer account (an upload's outcome), as HTML built from escaped values.
    Outcome(&'a str),
}

/// The dashboard of `provider`, answered with `status`, with the first page of requests.
pub async fn render(
    state: &WebState,
    session: &Session,
    provider: Uuid,
    feedback: Feedback<'_>,
    status: StatusCode,
) -> Response {
    render_page(state, session, provider, feedback, status, "").await
}

/// The dashboard of `provider` with the page of open requests from `requests_page` (the
/// directory's page token; empty for the first).
pub async fn render_page(
    state: &WebState,
    session: &Session,
    provider: Uuid,
    feedback: Feedback<'_>,
    status: StatusCode,
    requests_page: &str,
) -> Response {
    let feedback = match feedback {
        Feedback::Done(Some(done)) => {
            format!("<p class=\"notice\" role=\"status\">{}</p>\n", escape(done))
        }
        Feedback::Done(None) => String::new(),
        Feedback::Problem(problem) => {
            format!(
                "<p class=\"error\" role=\"alert\">{}</p>\n",
                escape(problem)
            )
        }
        Feedback::Outcome(outcome) => outcome.to_owned(),
    };
    let (open, active, remittances) = tokio::join!(
        requests::open_requests(&state.services, session, requests_page),
        packages::active(&state.services, session),
        remittances::latest(state, session, provider),
    );
    let active = active.map_err(|error| {
        tracing::warn!(error = %error, "list the provider's active packages");
    });
    let remittances = remittances.map_err(|error| {
        tracing::error!(error = %error, "read the provider's remittances");
    });
    let requests = match open {
        Ok(open) => requests::section(&open, &session.csrf),
        // A page token the directory does not recognise: a changed or old link.
        Err(error) if !requests_page.is_empty() && error.is_the_callers_to_fix() => {
            requests::page_not_found_section()
        }
        Err(error) => {
            tracing::warn!(error = %error, "list the provider's package requests");
            "<section aria-labelledby=\"requests\">\n<h2 id=\"requests\">Open requests you match</h2>\n\
             <p>We cannot show your requests just now. Please try again in a few minutes.</p>\n</section>\n"
                .to_owned()
        }
    };
    let notifications = match notifications(state, provider).await {
        Ok(section) => section,
        Err(error) if error.is_unavailable() => return try_again_later(Some(&viewer(session))),
        Err(error) => {
            tracing::error!(error = %error, "read the provider's notifications");
            return our_fault(Some(&viewer(session)));
        }
    };
    let body = format!(
        "<nav aria-label=\"On this page\"><ul>\
         <li><a href=\"#requests\">Open requests you match</a></li>\
         <li><a href=\"#packages\">Your active packages</a></li>\
         <li><a href=\"#payments\">Upcoming payments</a></li>{draws_link}\
         <li><a href=\"#remittances\">Remittances</a></li>\
         <li><a href=\"#actuals\">Report what you delivered</a></li>\
         <li><a href=\"#notifications\">What you have been told</a></li></ul></nav>\n\
         {feedback}{requests}{packages}{payments}{draws}{remittances}{actuals}{notifications}",
        packages = packages::section(&active),
        draws = draws::section(&active, &session.csrf),
        draws_link = draws::nav_link(&active),
        payments = packages::upcoming_section(&active, state.clock.today()),
        remittances = remittances::section(&remittances),
        actuals = actuals::section(&active, &session.csrf),
    );
    html(
        status,
        page("Your provider dashboard", Some(&viewer(session)), &body),
        &[],
    )
}

async fn notifications(
    state: &WebState,
    provider: Uuid,
) -> Result<String, sds_platform::StoreError> {
    let mut connection = state
        .pool
        .acquire()
        .await
        .operation("database connection")?;
    let kept = store::latest_kept(
        &mut connection,
        Subscriber::provider(provider),
        NOTIFICATIONS_SHOWN,
    )
    .await?;
    let mut section = String::from(
        "<section aria-labelledby=\"notifications\">\n\
         <h2 id=\"notifications\">What you have been told</h2>\n",
    );
    if kept.is_empty() {
        section.push_str(
            "<p>Nothing yet. New requests and changes to your packages will show here.</p>\n",
        );
    } else {
        section.push_str("<ol reversed>\n");
        for notification in &kept {
            section.push_str(&format!(
                "<li><p><strong>{day}</strong>: {text}</p></li>\n",
                day = escape(&date(notification.occurred_at.date_naive())),
                text = sentence(&notification.notice),
            ));
        }
        section.push_str("</ol>\n");
    }
    section.push_str("</section>\n");
    Ok(section)
}
