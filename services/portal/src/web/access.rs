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
use super::respond::{forbidden, see_other};
use super::session::{CSRF_COOKIE, NoSession, SESSION_COOKIE, Session, clear_cookie, session};

/// The request's session, or the answer that sends the browser to sign in (and forgets a
/// token that no longer verifies).
pub fn signed_in(state: &WebState, headers: &HeaderMap) -> Result<Session, Response> {
    match session(&state.authenticator, headers) {
        Ok(session) => Ok(session),
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
