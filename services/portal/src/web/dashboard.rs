//! The provider dashboard: what the provider has been told (its notifications, from the
//! portal's own store).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sds_platform::StoreContext as _;
use uuid::Uuid;

use super::WebState;
use super::access::{own_provider, provider_of, signed_in, viewer};
use super::html::{escape, page};
use super::notices::sentence;
use super::respond::{html, our_fault};
use super::session::Session;
use super::words::date;
use crate::domain::Subscriber;
use crate::store;

/// How many of the latest notifications the dashboard lists.
const NOTIFICATIONS_SHOWN: u32 = 50;

/// `/portal/provider`: the signed-in provider's own dashboard.
pub async fn own(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let session = match signed_in(&state, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    match provider_of(&session) {
        Ok(provider) => render(&state, &session, provider).await,
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
        Ok(provider) => render(&state, &session, provider).await,
        Err(refused) => refused,
    }
}

async fn render(state: &WebState, session: &Session, provider: Uuid) -> Response {
    let notifications = match notifications(state, provider).await {
        Ok(section) => section,
        Err(error) => {
            tracing::error!(error = %error, "read the provider's notifications");
            return our_fault(Some(&viewer(session)));
        }
    };
    let body = format!(
        "<nav aria-label=\"On this page\"><ul>\
         <li><a href=\"#notifications\">What you have been told</a></li></ul></nav>\n\
         {notifications}"
    );
    html(
        StatusCode::OK,
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
