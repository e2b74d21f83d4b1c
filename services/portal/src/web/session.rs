//! Who is signed in, and the CSRF token their forms carry.
//!
//! The session is the platform's own bearer token, kept in an `HttpOnly`, `SameSite=Strict`
//! cookie and verified with the process's authenticator on every request, exactly as a
//! gRPC call's token is. Why the token itself rather than a server-side session keyed by a
//! random id: nothing to store or expire on the server (the token's own `exp` ends the
//! session, whichever replica answers), no session table another replica could miss, and
//! the portal can call the directory *as the provider*, so the directory applies its own
//! rules to the provider's answer instead of trusting the portal.
//!
//! CSRF: `SameSite=Strict` already keeps the cookies off requests that start on another
//! site; as a second, independent defence every form that changes something carries a
//! token made from the random `sds_csrf` cookie, which a page on another site can neither
//! read nor set. Once signed in, the form's token is bound to the session: a digest of the
//! cookie's random value and the session's token ([`form_token`]), so that a `sds_csrf`
//! cookie planted by someone else (from a sibling host, say) does not make their form
//! valid without the victim's session token, which never leaves its `HttpOnly` cookie.
//! Before sign-in there is no session, and the sign-in form repeats the cookie itself (a
//! double-submitted token). The cookie is made when the sign-in page is first shown and
//! made again at sign-in, so each session has its own.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use sds_platform::{Authenticator, Principal};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// The cookie holding the bearer token.
pub const SESSION_COOKIE: &str = "sds_session";
/// The cookie holding the CSRF token forms must repeat.
pub const CSRF_COOKIE: &str = "sds_csrf";

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    for header in headers.get_all(COOKIE) {
        let Ok(text) = header.to_str() else {
            continue;
        };
        for pair in text.split(';') {
            if let Some((key, value)) = pair.trim().split_once('=')
                && key == name
                && !value.is_empty()
            {
                return Some(value);
            }
        }
    }
    None
}

/// A fresh CSRF token: 244 random bits from two version 4 UUIDs (the operating system's
/// random source), in characters that need no escaping in a cookie or a form.
pub fn new_csrf_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// `Set-Cookie` for `name`, valid under `/portal` only, out of reach of scripts and of
/// requests that start on another site. No `Secure`: sign-in by token is for local use over
/// plain HTTP on loopback; a deployment behind TLS terminates it in front of this listener.
pub fn set_cookie(name: &str, value: &str) -> String {
    format!("{name}={value}; Path=/portal; HttpOnly; SameSite=Strict")
}

/// `Set-Cookie` that removes `name`.
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/portal; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The token the forms of a signed-in page carry: SHA-256 of the CSRF cookie's value and
/// the session's token, in hexadecimal.
pub fn form_token(csrf_cookie: &str, session_token: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"sds portal form\0");
    digest.update(csrf_cookie.as_bytes());
    digest.update(b"\0");
    digest.update(session_token.as_bytes());
    digest
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether a signed-in form's CSRF token is the one bound to the request's session and
/// CSRF cookie ([`form_token`]); false without either cookie.
pub fn csrf_matches(headers: &HeaderMap, submitted: &str) -> bool {
    let (Some(csrf), Some(session)) = (
        cookie(headers, CSRF_COOKIE),
        cookie(headers, SESSION_COOKIE),
    ) else {
        return false;
    };
    same_text(&form_token(csrf, session), submitted)
}

/// Whether the sign-in form's CSRF token is the cookie's (no session yet to bind it to).
pub fn sign_in_csrf_matches(headers: &HeaderMap, submitted: &str) -> bool {
    cookie(headers, CSRF_COOKIE).is_some_and(|expected| same_text(expected, submitted))
}

/// Compared in time independent of where they first differ, so the comparison tells an
/// attacker nothing.
fn same_text(expected: &str, submitted: &str) -> bool {
    if expected.len() != submitted.len() || expected.is_empty() {
        return false;
    }
    let mut difference = 0u8;
    for (left, right) in expected.bytes().zip(submitted.bytes()) {
        difference |= left ^ right;
    }
    difference == 0
}

/// A verified session: who the token speaks for, the token (to call other services as
/// them) and the CSRF token for the page's forms.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub token: String,
    pub csrf: String,
}

/// Why a request has no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoSession {
    /// No session cookie: the person has not signed in.
    NotSignedIn,
    /// The cookie's token no longer verifies (expired, or signed with another key); the
    /// message says why, in the authenticator's words.
    Ended(String),
}

/// The request's session, verified now with `authenticator`.
pub fn session(authenticator: &Authenticator, headers: &HeaderMap) -> Result<Session, NoSession> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Err(NoSession::NotSignedIn);
    };
    let principal = authenticator
        .verify(token)
        .map_err(|status| NoSession::Ended(status.message().to_owned()))?;
    // Without a CSRF cookie the forms carry an empty token, which nothing accepts: the
    // next sign-in makes one.
    let csrf = cookie(headers, CSRF_COOKIE)
        .map(|csrf| form_token(csrf, token))
        .unwrap_or_default();
    Ok(Session {
        principal,
        token: token.to_owned(),
        csrf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(cookies: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(cookies).unwrap());
        headers
    }

    #[test]
    fn cookies_are_found_by_exact_name_among_others() {
        let headers = headers("other=1; sds_csrf=abc; sds_session=tok.en.x");
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("tok.en.x"));
        assert_eq!(cookie(&headers, CSRF_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "sds"), None);
    }

    #[test]
    fn the_sign_in_form_token_must_equal_the_cookie_exactly() {
        let headers = headers("sds_csrf=abcdef");
        assert!(sign_in_csrf_matches(&headers, "abcdef"));
        assert!(!sign_in_csrf_matches(&headers, "abcdeg"));
        assert!(!sign_in_csrf_matches(&headers, "abc"));
        assert!(!sign_in_csrf_matches(&headers, ""));
        assert!(!sign_in_csrf_matches(&HeaderMap::new(), ""));
    }

    #[test]
    fn a_signed_in_form_token_is_bound_to_both_the_csrf_cookie_and_the_session() {
        let mine = headers("sds_csrf=abcdef; sds_session=my.session.token");
        let bound = form_token("abcdef", "my.session.token");
        assert_eq!(bound.len(), 64);
        assert!(csrf_matches(&mine, &bound));
        // The cookie's value alone, as a plain double submit would accept, is refused.
        assert!(!csrf_matches(&mine, "abcdef"));
        // A form made for another session, or with another CSRF cookie, is refused.
        assert!(!csrf_matches(
            &mine,
            &form_token("abcdef", "their.session.token")
        ));
        assert!(!csrf_matches(
            &mine,
            &form_token("planted", "my.session.token")
        ));
        // Without the session cookie nothing matches.
        assert!(!csrf_matches(&headers("sds_csrf=abcdef"), &bound));
        assert!(!csrf_matches(&mine, ""));
    }

    #[test]
    fn csrf_tokens_are_long_and_never_repeat() {
        let first = new_csrf_token();
        assert_eq!(first.len(), 64);
        assert_ne!(first, new_csrf_token());
    }
}
