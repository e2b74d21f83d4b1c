//! Answers every page gives the same way: HTML with headers that keep it private and inert
//! (no scripts at all, not cached, not framed), redirects after a form, and the pages for
//! "sign in first", "not yours" and "our fault".

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::html::{Viewer, escape, page};

/// The pages run no script: the policy allows the portal's own stylesheet, forms posted
/// back to the portal, and nothing else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `body` as an HTML page with `status`, and `cookies` set.
pub fn html(status: StatusCode, body: String, cookies: &[String]) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(headers);
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(SET_COOKIE, value);
        }
    }
    response
}

fn secure(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    // Pages show a person's plan and money or a provider's business: never kept by a
    // shared cache or the browser's back-forward store.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// 303 See Other to `location` (a path of ours), setting `cookies`: the answer to a form
/// that worked, so that reloading the next page does not send the form again.
pub fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(LOCATION, value);
    }
    secure(headers);
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(SET_COOKIE, value);
        }
    }
    response
}

/// 403 with a page that says plainly why and where to go instead.
pub fn forbidden(viewer: Option<&Viewer<'_>>, reason: &str) -> Response {
    let body = format!(
        "<p>{}</p>\n<p><a href=\"/portal\">Go to your own page</a>.</p>",
        escape(reason)
    );
    html(
        StatusCode::FORBIDDEN,
        page("You cannot see this page", viewer, &body),
        &[],
    )
}

/// 403 for a form whose CSRF token is missing or wrong.
pub fn form_expired(viewer: Option<&Viewer<'_>>) -> Response {
    html(
        StatusCode::FORBIDDEN,
        page(
            "This form has expired",
            viewer,
            "<p>We did not act on this form because it did not come from this page as \
             we sent it. Please go back, reload the page and try again.</p>",
        ),
        &[],
    )
}

/// 503 for a database or service that is not answering just now: nothing went wrong with
/// the request, and trying again shortly may work.
pub fn try_again_later(viewer: Option<&Viewer<'_>>) -> Response {
    let mut response = html(
        StatusCode::SERVICE_UNAVAILABLE,
        page(
            "Please try again in a moment",
            viewer,
            "<p>Part of the service is not answering just now, so nothing was done. Please \
             try again in a minute or two.</p>",
        ),
        &[],
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("30"));
    response
}

/// 429 for a caller over its rate limit (`SDS_RATE_LIMIT_PER_SECOND`), saying how long to
/// wait, in whole seconds for `Retry-After`.
pub fn too_many_requests(viewer: Option<&Viewer<'_>>, wait_ms: u64) -> Response {
    let seconds = wait_ms.div_ceil(1000).max(1);
    let mut response = html(
        StatusCode::TOO_MANY_REQUESTS,
        page(
            "Please slow down",
            viewer,
            &format!(
                "<p>We have had more requests from you than we take at once, so nothing was \
                 done. Please wait {seconds} second{} and try again.</p>",
                if seconds == 1 { "" } else { "s" }
            ),
        ),
        &[],
    );
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// 413 for a request larger than the pages take.
pub fn too_large(viewer: Option<&Viewer<'_>>) -> Response {
    html(
        StatusCode::PAYLOAD_TOO_LARGE,
        page(
            "This file is too large",
            viewer,
            "<p>We take files of up to 4 MB. Please split the file into smaller ones and send \
             each one.</p>",
        ),
        &[],
    )
}

/// The page for a call to another service that failed for a reason that is not the
/// caller's: 503 when it is away for now, else 500 with the cause logged once here, saying
/// `what` was being done.
pub fn call_failed(
    viewer: Option<&Viewer<'_>>,
    error: &super::calls::CallError,
    what: &'static str,
) -> Response {
    if error.is_unavailable() {
        return try_again_later(viewer);
    }
    tracing::error!(error = %error, what, "a call to another service failed");
    our_fault(viewer)
}

/// 500 for what went wrong on our side; the cause is logged once where it happened.
pub fn our_fault(viewer: Option<&Viewer<'_>>) -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        page(
            "Sorry, something went wrong",
            viewer,
            "<p>Something went wrong on our side. Please try again in a few minutes.</p>",
        ),
        &[],
    )
}
