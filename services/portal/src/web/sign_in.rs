//! Sign-in by token for local use: the person pastes the bearer token `sds token` (or the
//! identity provider) gave them; it is verified exactly as a gRPC call's token is, and kept
//! in the session cookie. Sign-out forgets it.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sds_platform::{OrgKind, Principal};
use serde::Deserialize;

use super::WebState;
use super::html::{escape, page};
use super::respond::{form_expired, html, see_other};
use super::session::{
    CSRF_COOKIE, SESSION_COOKIE, clear_cookie, cookie, csrf_matches, new_csrf_token, session,
    set_cookie, sign_in_csrf_matches,
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    token: String,
    csrf: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: String,
}

/// Where a principal's own page is.
pub fn home_of(principal: &Principal) -> &'static str {
    match principal.org_kind {
        OrgKind::Provider => "/portal/provider",
        OrgKind::Person => "/portal/me",
        OrgKind::Authority | OrgKind::Holder => "/portal/sign-in",
    }
}

/// `/portal`: the signed-in person's own page, or the sign-in page.
pub async fn start(State(state): State<WebState>, headers: HeaderMap) -> Response {
    match session(&state.authenticator, &headers) {
        Ok(session) => see_other(home_of(&session.principal), &[]),
        Err(_) => see_other("/portal/sign-in", &[]),
    }
}

/// The sign-in form, with a CSRF token of its own (kept if the browser has one already).
pub async fn show(headers: HeaderMap) -> Response {
    let (csrf, cookies) = csrf_for_form(&headers);
    html(StatusCode::OK, form_page(&csrf, None), &cookies)
}

/// Verifies the pasted token; on success keeps it in the session cookie with a new CSRF
/// token and goes to the caller's own page.
pub async fn submit(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if !sign_in_csrf_matches(&headers, &form.csrf) {
        return form_expired(None);
    }
    let token = form.token.trim();
    let refused = |reason: &str| {
        html(
            StatusCode::UNAUTHORIZED,
            form_page(&form.csrf, Some(reason)),
            &[],
        )
    };
    if token.is_empty() {
        return refused("Paste your sign-in token into the box, then press Sign in.");
    }
    // A token is base64url in three parts: anything else cannot be one, and must not reach
    // a cookie header.
    if !token
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
    {
        return refused(
            "That is not a sign-in token: a token has only letters, digits, dots, dashes and underscores.",
        );
    }
    let principal = match state.authenticator.verify(token) {
        Ok(principal) => principal,
        Err(status) => {
            tracing::info!(reason = %status.message(), "web sign-in refused");
            return refused(&format!(
                "We could not sign you in: {}.",
                status.message().trim_end_matches('.')
            ));
        }
    };
    if matches!(principal.org_kind, OrgKind::Authority | OrgKind::Holder) {
        return refused(
            "These pages are for providers and for the people they support. Staff of an authority and fund holders use the command line or their own systems.",
        );
    }
    see_other(
        home_of(&principal),
        &[
            set_cookie(SESSION_COOKIE, token),
            set_cookie(CSRF_COOKIE, &new_csrf_token()),
        ],
    )
}

/// Forgets the session (and its CSRF token) and goes back to the sign-in page.
pub async fn sign_out(headers: HeaderMap, Form(form): Form<CsrfOnly>) -> Response {
    if !csrf_matches(&headers, &form.csrf) {
        return form_expired(None);
    }
    see_other(
        "/portal/sign-in",
        &[clear_cookie(SESSION_COOKIE), clear_cookie(CSRF_COOKIE)],
    )
}

/// The browser's CSRF token, or a new one with the cookie that keeps it.
fn csrf_for_form(headers: &HeaderMap) -> (String, Vec<String>) {
    match cookie(headers, CSRF_COOKIE) {
        Some(existing) if existing.bytes().all(|byte| byte.is_ascii_alphanumeric()) => {
            (existing.to_owned(), Vec::new())
        }
        _ => {
            let fresh = new_csrf_token();
            let cookie = set_cookie(CSRF_COOKIE, &fresh);
            (fresh, vec![cookie])
        }
    }
}

fn form_page(csrf: &str, problem: Option<&str>) -> String {
    let problem = problem
        .map(|reason| {
            format!(
                "<p class=\"error\" id=\"token-error\">{}</p>\n",
                escape(reason)
            )
        })
        .unwrap_or_default();
    let described = if problem.is_empty() {
        "token-hint"
    } else {
        "token-hint token-error"
    };
    let body = format!(
        "<p>Sign in to see your page. This is for local use: paste the sign-in token you \
         were given.</p>\n{problem}\
         <form method=\"post\" action=\"/portal/sign-in\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label for=\"token\">Your sign-in token</label>\n\
         <p class=\"hint\" id=\"token-hint\">A long line of letters and dots. Keep it secret, like a password.</p>\n\
         <textarea id=\"token\" name=\"token\" rows=\"4\" autocomplete=\"off\" spellcheck=\"false\" \
         aria-describedby=\"{described}\" required></textarea>\n\
         <button type=\"submit\">Sign in</button>\n</form>",
        csrf = escape(csrf),
    );
    page("Sign in", None, &body)
}
