//! Who may see which page, decided from the verified token alone: a provider sees its own
//! dashboard, a person their own page, and nobody else's whatever the URL says. The rules
//! are the gRPC ones (see `domain::subscriber`): a provider is known by its organisation
//! id, a person by the `person_id` claim.

use axum::http::HeaderMap;
use axum::response::Response;
use sds_platform::{OrgKind, Principal};
use uuid::Uuid;

use super::WebState;
use super::html::Viewer;
use super::respond::{forbidden, see_other, too_many_requests};
use super::session::{CSRF_COOKIE, NoSession, SESSION_COOKIE, Session, clear_cookie, session};

/// The request's session, or the answer that sends the browser to sign in (and forgets a
/// token that no longer verifies), or, for someone over their rate limit, the page that
/// asks them to wait. A page calls other services as the portal, which is not limited, so
/// the page itself is what counts against the person.
pub fn signed_in(state: &WebState, headers: &HeaderMap) -> Result<Session, Response> {
    match session(&state.authenticator, headers) {
        Ok(session) => match state.authenticator.admit(&session.principal) {
            Ok(()) => Ok(session),
            Err(status) => {
                let wait_ms = status
                    .metadata()
                    .get("grpc-retry-pushback-ms")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse().ok())
                    .unwrap_or(1000);
                Err(too_many_requests(Some(&viewer(&session)), wait_ms))
            }
        },
        Err(NoSession::NotSignedIn) => Err(see_other("/portal/sign-in", &[])),
        Err(NoSession::Ended(reason)) => {
            tracing::info!(%reason, "web session ended");
            Err(see_other(
                "/portal/sign-in",
                &[clear_cookie(SESSION_COOKIE), clear_cookie(CSRF_COOKIE)],
            ))
        }
    }
}

/// How the header names who is signed in: the kind of organisation, never a person's id.
pub fn viewer_name(principal: &Principal) -> &'static str {
    match principal.org_kind {
        OrgKind::Provider => "a provider",
        OrgKind::Person => "yourself",
        OrgKind::Authority => "authority staff",
        OrgKind::Holder => "a fund holder",
    }
}

pub fn viewer(session: &Session) -> Viewer<'_> {
    Viewer {
        signed_in_as: viewer_name(&session.principal),
        csrf: &session.csrf,
    }
}

/// The provider the session speaks for, or the 403 page for anyone else.
pub fn provider_of(session: &Session) -> Result<Uuid, Response> {
    let refuse = |reason: &str| Err(forbidden(Some(&viewer(session)), reason));
    if session.principal.org_kind != OrgKind::Provider {
        return refuse(
            "The provider dashboard is only for providers. You are signed in as someone else.",
        );
    }
    match Uuid::parse_str(&session.principal.org_id) {
        Ok(id) => Ok(id),
        Err(_) => {
            refuse("Your sign-in token does not name a provider we know. Ask for a new token.")
        }
    }
}

/// The provider whose dashboard `asked` names, when it is the session's own.
pub fn own_provider(session: &Session, asked: &str) -> Result<Uuid, Response> {
    let own = provider_of(session)?;
    // Compared as UUIDs so the case of the URL does not matter.
    if Uuid::parse_str(asked).ok() == Some(own) {
        Ok(own)
    } else {
        Err(forbidden(
            Some(&viewer(session)),
            "This is another provider's dashboard. You can only see your own.",
        ))
    }
}
